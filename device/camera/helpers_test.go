package camera_test

import (
	"image"
	"image/color"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/checkpoint-edge/checkpoint/device/camera"
	"github.com/checkpoint-edge/checkpoint/device/camera/cameratest"
)

// The frame index is stamped into the left letterbox band as stampBits
// solid blocks (white = 1), large enough to survive JPEG compression, so a
// test can tell which recorded frame a capture returned.
const stampBits = 10

func stampBlock(i int) image.Rectangle {
	return image.Rect(20, 20+i*44, 60, 52+i*44)
}

func stamp(m *gocv.Mat, n int) {
	for i := range stampBits {
		c := color.RGBA{}
		if n&(1<<i) != 0 {
			c = color.RGBA{255, 255, 255, 0}
		}
		gocv.Rectangle(m, stampBlock(i), c, -1)
	}
}

// readStamp decodes the stamp through Frame.Image, which it thereby tests.
func readStamp(t testing.TB, f *camera.Frame) int {
	t.Helper()
	img, err := f.Image()
	if err != nil {
		t.Fatalf("image: %v", err)
	}
	n := 0
	for i := range stampBits {
		r := stampBlock(i)
		cx, cy := (r.Min.X+r.Max.X)/2, (r.Min.Y+r.Max.Y)/2
		if img.Pix[(cy*img.W+cx)*3+1] > 128 {
			n |= 1 << i
		}
	}
	return n
}

// stampedVideo writes n frames of face photos, frame i stamped with i, and
// returns the path.
func stampedVideo(t testing.TB, n int, fps float64) string {
	t.Helper()
	photos := cameratest.FacePhotos(t)
	base, err := cameratest.LoadPhotos(photos[:min(3, len(photos))], cameratest.FrameWidth, cameratest.FrameHeight)
	if err != nil {
		t.Fatal(err)
	}
	defer cameratest.CloseAll(base)
	frames := make([]gocv.Mat, n)
	for i := range frames {
		frames[i] = base[(i/10)%len(base)].Clone()
		stamp(&frames[i], i)
	}
	defer cameratest.CloseAll(frames)
	path := filepath.Join(t.TempDir(), "recording.avi")
	if err := cameratest.WriteVideo(path, frames, fps); err != nil {
		t.Fatal(err)
	}
	return path
}

// manualClock lets a test see every backoff wait and end it when it wants.
type manualClock struct {
	requests chan time.Duration
	mu       sync.Mutex
	pending  []chan time.Time
}

func newManualClock() *manualClock {
	return &manualClock{requests: make(chan time.Duration, 64)}
}

func (c *manualClock) Now() time.Time { return time.Now() }

func (c *manualClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	c.mu.Lock()
	c.pending = append(c.pending, ch)
	c.mu.Unlock()
	c.requests <- d
	return ch
}

// wait returns the duration of the next backoff wait.
func (c *manualClock) wait(t testing.TB) time.Duration {
	t.Helper()
	select {
	case d := <-c.requests:
		return d
	case <-time.After(20 * time.Second):
		t.Fatal("no backoff wait requested")
		return 0
	}
}

// fire ends every pending wait.
func (c *manualClock) fire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ch := range c.pending {
		ch <- time.Now()
	}
	c.pending = nil
}

// checkGoroutines fails the test if goroutines started during it are still
// running shortly after it ends.
func checkGoroutines(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for {
			n := runtime.NumGoroutine()
			if n <= before {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("goroutine leak: %d before, %d after:\n%s", before, n, buf)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// waitFor polls cond until it holds or fails the test.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func imageRect(x0, y0, x1, y1 int) image.Rectangle { return image.Rect(x0, y0, x1, y1) }
