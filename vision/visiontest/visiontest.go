package visiontest

import (
	"fmt"
	"os"
	"testing"

	"github.com/checkpoint-edge/checkpoint/vision"
)

// Missing fails the test in CI and skips it elsewhere.
func Missing(tb testing.TB, err error) {
	tb.Helper()
	if os.Getenv("CI") != "" {
		tb.Fatalf("prerequisite missing in CI: %v", err)
	}
	tb.Skipf("prerequisite missing: %v", err)
}

// Models is FindModels for tests.
func Models(tb testing.TB) string {
	tb.Helper()
	d, err := vision.FindModels()
	if err != nil {
		Missing(tb, err)
	}
	return d
}

// Faces is FindFaces for tests.
func Faces(tb testing.TB) string {
	tb.Helper()
	d, err := vision.FindFaces()
	if err != nil {
		Missing(tb, err)
	}
	return d
}

// ShapePredictor returns Debian's 68-point landmark model path.
func ShapePredictor(tb testing.TB) string {
	tb.Helper()
	const p = "/usr/share/dlib/shape_predictor_68_face_landmarks.dat"
	if _, err := os.Stat(p); err != nil {
		Missing(tb, fmt.Errorf("landmark model: %w (install libdlib-data)", err))
	}
	return p
}

// Reference is one official descriptor of the go-face reference set.
type Reference = vision.Sample

// ReadIdols reads idols.json (see vision.ReadGoFaceSet); Label is "name, band".
func ReadIdols(path string) ([]Reference, error) { return vision.ReadGoFaceSet(path) }

// ONNXModel is FindONNXModel for tests: the MobileFaceNet metadata file.
func ONNXModel(tb testing.TB) string {
	tb.Helper()
	p, err := vision.FindONNXModel()
	if err != nil {
		Missing(tb, err)
	}
	return p
}

// LFWCalib is FindLFWCalib for tests.
func LFWCalib(tb testing.TB) string {
	tb.Helper()
	d, err := vision.FindLFWCalib()
	if err != nil {
		Missing(tb, err)
	}
	return d
}
