package cameratest

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"gocv.io/x/gocv"
)

// FrameWidth and FrameHeight are the size of the frames the helpers make:
// VGA, what desk cameras are usually run at for face capture.
const (
	FrameWidth  = 640
	FrameHeight = 480
)

// WriteVideo writes images as a Motion-JPEG AVI at fps frames per second
// (the container Debian's OpenCV writes and reads without extra codecs).
// Every image is letterboxed to the size of the first one.
func WriteVideo(path string, images []gocv.Mat, fps float64) error {
	if len(images) == 0 {
		return errors.New("cameratest: no images to write")
	}
	if ext := strings.ToLower(filepath.Ext(path)); ext != ".avi" {
		return fmt.Errorf("cameratest: %q: motion-jpeg video needs an .avi name", ext)
	}
	w, h := images[0].Cols(), images[0].Rows()
	if w == 0 || h == 0 {
		return errors.New("cameratest: first image is empty")
	}
	vw, err := gocv.VideoWriterFile(path, "MJPG", fps, w, h, true)
	if err != nil {
		return fmt.Errorf("cameratest: %w", err)
	}
	defer vw.Close()
	if !vw.IsOpened() {
		return fmt.Errorf("cameratest: cannot open video writer for %s", path)
	}
	for i, img := range images {
		if img.Empty() {
			return fmt.Errorf("cameratest: image %d is empty", i)
		}
		if img.Cols() == w && img.Rows() == h && img.Channels() == 3 {
			if err := vw.Write(img); err != nil {
				return fmt.Errorf("cameratest: frame %d: %w", i, err)
			}
			continue
		}
		lb, err := Letterbox(img, w, h)
		if err != nil {
			return fmt.Errorf("cameratest: frame %d: %w", i, err)
		}
		err = vw.Write(lb)
		lb.Close()
		if err != nil {
			return fmt.Errorf("cameratest: frame %d: %w", i, err)
		}
	}
	if err := vw.Close(); err != nil {
		return fmt.Errorf("cameratest: %w", err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("cameratest: %w", err)
	}
	if st.Size() == 0 {
		return fmt.Errorf("cameratest: %s is empty after writing", path)
	}
	return nil
}

// Letterbox scales img to fit w×h keeping its aspect ratio and centres it
// on black, as a camera framing a traveller would. The caller owns the
// result. Gray and BGRA inputs become BGR.
func Letterbox(img gocv.Mat, w, h int) (gocv.Mat, error) {
	if img.Empty() || w <= 0 || h <= 0 {
		return gocv.NewMat(), errors.New("cameratest: letterbox: empty image or size")
	}
	src := img
	switch img.Channels() {
	case 1:
		src = gocv.NewMat()
		gocv.CvtColor(img, &src, gocv.ColorGrayToBGR)
		defer src.Close()
	case 4:
		src = gocv.NewMat()
		gocv.CvtColor(img, &src, gocv.ColorBGRAToBGR)
		defer src.Close()
	}
	sx, sy := float64(w)/float64(src.Cols()), float64(h)/float64(src.Rows())
	s := min(sx, sy)
	nw, nh := max(1, min(w, int(float64(src.Cols())*s+0.5))), max(1, min(h, int(float64(src.Rows())*s+0.5)))
	scaled := gocv.NewMat()
	defer scaled.Close()
	gocv.Resize(src, &scaled, image.Pt(nw, nh), 0, 0, gocv.InterpolationArea)
	out := gocv.NewMat()
	left, top := (w-nw)/2, (h-nh)/2
	gocv.CopyMakeBorder(scaled, &out, top, h-nh-top, left, w-nw-left, gocv.BorderConstant, color.RGBA{})
	return out, nil
}

// LoadPhoto reads a photo (EXIF orientation applied) letterboxed to w×h.
func LoadPhoto(path string, w, h int) (gocv.Mat, error) {
	img := gocv.IMRead(path, gocv.IMReadColor)
	defer img.Close()
	if img.Empty() {
		return gocv.NewMat(), fmt.Errorf("cameratest: cannot read image %s", path)
	}
	return Letterbox(img, w, h)
}

// LoadPhotos is LoadPhoto for several paths; on error nothing is leaked.
func LoadPhotos(paths []string, w, h int) ([]gocv.Mat, error) {
	out := make([]gocv.Mat, 0, len(paths))
	for _, p := range paths {
		m, err := LoadPhoto(p, w, h)
		if err != nil {
			m.Close()
			CloseAll(out)
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// CloseAll closes every Mat.
func CloseAll(ms []gocv.Mat) {
	for i := range ms {
		ms[i].Close()
	}
}

// VideoFromPhotos writes a 640×480 MJPG AVI showing each photo for hold
// frames: a "recorded camera" in which travellers stand still for a while.
func VideoFromPhotos(path string, photos []string, hold int, fps float64) error {
	if hold < 1 {
		hold = 1
	}
	imgs, err := LoadPhotos(photos, FrameWidth, FrameHeight)
	if err != nil {
		return err
	}
	defer CloseAll(imgs)
	seq := make([]gocv.Mat, 0, len(imgs)*hold)
	for _, m := range imgs {
		for range hold {
			seq = append(seq, m) // shared, not copied: WriteVideo only reads
		}
	}
	return WriteVideo(path, seq, fps)
}

// FacesDir returns the directory of the shared face photos:
// $CHECKPOINT_FACES, else ../shared/testdata/faces next to the repository.
// When it is missing the test is skipped, except in CI ($CI set) where the
// photos are installed and their absence fails the test.
func FacesDir(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("CHECKPOINT_FACES")
	if dir == "" {
		if root, err := repoRoot(); err == nil {
			dir = filepath.Join(root, "..", "shared", "testdata", "faces")
		}
	}
	if dir != "" {
		if st, err := os.Stat(dir); err == nil && st.IsDir() {
			return dir
		}
	}
	if os.Getenv("CI") != "" {
		tb.Fatalf("face photos not found (dir %q): set CHECKPOINT_FACES or install ../shared/testdata/faces", dir)
	}
	tb.Skipf("face photos not found (dir %q): set CHECKPOINT_FACES", dir)
	return ""
}

// FacePhotos returns the single-person photos of FacesDir, sorted; the
// group photo is left out.
func FacePhotos(tb testing.TB) []string {
	tb.Helper()
	dir := FacesDir(tb)
	paths, err := filepath.Glob(filepath.Join(dir, "*.jpg"))
	if err != nil {
		tb.Fatal(err)
	}
	out := paths[:0]
	for _, p := range paths {
		if filepath.Base(p) != "pristin.jpg" {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		tb.Fatalf("no photos in %s", dir)
	}
	return out
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found")
		}
		dir = parent
	}
}
