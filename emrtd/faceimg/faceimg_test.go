package faceimg

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/checkpoint-edge/checkpoint/emrtd/lds"
)

// TestJPEG2000 checks that Debian's OpenCV decodes JPEG 2000 (through
// OpenJPEG): a test pattern compressed by opj_compress comes back with
// its colours.
func TestJPEG2000(t *testing.T) {
	opj, err := exec.LookPath("opj_compress")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("opj_compress missing: apt-get install libopenjp2-tools")
		}
		t.Skip("opj_compress missing (libopenjp2-tools)")
	}
	dir := t.TempDir()
	src := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for y := 0; y < 48; y++ {
		for x := 0; x < 64; x++ {
			c := color.RGBA{200, 30, 30, 255}
			if x >= 32 {
				c = color.RGBA{30, 30, 200, 255}
			}
			src.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, src)
	os.WriteFile(filepath.Join(dir, "in.png"), buf.Bytes(), 0o600)
	out := filepath.Join(dir, "face.jp2")
	if b, err := exec.Command(opj, "-i", filepath.Join(dir, "in.png"), "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("opj_compress: %v\n%s", err, b)
	}
	data, _ := os.ReadFile(out)
	img, err := Decode(lds.FaceImage{Format: lds.FormatJPEG2000, Width: 64, Height: 48, Data: data})
	if err != nil {
		t.Fatal(err)
	}
	if img.W != 64 || img.H != 48 {
		t.Fatalf("%dx%d", img.W, img.H)
	}
	left := img.Pix[(10*64+5)*3:]
	right := img.Pix[(10*64+50)*3:]
	if left[0] < 150 || left[2] > 80 || right[2] < 150 || right[0] > 80 {
		t.Fatalf("colours %v %v", left[:3], right[:3])
	}
	j := JPEG(lds.FaceImage{Format: lds.FormatJPEG2000}, img)
	if len(j) < 100 || j[0] != 0xFF || j[1] != 0xD8 {
		t.Fatal("no JPEG for display")
	}
	if _, err := Decode(lds.FaceImage{Format: lds.FormatJPEG2000, Data: data[:40]}); err == nil {
		t.Fatal("truncated JPEG 2000 decoded")
	}
}
