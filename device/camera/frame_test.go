package camera_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/checkpoint-edge/checkpoint/device/camera"
)

func TestMatToImage(t *testing.T) {
	cases := []struct {
		name string
		typ  gocv.MatType
		px   []byte // one source pixel as stored by OpenCV
		want [3]byte
	}{
		{"bgr", gocv.MatTypeCV8UC3, []byte{10, 20, 30}, [3]byte{30, 20, 10}},
		{"bgra", gocv.MatTypeCV8UC4, []byte{10, 20, 30, 255}, [3]byte{30, 20, 10}},
		{"gray", gocv.MatTypeCV8UC1, []byte{77}, [3]byte{77, 77, 77}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			const w, h = 5, 3
			data := bytes.Repeat(tc.px, w*h)
			// A distinct last pixel checks the layout, not just one colour.
			data[len(data)-len(tc.px)] = 200
			m, err := gocv.NewMatFromBytes(h, w, tc.typ, data)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			f := &camera.Frame{Mat: m, Seq: 1, At: time.Now()}
			img, err := f.Image()
			if err != nil {
				t.Fatal(err)
			}
			if err := img.Validate(); err != nil || img.W != w || img.H != h {
				t.Fatalf("image %dx%d: %v", img.W, img.H, err)
			}
			if got := [3]byte(img.Pix[:3]); got != tc.want {
				t.Fatalf("first pixel %v, want %v", got, tc.want)
			}
			last := img.Pix[len(img.Pix)-3:]
			if tc.name == "gray" && (last[0] != 200 || last[2] != 200) || tc.name != "gray" && last[2] != 200 {
				t.Fatalf("last pixel %v", last)
			}
			// The image is Go memory: changing the Mat leaves it alone.
			m.SetTo(gocv.NewScalar(0, 0, 0, 0))
			if got := [3]byte(img.Pix[:3]); got != tc.want {
				t.Fatal("image aliases the Mat")
			}
		})
	}
}

func TestMatToImageRegionAndErrors(t *testing.T) {
	m := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(1, 2, 3, 0), 40, 60, gocv.MatTypeCV8UC3)
	defer m.Close()
	roi := m.Region(imageRect(10, 5, 30, 25))
	defer roi.Close()
	img, err := camera.MatToImage(roi)
	if err != nil || img.W != 20 || img.H != 20 || img.Pix[0] != 3 || img.Pix[2] != 1 {
		t.Fatalf("region: %dx%d %v %v", img.W, img.H, img.Pix[:3], err)
	}
	empty := gocv.NewMat()
	defer empty.Close()
	if _, err := camera.MatToImage(empty); !errors.Is(err, camera.ErrFormat) {
		t.Fatalf("empty: %v", err)
	}
	fl := gocv.NewMatWithSize(4, 4, gocv.MatTypeCV32FC3)
	defer fl.Close()
	if _, err := camera.MatToImage(fl); !errors.Is(err, camera.ErrFormat) {
		t.Fatalf("float mat: %v", err)
	}
}

func TestEncode(t *testing.T) {
	m := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(40, 120, 200, 0), 48, 64, gocv.MatTypeCV8UC3)
	defer m.Close()
	f := &camera.Frame{Mat: m}
	for _, tc := range []struct {
		name    string
		quality int
		magic   []byte
		lossy   bool
	}{
		{"snap.jpg", 0, []byte{0xff, 0xd8, 0xff}, true},
		{"SNAP.JPEG", 80, []byte{0xff, 0xd8, 0xff}, true},
		{"snap.png", 0, []byte("\x89PNG"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := f.Encode(tc.name, tc.quality)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(b, tc.magic) {
				t.Fatalf("encoded data starts %x", b[:4])
			}
			back, err := gocv.IMDecode(b, gocv.IMReadColor)
			if err != nil {
				t.Fatal(err)
			}
			defer back.Close()
			if back.Cols() != 64 || back.Rows() != 48 {
				t.Fatalf("decoded %dx%d", back.Cols(), back.Rows())
			}
			px := back.GetVecbAt(10, 10)
			d := int(px[2]) - 200
			if d < -3 || d > 3 || (!tc.lossy && (px[0] != 40 || px[1] != 120)) {
				t.Fatalf("decoded pixel %v", px)
			}
		})
	}
	for _, bad := range []struct {
		name    string
		quality int
	}{{"snap.gif", 0}, {"snap", 0}, {"snap.jpg", 101}, {"snap.jpg", -1}} {
		if _, err := f.Encode(bad.name, bad.quality); !errors.Is(err, camera.ErrFormat) {
			t.Errorf("Encode(%q, %d) = %v, want ErrFormat", bad.name, bad.quality, err)
		}
	}
	var nilFrame *camera.Frame
	if err := nilFrame.Close(); err != nil {
		t.Fatal(err)
	}
}
