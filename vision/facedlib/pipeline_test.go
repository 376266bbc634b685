package facedlib

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/jpeg"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/checkpoint-edge/checkpoint/vision"
	"github.com/checkpoint-edge/checkpoint/vision/visiontest"
)

// frame letterboxes a labelled photo into a 640×480 grey camera frame.
func frame(t testing.TB, name string) vision.Image {
	t.Helper()
	img, err := vision.LoadImage(filepath.Join(visiontest.Faces(t), name))
	if err != nil {
		t.Fatal(err)
	}
	const fw, fh = 640, 480
	s := math.Min(float64(fw)/float64(img.W), float64(fh)/float64(img.H))
	w, h := int(float64(img.W)*s), int(float64(img.H)*s)
	small := vision.Resize(img, w, h)
	out := vision.NewImage(fw, fh)
	for i := range out.Pix {
		out.Pix[i] = 128
	}
	x0, y0 := (fw-w)/2, (fh-h)/2
	for y := 0; y < h; y++ {
		copy(out.Pix[((y0+y)*fw+x0)*3:], small.Pix[y*w*3:(y+1)*w*3])
	}
	return out
}

// boxBlur blurs img with a (2r+1)² box, twice: close to a Gaussian of σ≈r.
func boxBlur(img vision.Image, r int) vision.Image {
	out := img
	for pass := 0; pass < 2; pass++ {
		src := out
		dst := vision.NewImage(src.W, src.H)
		for y := 0; y < src.H; y++ {
			for x := 0; x < src.W; x++ {
				var s [3]int
				n := 0
				for dy := -r; dy <= r; dy++ {
					for dx := -r; dx <= r; dx++ {
						xx, yy := x+dx, y+dy
						if xx < 0 || yy < 0 || xx >= src.W || yy >= src.H {
							continue
						}
						i := (yy*src.W + xx) * 3
						s[0] += int(src.Pix[i])
						s[1] += int(src.Pix[i+1])
						s[2] += int(src.Pix[i+2])
						n++
					}
				}
				i := (y*src.W + x) * 3
				dst.Pix[i], dst.Pix[i+1], dst.Pix[i+2] = byte(s[0]/n), byte(s[1]/n), byte(s[2]/n)
			}
		}
		out = dst
	}
	return out
}

func scaleLevels(img vision.Image, k float64, add float64) vision.Image {
	out := vision.NewImage(img.W, img.H)
	for i, v := range img.Pix {
		out.Pix[i] = byte(math.Max(0, math.Min(255, float64(v)*k+add)))
	}
	return out
}

// rotate turns img by deg degrees about its centre (nearest neighbour).
func rotate(img vision.Image, deg float64) vision.Image {
	out := vision.NewImage(img.W, img.H)
	s, c := math.Sincos(deg * math.Pi / 180)
	cx, cy := float64(img.W)/2, float64(img.H)/2
	for y := 0; y < img.H; y++ {
		for x := 0; x < img.W; x++ {
			dx, dy := float64(x)-cx, float64(y)-cy
			sx, sy := int(c*dx+s*dy+cx), int(-s*dx+c*dy+cy)
			if sx < 0 || sy < 0 || sx >= img.W || sy >= img.H {
				continue
			}
			copy(out.Pix[(y*img.W+x)*3:(y*img.W+x)*3+3], img.Pix[(sy*img.W+sx)*3:])
		}
	}
	return out
}

func TestQualityGate(t *testing.T) {
	r := recognizer(t)
	ctx := context.Background()
	good := frame(t, "tzuyu2.jpg")
	cases := []struct {
		name   string
		img    vision.Image
		pass   bool
		reason string
	}{
		{"640x480 frame", good, true, ""},
		{"blurred", boxBlur(good, 3), false, vision.ReasonBlurred},
		{"dark", scaleLevels(good, 0.22, 0), false, vision.ReasonTooDark},
		{"overexposed", scaleLevels(good, 1.6, 90), false, vision.ReasonTooBright},
		{"rolled 30°", rotate(good, 30), false, vision.ReasonRoll},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			faces, err := r.Analyze(ctx, tc.img)
			if err != nil {
				t.Fatal(err)
			}
			if len(faces) == 0 {
				t.Fatal("no face")
			}
			q := faces[0].Quality
			t.Logf("ied %.1f sharp %.1f bright %.1f contrast %.1f under %.2f over %.2f yaw %.1f roll %.1f score %.2f %v",
				q.InterEye, q.Sharpness, q.Brightness, q.Contrast, q.Underexposed, q.Overexposed, q.Yaw, q.Roll, q.Score, q.Reasons)
			if q.Pass != tc.pass {
				t.Errorf("pass = %v, want %v (%v)", q.Pass, tc.pass, q.Reasons)
			}
			if tc.reason != "" && !slices.Contains(q.Reasons, tc.reason) {
				t.Errorf("reasons %v lack %q", q.Reasons, tc.reason)
			}
			if faces[0].Descriptor != nil {
				t.Error("Analyze computed a descriptor")
			}
			boxes, err := r.Detect(tc.img)
			if err != nil || len(boxes) != len(faces) || boxes[0] != faces[0].Box {
				t.Errorf("Detect = %v, %v; Analyze box %v", boxes, err, faces[0].Box)
			}
		})
	}
}

func TestCaptureKeepsBestFrame(t *testing.T) {
	r := recognizer(t)
	good := frame(t, "tzuyu2.jpg")
	frames := []vision.Image{boxBlur(good, 3), vision.NewImage(640, 480), scaleLevels(good, 0.22, 0), good, rotate(good, 30)}
	i := 0
	next := func(ctx context.Context) (vision.Image, error) {
		if i == len(frames) {
			return vision.Image{}, io.EOF
		}
		i++
		return frames[i-1], nil
	}
	best, st, err := vision.Capture(context.Background(), r, next, vision.CaptureOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Frames != 5 || st.Faces != 4 || st.Passed != 1 {
		t.Errorf("stats %+v, want 5 frames, 4 with faces, 1 passed", st)
	}
	if !best.Quality.Pass {
		t.Fatalf("best face fails the gate: %v", best.Quality.Reasons)
	}
	// The winner is the untouched frame: same descriptor as embedding it directly.
	d, err := r.Embed(context.Background(), best)
	if err != nil {
		t.Fatal(err)
	}
	direct, err := r.Faces(context.Background(), good)
	if err != nil {
		t.Fatal(err)
	}
	if dist := vision.Distance(d, direct[0].Descriptor); dist > 1e-4 {
		t.Errorf("best-of-burst face is not the good frame: distance %.4f", dist)
	}

	// Only faceless frames: ErrNoFace.
	i = 0
	frames = []vision.Image{vision.NewImage(640, 480)}
	if _, _, err := vision.Capture(context.Background(), r, next, vision.CaptureOptions{}); !errors.Is(err, vision.ErrNoFace) {
		t.Errorf("faceless capture: %v, want ErrNoFace", err)
	}
}

func TestConcurrentCallsAgree(t *testing.T) {
	r := recognizer(t)
	img := frame(t, "joy.jpg")
	want, err := r.Faces(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := r.Faces(context.Background(), img)
			if err != nil {
				errs <- err
				return
			}
			if d := vision.Distance(got[0].Descriptor, want[0].Descriptor); d > 1e-5 {
				errs <- errors.New("concurrent call gave a different descriptor")
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestEXIFOrientationMatters stores a photo sideways with an EXIF tag that
// says so: LoadImage must find the face, the raw pixels must not.
func TestEXIFOrientationMatters(t *testing.T) {
	r := recognizer(t)
	upright := frame(t, "tzuyu2.jpg")
	sideways := vision.Orient(upright, 8) // stored turned; orientation 6 turns it back
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, toRGBA(sideways), &jpeg.Options{Quality: 92}); err != nil {
		t.Fatal(err)
	}
	data := withOrientation(buf.Bytes(), 6)
	path := filepath.Join(t.TempDir(), "sideways.jpg")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	img, err := vision.LoadImage(path)
	if err != nil {
		t.Fatal(err)
	}
	if img.W != 640 || img.H != 480 {
		t.Fatalf("oriented size %dx%d, want 640x480", img.W, img.H)
	}
	faces, err := r.Analyze(context.Background(), img)
	if err != nil || len(faces) != 1 {
		t.Fatalf("upright: %d faces, %v", len(faces), err)
	}
	raw, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	faces, err = r.Analyze(context.Background(), vision.FromImage(raw))
	if err != nil || len(faces) != 0 {
		t.Fatalf("sideways pixels: %d faces, %v: the test image does not exercise orientation", len(faces), err)
	}
}

func toRGBA(m vision.Image) *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, m.W, m.H))
	for i := 0; i < m.W*m.H; i++ {
		copy(out.Pix[i*4:i*4+3], m.Pix[i*3:i*3+3])
		out.Pix[i*4+3] = 255
	}
	return out
}

// withOrientation inserts an APP1 EXIF segment carrying orientation o.
func withOrientation(jpg []byte, o uint16) []byte {
	tiff := []byte{'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, byte(o >> 8), byte(o), 0, 0, 0, 0, 0, 0}
	seg := append([]byte("Exif\x00\x00"), tiff...)
	n := len(seg) + 2
	out := append([]byte{}, jpg[:2]...)
	out = append(out, 0xFF, 0xE1, byte(n>>8), byte(n))
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

func TestCNNDetector(t *testing.T) {
	models := visiontest.Models(t)
	if _, err := os.Stat(filepath.Join(models, CNNModelFile)); err != nil {
		visiontest.Missing(t, err)
	}
	r, err := New(Options{ModelsDir: models, ShapePredictor: visiontest.ShapePredictor(t), Detector: DetectorCNN, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	img, err := vision.LoadImage(filepath.Join(visiontest.Faces(t), "tzuyu.jpg")) // 540×810: the CNN costs ~1 s per MP
	if err != nil {
		t.Fatal(err)
	}
	faces, err := r.Faces(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	if len(faces) != 1 {
		t.Fatalf("%d faces, want 1", len(faces))
	}
	hog, err := recognizer(t).Faces(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	inter := faces[0].Box.Intersect(hog[0].Box)
	iou := float64(inter.Dx()*inter.Dy()) / float64(area(faces[0])+area(hog[0])-inter.Dx()*inter.Dy())
	d := vision.Distance(faces[0].Descriptor, hog[0].Descriptor)
	t.Logf("cnn box %v confidence %.2f, hog box %v: IoU %.2f, descriptor distance %.3f", faces[0].Box, faces[0].Confidence, hog[0].Box, iou, d)
	if iou < 0.4 {
		t.Errorf("CNN and HOG boxes disagree: IoU %.2f", iou)
	}
	if d > 0.2 {
		t.Errorf("CNN and HOG alignments give distant descriptors: %.3f", d)
	}
}
