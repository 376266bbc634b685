package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/checkpoint-edge/checkpoint/vision"
	"github.com/checkpoint-edge/checkpoint/vision/visiontest"
)

// TestVisionCommands drives the vision commands of the shared
// checkpointctl end to end on the labelled photos.
func TestVisionCommands(t *testing.T) {
	models := visiontest.Models(t)
	faces := visiontest.Faces(t)
	bin := techBinary(t)
	t.Run("embed", func(t *testing.T) { testVisionEmbed(t, bin, models, faces) })
	t.Run("compare", func(t *testing.T) { testVisionCompare(t, bin, models, faces) })
	t.Run("calibrate", func(t *testing.T) { testVisionCalibrate(t, bin, models, faces) })
}

func testVisionEmbed(t *testing.T, bin, models, faces string) {
	notImage := filepath.Join(t.TempDir(), "notes.jpg")
	os.WriteFile(notImage, []byte("not a photo"), 0o644)
	out, stderr, code := runCtl(t, bin, nil, "--json", "vision", "embed", "--models", models, "--workers", "1",
		filepath.Join(faces, "tzuyu.jpg"), notImage)
	if code != 1 || !strings.Contains(stderr, "1 of 2 images failed") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var lines []map[string]json.RawMessage
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 2 {
		t.Fatalf("%d JSON lines, want 2", len(lines))
	}
	var path string
	var fs []struct {
		Box       [4]int         `json:"box"`
		Landmarks [][2]int       `json:"landmarks"`
		Quality   vision.Quality `json:"quality"`
		Embedding []float32      `json:"embedding"`
		ModelID   string         `json:"model_id"`
	}
	json.Unmarshal(lines[0]["path"], &path)
	json.Unmarshal(lines[0]["faces"], &fs)
	if !strings.HasSuffix(path, "tzuyu.jpg") || len(fs) != 1 {
		t.Fatalf("first line: %s with %d faces", path, len(fs))
	}
	f := fs[0]
	if len(f.Embedding) != 128 || len(f.Landmarks) != 68 || len(f.ModelID) != 16 || f.Box[2] <= f.Box[0] || !f.Quality.Pass {
		t.Errorf("face: %d numbers, %d landmarks, model %q, box %v, quality %+v", len(f.Embedding), len(f.Landmarks), f.ModelID, f.Box, f.Quality)
	}
	if _, ok := lines[1]["error"]; !ok {
		t.Errorf("non-image line lacks an error: %v", lines[1])
	}
}

func testVisionCompare(t *testing.T, bin, models, faces string) {
	out, stderr, code := runCtl(t, bin, nil, "--json", "vision", "compare", "--models", models, "--workers", "1",
		filepath.Join(faces, "tzuyu.jpg"), filepath.Join(faces, "tzuyu.jpg"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res struct {
		Distance  float32 `json:"distance"`
		Threshold float32 `json:"threshold"`
		Same      bool    `json:"same_person"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%q: %v", out, err)
	}
	if res.Distance > 1e-4 || !res.Same || res.Threshold != vision.DefaultThresholds.Verify1to1 {
		t.Errorf("same photo: %+v", res)
	}
	out, _, code = runCtl(t, bin, nil, "vision", "compare", "--models", models, "--workers", "1",
		filepath.Join(faces, "tzuyu.jpg"), filepath.Join(faces, "joy.jpg"))
	if code != 0 || !strings.Contains(out, "different people") {
		t.Errorf("different people: exit %d, %q", code, out)
	}
	noFace := filepath.Join(t.TempDir(), "wall.png")
	os.WriteFile(noFace, grayPNG(t), 0o644)
	_, stderr, code = runCtl(t, bin, nil, "vision", "compare", "--models", models, filepath.Join(faces, "joy.jpg"), noFace)
	if code == 0 || !strings.Contains(stderr, "no face") {
		t.Errorf("no face: exit %d, %q", code, stderr)
	}
	_, stderr, code = runCtl(t, bin, nil, "vision", "compare", "--models", t.TempDir(), noFace, noFace)
	if code != 3 || !strings.Contains(stderr, "load embedding model") {
		t.Errorf("missing models: exit %d, %q", code, stderr)
	}
}

func grayPNG(t *testing.T) []byte {
	// A 64×64 mid-grey picture: no face.
	var buf bytes.Buffer
	img := vision.NewImage(64, 64)
	for i := range img.Pix {
		img.Pix[i] = 120
	}
	if err := encodePNG(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func testVisionCalibrate(t *testing.T, bin, models, faces string) {
	// Subfolder layout with small photos: two people, two photos each.
	dir := t.TempDir()
	for person, files := range map[string][]string{"tzuyu": {"tzuyu.jpg", "tzuyu2.jpg"}, "chaeyoung": {"chaeyoung.jpg", "chaeyoung2.jpg"}, "joy": {"joy.jpg"}} {
		os.MkdirAll(filepath.Join(dir, person), 0o755)
		for _, f := range files {
			data, err := os.ReadFile(filepath.Join(faces, f))
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, person, f), data, 0o644)
		}
	}
	out, stderr, code := runCtl(t, bin, nil, "--json", "vision", "calibrate", "--models", models, dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res struct {
		Calibration vision.CalibrationReport `json:"calibration"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%q: %v", out, err)
	}
	c := res.Calibration
	if c.Samples != 5 || c.People != 3 || c.All.GenuinePairs != 2 || c.All.ImpostorPairs != 8 || len(c.All.Table) == 0 {
		t.Errorf("calibration %+v", c)
	}
	// The reference descriptor set: text table with the recommendation,
	// which is the built-in default (dlib is calibrated on this group).
	out, stderr, code = runCtl(t, bin, nil, "vision", "calibrate", filepath.Join(faces, "idols.json"))
	want := fmt.Sprintf("recommended 1:1 verification %.3f", vision.DefaultThresholds.Verify1to1)
	if code != 0 || !strings.Contains(out, want) || !strings.Contains(out, "threshold") {
		t.Errorf("idols.json: exit %d %q %q", code, out, stderr)
	}
	_, _, code = runCtl(t, bin, nil, "vision", "calibrate", t.TempDir())
	if code != 2 {
		t.Errorf("empty dir: exit %d, want 2", code)
	}
}

func encodePNG(w *bytes.Buffer, m vision.Image) error {
	rgba := image.NewRGBA(image.Rect(0, 0, m.W, m.H))
	for i := 0; i < m.W*m.H; i++ {
		copy(rgba.Pix[i*4:], m.Pix[i*3:i*3+3])
		rgba.Pix[i*4+3] = 255
	}
	return png.Encode(w, rgba)
}
