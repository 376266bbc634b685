package camera

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"gocv.io/x/gocv"
)

// Camera is what consumers of frames depend on; *Capture and
// cameratest.Fake implement it.
type Camera interface {
	// Run captures until ctx is done or Close is called.
	Run(ctx context.Context) error
	// Latest returns a copy of the newest frame.
	Latest() (*Frame, error)
	// Next blocks until a frame newer than after is available and returns a
	// copy of the newest one.
	Next(ctx context.Context, after uint64) (*Frame, error)
	// State reports health.
	State() State
	// Close releases everything; it is idempotent.
	Close() error
}

var _ Camera = (*Capture)(nil)

// errEOF marks the regular end of a file source.
var errEOF = errors.New("end of file")

// Capture reads one source, keeping only its newest frame.
type Capture struct {
	cfg  Config
	kind SourceKind
	log  *slog.Logger

	mu     sync.Mutex
	latest gocv.Mat // newest frame; served only while hasLatest
	spare  gocv.Mat // read buffer, touched only by the Run goroutine
	has    bool
	seq    uint64
	at     time.Time
	notify chan struct{} // closed and replaced whenever waiters must look again
	state  State

	running   bool
	cancelRun context.CancelFunc
	runDone   chan struct{}
	closed    bool
}

// Open validates cfg and returns a Capture. Nothing is opened until Run,
// so that a camera plugged in later is picked up by Run's retries. A nil
// logger discards.
func Open(cfg Config, logger *slog.Logger) (*Capture, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &Capture{
		cfg:    cfg,
		kind:   cfg.Kind(),
		log:    logger.With("source", redactedDevice(cfg.Device)),
		latest: gocv.NewMat(),
		spare:  gocv.NewMat(),
		notify: make(chan struct{}),
	}
	c.state = State{Status: StatusIdle, Source: redactedDevice(cfg.Device), Kind: c.kind, Since: cfg.Clock.Now()}
	return c, nil
}

// Config returns the configuration with defaults filled in.
func (c *Capture) Config() Config { return c.cfg }

// State returns a snapshot of the capture's health.
func (c *Capture) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// Latest returns a copy of the newest frame, which the caller must Close.
// It returns ErrNoFrame before the first frame and while the source is
// failed: the last picture of a failed camera is not offered as current.
func (c *Capture) Latest() (*Frame, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	if !c.has {
		if c.state.Err != nil && c.state.Status != StatusStreaming {
			return nil, fmt.Errorf("%w (%s: %w)", ErrNoFrame, c.state.Status, c.state.Err)
		}
		return nil, ErrNoFrame
	}
	return c.frameLocked(), nil
}

// Next waits until a frame with a sequence number above after exists and
// returns a copy of the newest frame (a slow consumer skips frames, it never
// receives an old one). Pass 0 for "any frame". It returns ctx.Err() when ctx
// is done, ErrEnded after the last frame of a non-looping file, ErrStopped
// once Run has returned, ErrClosed after Close.
func (c *Capture) Next(ctx context.Context, after uint64) (*Frame, error) {
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return nil, ErrClosed
		}
		if c.has && c.seq > after {
			f := c.frameLocked()
			c.mu.Unlock()
			return f, nil
		}
		switch c.state.Status {
		case StatusEnded:
			c.mu.Unlock()
			return nil, ErrEnded
		case StatusStopped:
			c.mu.Unlock()
			return nil, ErrStopped
		case StatusFailed:
			err := c.state.Err
			c.mu.Unlock()
			return nil, fmt.Errorf("%w: %w", ErrStopped, err)
		}
		ch := c.notify
		c.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-ch:
		}
	}
}

func (c *Capture) frameLocked() *Frame {
	return &Frame{Mat: c.latest.Clone(), Seq: c.seq, At: c.at}
}

// broadcastLocked wakes every Next waiting on the current channel.
func (c *Capture) broadcastLocked() {
	close(c.notify)
	c.notify = make(chan struct{})
}

func (c *Capture) setStatusLocked(s Status) {
	if c.state.Status != s {
		c.state.Status = s
		c.state.Since = c.cfg.Clock.Now()
	}
}

// Close stops Run, waits for it to return, wakes every waiter and releases
// every Mat. It is idempotent and safe to call before or without Run.
func (c *Capture) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.setStatusLocked(StatusClosed)
	c.broadcastLocked()
	cancel, done := c.cancelRun, c.runDone
	c.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.has = false
	err := errors.Join(c.latest.Close(), c.spare.Close())
	return err
}

// Run opens the source and captures until ctx is done or Close is called,
// reopening the source with backoff whenever it fails. It returns nil when
// stopped by ctx or Close and at the end of a non-looping file;
// ErrRetriesExhausted (wrapping the last failure) when Config.MaxRetries is
// exceeded; ErrRunning or ErrClosed when it cannot start.
func (c *Capture) Run(ctx context.Context) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	if c.running {
		c.mu.Unlock()
		return ErrRunning
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	c.running, c.cancelRun, c.runDone = true, cancel, done
	c.setStatusLocked(StatusOpening)
	c.broadcastLocked()
	c.mu.Unlock()

	err := c.loop(ctx)

	cancel()
	c.mu.Lock()
	c.running, c.cancelRun, c.runDone = false, nil, nil
	switch c.state.Status {
	case StatusEnded, StatusFailed, StatusClosed:
	default:
		c.setStatusLocked(StatusStopped)
	}
	c.broadcastLocked()
	c.mu.Unlock()
	close(done)
	return err
}

func (c *Capture) loop(ctx context.Context) error {
	failures := 0
	for {
		if ctx.Err() != nil {
			return nil
		}
		vc, format, err := c.open()
		if err == nil {
			c.onOpened(format, failures > 0)
			var frames int
			frames, err = c.stream(ctx, vc, format)
			vc.Close()
			switch {
			case ctx.Err() != nil:
				return nil
			case errors.Is(err, errEOF) && c.cfg.Loop:
				c.log.Debug("camera: end of file, looping")
				failures = 0
				continue
			case errors.Is(err, errEOF):
				c.mu.Lock()
				c.setStatusLocked(StatusEnded)
				c.broadcastLocked()
				c.mu.Unlock()
				c.log.Info("camera: end of file", "frames", frames)
				return nil
			}
			if frames > 0 {
				// The source worked before failing: a new incident, so the
				// backoff starts again from its shortest delay.
				failures = 0
			}
		}
		failures++
		if c.cfg.MaxRetries > 0 && failures > c.cfg.MaxRetries {
			c.onFailure(err, failures, 0, true)
			c.log.Error("camera: giving up", "attempts", failures, "err", err)
			return fmt.Errorf("%w after %d attempts: %w", ErrRetriesExhausted, failures, err)
		}
		delay := c.cfg.Backoff.Delay(failures)
		c.onFailure(err, failures, delay, false)
		c.log.Warn("camera: source failed, retrying", "attempt", failures, "retry_in", delay, "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-c.cfg.Clock.After(delay):
		}
	}
}

func (c *Capture) onOpened(f Format, reconnect bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.state.Format = f
	if reconnect {
		c.state.Reconnects++
	}
	c.log.Info("camera: opened", "kind", c.kind.String(), "width", f.Width, "height", f.Height,
		"fps", f.FPS, "fourcc", f.FourCC, "backend", f.Backend, "reconnect", reconnect)
}

func (c *Capture) onFailure(err error, failures int, delay time.Duration, final bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.cfg.Clock.Now()
	// A failed camera's last picture must not pass for a live one.
	c.has = false
	c.state.Err, c.state.ErrAt, c.state.Failures = err, now, failures
	if final {
		c.state.NextRetry = time.Time{}
		c.setStatusLocked(StatusFailed)
	} else {
		c.state.NextRetry = now.Add(delay)
		c.setStatusLocked(StatusReconnecting)
	}
	c.broadcastLocked()
}

// publish makes the frame just read into spare the newest one; the
// replaced Mat becomes the next read buffer, so steady-state capture
// allocates no Mats.
func (c *Capture) publish() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.latest, c.spare = c.spare, c.latest
	c.has = true
	c.seq++
	c.at = c.cfg.Clock.Now()
	c.state.Seq, c.state.LastFrame = c.seq, c.at
	c.state.Failures, c.state.NextRetry = 0, time.Time{}
	c.setStatusLocked(StatusStreaming)
	c.broadcastLocked()
}

// open opens the source and applies the requested format. On error nothing
// is left open.
func (c *Capture) open() (*gocv.VideoCapture, Format, error) {
	d := c.cfg.Device
	var (
		vc  *gocv.VideoCapture
		err error
	)
	switch c.kind {
	case KindDevice, KindFile:
		// A pre-check gives a clear error (and spares OpenCV's probing of
		// every backend, which logs to stderr) for the commonest failure:
		// the camera is unplugged or the recording is missing.
		if !strings.Contains(d, "://") {
			if _, serr := os.Stat(d); serr != nil {
				return nil, Format{}, fmt.Errorf("%w: %w", ErrOpen, serr)
			}
		}
	}
	api := gocv.VideoCaptureAny
	switch c.kind {
	case KindDevice, KindIndex:
		api = gocv.VideoCaptureV4L2
	case KindPipeline:
		api = gocv.VideoCaptureGstreamer
	}
	if c.kind == KindIndex {
		n, _ := strconv.Atoi(d)
		vc, err = gocv.OpenVideoCaptureWithAPI(n, api)
	} else {
		vc, err = gocv.OpenVideoCaptureWithAPI(d, api)
	}
	if err == nil && !vc.IsOpened() {
		err = errors.New("not opened")
	}
	if err != nil {
		if vc != nil {
			vc.Close()
		}
		// gocv's message only repeats the source; OpenCV's reasons go to
		// its own log on stderr.
		return nil, Format{}, fmt.Errorf("%w: %s %s: refused by the opencv %s backend",
			ErrOpen, c.kind, redactedDevice(d), strings.ToLower(backendName(float64(api))))
	}
	if c.kind == KindDevice || c.kind == KindIndex {
		// Order matters with V4L2: the pixel format limits the sizes and
		// rates a camera offers, and the size limits the rates.
		if c.cfg.FourCC != "" {
			vc.Set(gocv.VideoCaptureFOURCC, vc.ToCodec(c.cfg.FourCC))
		}
		if c.cfg.Width > 0 {
			vc.Set(gocv.VideoCaptureFrameWidth, float64(c.cfg.Width))
			vc.Set(gocv.VideoCaptureFrameHeight, float64(c.cfg.Height))
		}
		if c.cfg.FPS > 0 {
			vc.Set(gocv.VideoCaptureFPS, c.cfg.FPS)
		}
	}
	f := Format{
		Width:   int(vc.Get(gocv.VideoCaptureFrameWidth)),
		Height:  int(vc.Get(gocv.VideoCaptureFrameHeight)),
		FPS:     vc.Get(gocv.VideoCaptureFPS),
		FourCC:  strings.TrimRight(vc.CodecString(), "\x00 "),
		Backend: backendName(vc.Get(gocv.VideoCaptureBackend)),
	}
	if c.kind == KindDevice || c.kind == KindIndex {
		if (c.cfg.FourCC != "" && !strings.EqualFold(f.FourCC, c.cfg.FourCC)) ||
			(c.cfg.Width > 0 && (f.Width != c.cfg.Width || f.Height != c.cfg.Height)) ||
			(c.cfg.FPS > 0 && (f.FPS < c.cfg.FPS-0.5 || f.FPS > c.cfg.FPS+0.5)) {
			c.log.Warn("camera: driver adjusted the requested format",
				"want_width", c.cfg.Width, "want_height", c.cfg.Height, "want_fps", c.cfg.FPS, "want_fourcc", c.cfg.FourCC,
				"width", f.Width, "height", f.Height, "fps", f.FPS, "fourcc", f.FourCC)
		}
	}
	return vc, f, nil
}

// stream reads vc until it fails, ends or ctx is done, and returns how many
// frames it read.
func (c *Capture) stream(ctx context.Context, vc *gocv.VideoCapture, f Format) (int, error) {
	var (
		period     time.Duration
		frameCount = -1
	)
	if c.kind == KindFile {
		if n := vc.Get(gocv.VideoCaptureFrameCount); n > 0 {
			frameCount = int(n)
		}
		if !c.cfg.NoPace {
			fps := c.cfg.FPS
			if fps <= 0 {
				fps = f.FPS
			}
			if fps <= 0 || fps > 1000 {
				fps = 25
			}
			period = time.Duration(float64(time.Second) / fps)
		}
	}
	var (
		frames, fails int
		next          = time.Now()
		timer         = time.NewTimer(time.Hour)
	)
	defer timer.Stop()
	wait := func(d time.Duration) bool {
		timer.Reset(d)
		select {
		case <-ctx.Done():
			return false
		case <-timer.C:
			return true
		}
	}
	for ctx.Err() == nil {
		// spare belongs to this goroutine between publishes.
		if !vc.Read(&c.spare) || c.spare.Empty() {
			if frameCount > 0 && frames >= frameCount {
				return frames, errEOF
			}
			if c.kind == KindFile && frameCount < 0 && frames > 0 && !strings.Contains(c.cfg.Device, "://") {
				// A local file whose length the container does not state.
				return frames, errEOF
			}
			fails++
			if fails >= c.cfg.ReadFailures {
				return frames, fmt.Errorf("%w: %d consecutive reads failed after %d frames", ErrRead, fails, frames)
			}
			if !wait(20 * time.Millisecond) {
				break
			}
			continue
		}
		fails = 0
		frames++
		c.publish()
		if period > 0 {
			next = next.Add(period)
			d := time.Until(next)
			if d < -period {
				// Too far behind (slow machine, stopped process): do not
				// burst to catch up, a live camera would not either.
				next = time.Now()
				continue
			}
			if d > 0 && !wait(d) {
				break
			}
		}
	}
	return frames, nil
}

func backendName(v float64) string {
	switch int(v) {
	case int(gocv.VideoCaptureV4L2):
		return "V4L2"
	case int(gocv.VideoCaptureGstreamer):
		return "GSTREAMER"
	case int(gocv.VideoCaptureFFmpeg):
		return "FFMPEG"
	case int(gocv.VideoCaptureImages):
		return "IMAGES"
	case int(gocv.VideoCaptureOpencvMjpeg):
		return "CV_MJPEG"
	case int(gocv.VideoCaptureAny):
		return "ANY"
	}
	return strconv.Itoa(int(v))
}
