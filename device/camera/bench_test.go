package camera_test

import (
	"context"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/device/camera"
)

// BenchmarkLatest measures a consumer taking the newest frame (a Clone) from
// a capture decoding a 640x480 MJPG recording as fast as it can; it reports
// the capture's own rate as captured-frames/s.
func BenchmarkLatest(b *testing.B) {
	path := stampedVideo(b, 60, 30)
	c, err := camera.Open(camera.Config{Device: path, Loop: true, NoPace: true}, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() { cancel(); <-done; c.Close() }()
	f, err := c.Next(ctx, 0)
	if err != nil {
		b.Fatal(err)
	}
	f.Close()
	seq0, t0 := c.State().Seq, time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		f, err := c.Latest()
		if err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
	b.StopTimer()
	b.ReportMetric(float64(c.State().Seq-seq0)/time.Since(t0).Seconds(), "captured-frames/s")
}

// BenchmarkNextImage is the vision consumer's loop: wait for a new frame,
// convert it to RGB Go memory. One op is one frame.
func BenchmarkNextImage(b *testing.B) {
	path := stampedVideo(b, 60, 30)
	c, err := camera.Open(camera.Config{Device: path, Loop: true, NoPace: true}, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() { cancel(); <-done; c.Close() }()
	var last uint64
	b.ReportAllocs()
	for b.Loop() {
		f, err := c.Next(ctx, last)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.Image(); err != nil {
			b.Fatal(err)
		}
		last = f.Seq
		f.Close()
	}
}

// BenchmarkFrameImage is the BGR to RGB conversion of one 640x480 frame.
func BenchmarkFrameImage(b *testing.B) {
	f := oneFrame(b)
	defer f.Close()
	b.SetBytes(640 * 480 * 3)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Image(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeJPEG is a snapshot of one 640x480 frame at quality 90.
func BenchmarkEncodeJPEG(b *testing.B) {
	f := oneFrame(b)
	defer f.Close()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Encode("snap.jpg", 90); err != nil {
			b.Fatal(err)
		}
	}
}

func oneFrame(b *testing.B) *camera.Frame {
	path := stampedVideo(b, 1, 30)
	c, err := camera.Open(camera.Config{Device: path}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if err := c.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
	f, err := c.Latest()
	if err != nil {
		b.Fatal(err)
	}
	return f
}
