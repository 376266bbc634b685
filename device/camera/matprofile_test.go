//go:build matprofile

package camera_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"

	"github.com/checkpoint-edge/checkpoint/device/camera"
	"github.com/checkpoint-edge/checkpoint/device/camera/cameratest"
)

// TestNoMatLeaks runs the capture paths — streaming, reconnecting, Close
// during Run, Fake, conversions — and checks with gocv's Mat profile
// (go test -tags matprofile) that every Mat created was closed.
func TestNoMatLeaks(t *testing.T) {
	start := gocv.MatProfile.Count()
	path := stampedVideo(t, 20, 60)
	if n := gocv.MatProfile.Count(); n != start {
		t.Fatalf("writing the video leaked %d Mats", n-start)
	}

	// A full read to the end, with a consumer.
	c, err := camera.Open(camera.Config{Device: path, NoPace: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	errc := make(chan error, 1)
	go func() { errc <- c.Run(ctx) }()
	var last uint64
	for {
		f, err := c.Next(ctx, last)
		if errors.Is(err, camera.ErrEnded) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Image(); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Encode("x.jpg", 90); err != nil {
			t.Fatal(err)
		}
		last = f.Seq
		f.Close()
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	c.Close()

	// A failing source, closed while it waits to reconnect.
	data, _ := os.ReadFile(path)
	cut := filepath.Join(t.TempDir(), "cut.avi")
	if err := os.WriteFile(cut, data[:len(data)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	clk := newManualClock()
	c, err = camera.Open(camera.Config{Device: cut, NoPace: true, Loop: true, Clock: clk}, nil)
	if err != nil {
		t.Fatal(err)
	}
	go func() { errc <- c.Run(ctx) }()
	clk.wait(t)
	c.Close()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}

	// Close while streaming a looping file.
	c, err = camera.Open(camera.Config{Device: path, Loop: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	go func() { errc <- c.Run(ctx) }()
	f, err := c.Next(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	c.Close()
	<-errc

	// The Fake and the photo helpers.
	imgs, err := cameratest.LoadPhotos(cameratest.FacePhotos(t)[:2], 320, 240)
	if err != nil {
		t.Fatal(err)
	}
	fake, err := cameratest.NewFake(imgs, 0, true)
	cameratest.CloseAll(imgs)
	if err != nil {
		t.Fatal(err)
	}
	fake.Advance()
	if f, err := fake.Latest(); err == nil {
		f.Close()
	}
	fake.Close()

	if n := gocv.MatProfile.Count(); n != start {
		var b bytes.Buffer
		gocv.MatProfile.WriteTo(&b, 1)
		t.Fatalf("%d Mats leaked:\n%s", n-start, b.String())
	}
}
