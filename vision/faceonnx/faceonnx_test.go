package faceonnx

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/checkpoint-edge/checkpoint/vision"
	"github.com/checkpoint-edge/checkpoint/vision/facedlib"
	"github.com/checkpoint-edge/checkpoint/vision/modelconv"
	"github.com/checkpoint-edge/checkpoint/vision/visiontest"
)

func detector(t testing.TB) *facedlib.Recognizer {
	t.Helper()
	d, err := facedlib.New(facedlib.Options{ModelsDir: visiontest.Models(t), ShapePredictor: visiontest.ShapePredictor(t),
		NoEmbedding: true, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func recognizer(t testing.TB, meta string) *Recognizer {
	t.Helper()
	r, err := New(Options{Meta: meta, Analyzer: detector(t), Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func photo(t testing.TB, name string) vision.Image {
	t.Helper()
	img, err := vision.LoadImage(filepath.Join(visiontest.Faces(t), name))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestConversionMatchesTFLite runs a real aligned face through the
// converted network in OpenCV and through the TFLite graph's own semantics
// (modelconv.Interpret on the original file): the embeddings must agree.
func TestConversionMatchesTFLite(t *testing.T) {
	metaPath := visiontest.ONNXModel(t)
	meta, err := vision.ReadModelMeta(metaPath)
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(filepath.Dir(meta.ModelPath()), "MobileFaceNet.tflite")
	tfl, err := os.ReadFile(src)
	if err != nil {
		visiontest.Missing(t, err)
	}
	m, err := modelconv.ReadTFLite(tfl)
	if err != nil {
		t.Fatal(err)
	}
	faces, err := detector(t).Analyze(context.Background(), photo(t, "tzuyu.jpg"))
	if err != nil || len(faces) == 0 {
		t.Fatalf("%d faces, %v", len(faces), err)
	}
	in, err := vision.AlignFace(photo(t, "tzuyu.jpg"), faces[0].Landmarks, meta.Template(), 112, 112)
	if err != nil {
		t.Fatal(err)
	}
	nhwc := make([]float32, 112*112*3)
	nchw := make([]float32, len(nhwc))
	for y := 0; y < 112; y++ {
		for x := 0; x < 112; x++ {
			for c := 0; c < 3; c++ {
				v := (float32(in.Pix[(y*112+x)*3+c]) - 127.5) / 128
				nhwc[(y*112+x)*3+c] = v
				nchw[(c*112+y)*112+x] = v
			}
		}
	}
	want, err := modelconv.Interpret(m, nhwc)
	if err != nil {
		t.Fatal(err)
	}
	onnx, err := os.ReadFile(meta.ModelPath())
	if err != nil {
		t.Fatal(err)
	}
	net, err := LoadNet(onnx)
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	got, err := net.Forward("input", "embeddings", nchw, 1, 3, 112, 112, 192)
	if err != nil {
		t.Fatal(err)
	}
	var diff, norm float64
	for i := range want {
		diff = math.Max(diff, math.Abs(float64(got[i]-want[i])))
		norm += float64(want[i]) * float64(want[i])
	}
	t.Logf("max |OpenCV − TFLite| = %.2g over 192 values of norm %.2f", diff, math.Sqrt(norm))
	if diff > 1e-3 || norm < 1 {
		t.Errorf("converted model differs from the TFLite graph by %.3g (norm %.2f)", diff, math.Sqrt(norm))
	}
}

func TestRecognizer(t *testing.T) {
	r := recognizer(t, visiontest.ONNXModel(t))
	ctx := context.Background()
	embed := func(name string) vision.Face {
		fs, err := r.Faces(ctx, photo(t, name))
		if err != nil || len(fs) != 1 {
			t.Fatalf("%s: %d faces, %v", name, len(fs), err)
		}
		return fs[0]
	}
	a, b, c := embed("tzuyu.jpg"), embed("tzuyu2.jpg"), embed("joy.jpg")
	info := r.Info()
	if info.Kind != "onnx" || info.Dim != 192 || !info.Normalized || !info.Flip || info.Calibration == nil || a.ModelID != r.ModelID() {
		t.Errorf("info %+v, face model %q", info, a.ModelID)
	}
	if a.Input.W != 112 || a.Input.H != 112 || a.Chip.W != vision.ChipSize {
		t.Errorf("input %dx%d chip %dx%d", a.Input.W, a.Input.H, a.Chip.W, a.Chip.H)
	}
	var n float64
	for _, v := range a.Descriptor {
		n += float64(v) * float64(v)
	}
	if len(a.Descriptor) != 192 || math.Abs(n-1) > 1e-4 {
		t.Errorf("descriptor of %d values, norm² %.5f", len(a.Descriptor), n)
	}
	same, _ := vision.Compare(a, b)
	diff, _ := vision.Compare(a, c)
	t.Logf("tzuyu–tzuyu2 %.3f, tzuyu–joy %.3f", same, diff)
	if same >= diff {
		t.Errorf("same person %.3f not closer than different people %.3f", same, diff)
	}
	// Embed of an analysed face gives the descriptor Faces gave.
	fs, err := r.Analyze(ctx, photo(t, "tzuyu.jpg"))
	if err != nil || len(fs) != 1 {
		t.Fatal(err)
	}
	v, err := r.Embed(ctx, fs[0])
	if err != nil || vision.Distance(v, a.Descriptor) > 1e-5 {
		t.Errorf("Embed after Analyze differs by %v (%v)", vision.Distance(v, a.Descriptor), err)
	}
	// A face without landmarks to align cannot be embedded.
	if _, err := r.Embed(ctx, vision.Face{Chip: a.Chip}); !errors.Is(err, vision.ErrImage) {
		t.Errorf("unaligned face: %v", err)
	}
	if _, err := r.Faces(ctx, grey(320, 240)); !errors.Is(err, vision.ErrNoFace) {
		t.Errorf("blank image: %v", err)
	}
	r.Close()
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := r.Embed(ctx, fs[0]); !errors.Is(err, vision.ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}

// TestBadModels: a model that is not what its metadata says is refused at
// load with ErrModel, never a crash inside OpenCV.
func TestBadModels(t *testing.T) {
	metaPath := visiontest.ONNXModel(t)
	good, err := vision.ReadModelMeta(metaPath)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.onnx")
	os.WriteFile(garbage, []byte("this is not a protobuf of any model"), 0o644)
	cases := map[string]func(m *vision.ModelMeta){
		"garbage network":   func(m *vision.ModelMeta) { m.File, m.SHA256 = garbage, "" },
		"checksum mismatch": func(m *vision.ModelMeta) { m.SHA256 = "00" + m.SHA256[2:] },
		"wrong output name": func(m *vision.ModelMeta) { m.Output.Name = "logits" },
		"wrong output size": func(m *vision.ModelMeta) { m.Output.Dim = 512 },
		"wrong input size":  func(m *vision.ModelMeta) { m.Input.Width, m.Input.Height = 96, 96; m.Alignment.Points[1][0] = 70 },
		"missing network":   func(m *vision.ModelMeta) { m.File = filepath.Join(dir, "none.onnx") },
	}
	det := detector(t)
	for name, mutate := range cases {
		m := *good
		m.File = good.ModelPath()
		mutate(&m)
		b, _ := json.Marshal(&m)
		p := filepath.Join(dir, name+".json")
		os.WriteFile(p, b, 0o644)
		r, err := New(Options{Meta: p, Analyzer: det, Workers: 1})
		if !errors.Is(err, vision.ErrModel) {
			t.Errorf("%s: %v, want ErrModel", name, err)
		}
		if r != nil {
			r.Close()
		}
	}
	if _, err := LoadNet(nil); !errors.Is(err, vision.ErrModel) {
		t.Errorf("empty model: %v", err)
	}
}
