package cameratest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"gocv.io/x/gocv"

	"github.com/checkpoint-edge/checkpoint/device/camera"
)

var _ camera.Camera = (*Fake)(nil)

// Fake is a camera.Camera that serves still images in order, at a frame
// rate (Run) or one per Advance call. It follows Capture's contract: only
// the newest frame is served, as a copy the caller must Close; Fail
// simulates an unplugged camera; Close is idempotent and wakes waiters.
type Fake struct {
	fps  float64
	loop bool

	mu      sync.Mutex
	images  []gocv.Mat
	pos     int // index of the next image to serve
	cur     int // index of the newest frame, valid while has
	has     bool
	seq     uint64
	at      time.Time
	notify  chan struct{}
	state   camera.State
	failed  bool
	running bool
	cancel  context.CancelFunc
	done    chan struct{}
	closed  bool
}

// NewFake returns a Fake serving copies of images (the caller keeps
// ownership of its Mats). With fps > 0, Run publishes a frame every 1/fps;
// with fps <= 0 frames are published only by Advance. With loop, the images
// repeat; without, the Fake ends after the last one, like a file.
func NewFake(images []gocv.Mat, fps float64, loop bool) (*Fake, error) {
	if len(images) == 0 {
		return nil, errors.New("cameratest: fake needs at least one image")
	}
	f := &Fake{fps: fps, loop: loop, notify: make(chan struct{})}
	for i, m := range images {
		if m.Empty() {
			CloseAll(f.images)
			return nil, fmt.Errorf("cameratest: image %d is empty", i)
		}
		f.images = append(f.images, m.Clone())
	}
	f.state = camera.State{
		Status: camera.StatusIdle, Source: "fake", Since: time.Now(),
		Format: camera.Format{Width: images[0].Cols(), Height: images[0].Rows(), FPS: fps, FourCC: "FAKE", Backend: "fake"},
	}
	return f, nil
}

func (f *Fake) broadcastLocked() {
	close(f.notify)
	f.notify = make(chan struct{})
}

func (f *Fake) setStatusLocked(s camera.Status) {
	if f.state.Status != s {
		f.state.Status, f.state.Since = s, time.Now()
	}
}

// Advance publishes the next image as the newest frame and returns its
// sequence number. It fails while the Fake is failed, ended or closed.
func (f *Fake) Advance() (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.closed:
		return 0, camera.ErrClosed
	case f.failed:
		return 0, f.state.Err
	case f.state.Status == camera.StatusEnded:
		return 0, camera.ErrEnded
	}
	if f.pos >= len(f.images) {
		if !f.loop {
			f.setStatusLocked(camera.StatusEnded)
			f.broadcastLocked()
			return 0, camera.ErrEnded
		}
		f.pos = 0
	}
	f.cur, f.has = f.pos, true
	f.pos++
	f.seq++
	f.at = time.Now()
	f.state.Seq, f.state.LastFrame, f.state.Failures = f.seq, f.at, 0
	f.setStatusLocked(camera.StatusStreaming)
	f.broadcastLocked()
	return f.seq, nil
}

// Fail simulates a camera failure (unplug): no frames until Recover, the
// last frame is dropped, the state reports reconnecting with err.
func (f *Fake) Fail(err error) {
	if err == nil {
		err = camera.ErrRead
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return
	}
	f.failed, f.has = true, false
	f.state.Err, f.state.ErrAt = err, time.Now()
	f.state.Failures++
	f.setStatusLocked(camera.StatusReconnecting)
	f.broadcastLocked()
}

// Recover ends a simulated failure; the next frame comes at the next tick
// or Advance.
func (f *Fake) Recover() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed || !f.failed {
		return
	}
	f.failed = false
	f.state.Reconnects++
	f.setStatusLocked(camera.StatusOpening)
	f.broadcastLocked()
}

// Run publishes frames at the Fake's rate until ctx is done, Close is
// called or (without loop) the images run out. With fps <= 0 it only waits.
func (f *Fake) Run(ctx context.Context) error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return camera.ErrClosed
	}
	if f.running {
		f.mu.Unlock()
		return camera.ErrRunning
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	f.running, f.cancel, f.done = true, cancel, done
	if f.state.Status == camera.StatusIdle || f.state.Status == camera.StatusStopped {
		f.setStatusLocked(camera.StatusOpening)
	}
	f.mu.Unlock()
	defer func() {
		cancel()
		f.mu.Lock()
		f.running, f.cancel, f.done = false, nil, nil
		switch f.state.Status {
		case camera.StatusEnded, camera.StatusClosed:
		default:
			f.setStatusLocked(camera.StatusStopped)
		}
		f.broadcastLocked()
		f.mu.Unlock()
		close(done)
	}()
	if f.fps <= 0 {
		<-ctx.Done()
		return nil
	}
	t := time.NewTicker(time.Duration(float64(time.Second) / f.fps))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if _, err := f.Advance(); errors.Is(err, camera.ErrEnded) {
			return nil
		}
	}
}

// Latest returns a copy of the newest frame; the caller must Close it.
func (f *Fake) Latest() (*camera.Frame, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil, camera.ErrClosed
	}
	if !f.has {
		return nil, camera.ErrNoFrame
	}
	return f.frameLocked(), nil
}

func (f *Fake) frameLocked() *camera.Frame {
	return &camera.Frame{Mat: f.images[f.cur].Clone(), Seq: f.seq, At: f.at}
}

// Next waits for a frame newer than after, with Capture's semantics.
func (f *Fake) Next(ctx context.Context, after uint64) (*camera.Frame, error) {
	for {
		f.mu.Lock()
		if f.closed {
			f.mu.Unlock()
			return nil, camera.ErrClosed
		}
		if f.has && f.seq > after {
			fr := f.frameLocked()
			f.mu.Unlock()
			return fr, nil
		}
		switch f.state.Status {
		case camera.StatusEnded:
			f.mu.Unlock()
			return nil, camera.ErrEnded
		case camera.StatusStopped:
			f.mu.Unlock()
			return nil, camera.ErrStopped
		}
		ch := f.notify
		f.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-ch:
		}
	}
}

// State reports the Fake's health.
func (f *Fake) State() camera.State {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state
}

// Close stops Run, wakes waiters and releases the images. Idempotent.
func (f *Fake) Close() error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil
	}
	f.closed, f.has = true, false
	f.setStatusLocked(camera.StatusClosed)
	f.broadcastLocked()
	cancel, done := f.cancel, f.done
	f.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	CloseAll(f.images)
	f.images = nil
	return nil
}
