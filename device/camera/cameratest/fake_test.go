package cameratest_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/checkpoint-edge/checkpoint/device/camera"
	"github.com/checkpoint-edge/checkpoint/device/camera/cameratest"
)

func solid(v float64) gocv.Mat {
	return gocv.NewMatWithSizeFromScalar(gocv.NewScalar(v, v, v, 0), 48, 64, gocv.MatTypeCV8UC3)
}

func value(t *testing.T, f *camera.Frame) uint8 {
	t.Helper()
	img, err := f.Image()
	if err != nil {
		t.Fatal(err)
	}
	return img.Pix[0]
}

func TestFakeManual(t *testing.T) {
	imgs := []gocv.Mat{solid(10), solid(20), solid(30)}
	fake, err := cameratest.NewFake(imgs, 0, false)
	cameratest.CloseAll(imgs) // the Fake keeps its own copies
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	if _, err := fake.Latest(); !errors.Is(err, camera.ErrNoFrame) {
		t.Fatalf("Latest before any frame: %v", err)
	}
	for i, want := range []uint8{10, 20, 30} {
		seq, err := fake.Advance()
		if err != nil || seq != uint64(i+1) {
			t.Fatalf("Advance %d: %d, %v", i, seq, err)
		}
		f, err := fake.Latest()
		if err != nil {
			t.Fatal(err)
		}
		if got := value(t, f); got != want || f.Seq != seq {
			t.Fatalf("frame %d: value %d seq %d", i, got, f.Seq)
		}
		f.Close()
	}
	if _, err := fake.Advance(); !errors.Is(err, camera.ErrEnded) {
		t.Fatalf("Advance past the end: %v", err)
	}
	if _, err := fake.Next(context.Background(), 3); !errors.Is(err, camera.ErrEnded) {
		t.Fatalf("Next past the end: %v", err)
	}
}

func TestFakeFailRecoverAndWaiters(t *testing.T) {
	imgs := []gocv.Mat{solid(50)}
	fake, err := cameratest.NewFake(imgs, 0, true)
	cameratest.CloseAll(imgs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fake.Advance(); err != nil {
		t.Fatal(err)
	}
	unplugged := errors.New("unplugged")
	fake.Fail(unplugged)
	if st := fake.State(); st.Status != camera.StatusReconnecting || !errors.Is(st.Err, unplugged) {
		t.Fatalf("state after Fail: %+v", st)
	}
	if _, err := fake.Latest(); !errors.Is(err, camera.ErrNoFrame) {
		t.Fatalf("Latest while failed: %v", err)
	}
	if _, err := fake.Advance(); !errors.Is(err, unplugged) {
		t.Fatalf("Advance while failed: %v", err)
	}
	got := make(chan *camera.Frame, 1)
	go func() {
		f, err := fake.Next(context.Background(), 1)
		if err != nil {
			t.Error(err)
		}
		got <- f
	}()
	fake.Recover()
	if _, err := fake.Advance(); err != nil {
		t.Fatal(err)
	}
	select {
	case f := <-got:
		if f.Seq != 2 || value(t, f) != 50 {
			t.Fatalf("Next after recovery: seq %d", f.Seq)
		}
		f.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("Next not woken by a new frame")
	}
	if st := fake.State(); st.Status != camera.StatusStreaming || st.Reconnects != 1 {
		t.Fatalf("state after recovery: %+v", st)
	}
	blocked := make(chan error, 1)
	go func() {
		_, err := fake.Next(context.Background(), 2)
		blocked <- err
	}()
	time.Sleep(20 * time.Millisecond)
	if err := fake.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-blocked; !errors.Is(err, camera.ErrClosed) {
		t.Fatalf("Next woken by Close: %v", err)
	}
	if err := fake.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestFakeRun(t *testing.T) {
	imgs := []gocv.Mat{solid(1), solid(2)}
	fake, err := cameratest.NewFake(imgs, 100, true)
	cameratest.CloseAll(imgs)
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- fake.Run(ctx) }()
	var last uint64
	for last < 10 {
		f, err := fake.Next(ctx, last)
		if err != nil {
			t.Fatal(err)
		}
		if want := uint8(1 + (f.Seq-1)%2); value(t, f) != want {
			t.Fatalf("seq %d shows %d, want %d", f.Seq, value(t, f), want)
		}
		last = f.Seq
		f.Close()
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if _, err := fake.Next(context.Background(), fake.State().Seq); !errors.Is(err, camera.ErrStopped) {
		t.Fatalf("Next after Run: %v", err)
	}
}

func TestNewFakeRejectsEmpty(t *testing.T) {
	if _, err := cameratest.NewFake(nil, 1, false); err == nil {
		t.Fatal("no images accepted")
	}
	e := gocv.NewMat()
	defer e.Close()
	if _, err := cameratest.NewFake([]gocv.Mat{e}, 1, false); err == nil {
		t.Fatal("empty image accepted")
	}
}

func TestVideoFromPhotos(t *testing.T) {
	photos := cameratest.FacePhotos(t)[:2]
	path := filepath.Join(t.TempDir(), "desk.avi")
	if err := cameratest.VideoFromPhotos(path, photos, 3, 15); err != nil {
		t.Fatal(err)
	}
	vc, err := gocv.VideoCaptureFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer vc.Close()
	m := gocv.NewMat()
	defer m.Close()
	n := 0
	for vc.Read(&m) {
		if m.Cols() != cameratest.FrameWidth || m.Rows() != cameratest.FrameHeight {
			t.Fatalf("frame %d is %dx%d", n, m.Cols(), m.Rows())
		}
		// Square photos are letterboxed: black bands left and right.
		if px := m.GetVecbAt(240, 5); px[0] > 16 || px[1] > 16 || px[2] > 16 {
			t.Fatalf("frame %d: band pixel %v not black", n, px)
		}
		n++
	}
	if n != 6 {
		t.Fatalf("read %d frames, want 6", n)
	}
	if err := cameratest.WriteVideo(filepath.Join(t.TempDir(), "x.mp4"), []gocv.Mat{m}, 15); err == nil {
		t.Fatal("non-avi name accepted")
	}
	if err := cameratest.WriteVideo(path, nil, 15); err == nil {
		t.Fatal("no images accepted")
	}
}
