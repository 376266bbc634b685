package camera

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/checkpoint-edge/checkpoint/internal/backoff"
)

// SourceKind says how a Config.Device string is opened.
type SourceKind int

const (
	// KindDevice is a V4L2 device node such as /dev/video0 or
	// /dev/v4l/by-id/…; opened with the V4L2 backend.
	KindDevice SourceKind = iota + 1
	// KindIndex is a V4L2 device given by its index ("0" = /dev/video0).
	KindIndex
	// KindFile is a video file or URL, opened with OpenCV's default backend
	// and paced at its frame rate.
	KindFile
	// KindPipeline is a GStreamer pipeline ("videotestsrc ! appsink").
	KindPipeline
)

func (k SourceKind) String() string {
	switch k {
	case KindDevice:
		return "device"
	case KindIndex:
		return "index"
	case KindFile:
		return "file"
	case KindPipeline:
		return "pipeline"
	}
	return "unknown"
}

// Config says which source to open and how. The zero values of the optional
// fields select the defaults documented on each field.
type Config struct {
	// Device is "/dev/video0", an index such as "0", a video file path or
	// URL, or a GStreamer pipeline (recognised by " ! ").
	Device string `yaml:"device" json:"device"`
	// Width and Height request a capture resolution from a device; 0 keeps
	// the driver's default. Both or neither must be set.
	Width  int `yaml:"width" json:"width"`
	Height int `yaml:"height" json:"height"`
	// FPS requests a frame rate from a device. For a file it overrides the
	// pacing rate (0: the file's own rate).
	FPS float64 `yaml:"fps" json:"fps"`
	// FourCC requests a pixel format from a device, e.g. "MJPG" (compressed,
	// lets USB 2.0 cameras deliver full resolution at full rate) or "YUYV".
	// Empty keeps the driver's default.
	FourCC string `yaml:"fourcc" json:"fourcc"`
	// Loop restarts a file source at its end (demo); without it a file is
	// read once and Run returns at its end.
	Loop bool `yaml:"loop" json:"loop"`
	// NoPace reads file sources as fast as they decode instead of at their
	// frame rate (benchmarks, batch tools).
	NoPace bool `yaml:"no_pace" json:"no_pace"`
	// ReadFailures is how many consecutive failed reads mark an open source
	// as failed and trigger a reconnect. Default 3.
	ReadFailures int `yaml:"read_failures" json:"read_failures"`
	// MaxRetries bounds the consecutive failed attempts to (re)open the
	// source before Run gives up with ErrRetriesExhausted. 0 retries forever,
	// which is what a daemon wants.
	MaxRetries int `yaml:"max_retries" json:"max_retries"`
	// Backoff spaces reconnect attempts. Zero fields take DefaultBackoff's.
	Backoff Backoff `yaml:"backoff" json:"backoff"`
	// Clock times backoff waits and stamps frames. Default: the system clock.
	Clock Clock `yaml:"-" json:"-"`
}

// Kind classifies Device.
func (c Config) Kind() SourceKind {
	d := c.Device
	switch {
	case strings.Contains(d, " ! "):
		return KindPipeline
	case strings.HasPrefix(d, "/dev/"):
		return KindDevice
	}
	if _, err := strconv.Atoi(d); err == nil {
		return KindIndex
	}
	return KindFile
}

// Validate reports the first problem with c, wrapping ErrConfig.
func (c Config) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrConfig}, a...)...)
	}
	if strings.TrimSpace(c.Device) == "" {
		return bad("device is empty")
	}
	if c.Kind() == KindIndex {
		if n, _ := strconv.Atoi(c.Device); n < 0 {
			return bad("device index %d is negative", n)
		}
	}
	if c.Width < 0 || c.Height < 0 || c.Width > 16384 || c.Height > 16384 {
		return bad("resolution %dx%d out of range", c.Width, c.Height)
	}
	if (c.Width == 0) != (c.Height == 0) {
		return bad("width and height must be set together (got %dx%d)", c.Width, c.Height)
	}
	if c.FPS < 0 || c.FPS > 1000 || math.IsNaN(c.FPS) {
		return bad("fps %v out of range", c.FPS)
	}
	if c.FourCC != "" {
		if len(c.FourCC) != 4 {
			return bad("fourcc %q must be 4 characters", c.FourCC)
		}
		for _, r := range c.FourCC {
			if r < 0x20 || r > 0x7e {
				return bad("fourcc %q must be printable ASCII", c.FourCC)
			}
		}
	}
	if c.ReadFailures < 0 {
		return bad("read_failures %d is negative", c.ReadFailures)
	}
	if c.MaxRetries < 0 {
		return bad("max_retries %d is negative", c.MaxRetries)
	}
	if err := c.Backoff.validate(); err != nil {
		return bad("%v", err)
	}
	return nil
}

// withDefaults fills the optional fields.
func (c Config) withDefaults() Config {
	if c.ReadFailures == 0 {
		c.ReadFailures = 3
	}
	c.Backoff = c.Backoff.withDefaults()
	if c.Clock == nil {
		c.Clock = SystemClock{}
	}
	return c
}

// redactedDevice is Device as it may appear in logs and states: URLs lose
// their credentials (rtsp://user:pass@host/…).
func redactedDevice(d string) string {
	u, err := url.Parse(d)
	if err != nil || u.User == nil {
		return d
	}
	u.User = url.User("redacted")
	return u.String()
}

// Backoff spaces reconnect attempts (see backoff.Policy); zero fields take
// DefaultBackoff's.
type Backoff backoff.Policy

// DefaultBackoff suits a USB camera: a replug is retried within a quarter
// second, a dead camera is polled every 10 s.
var DefaultBackoff = Backoff{Initial: 250 * time.Millisecond, Max: 10 * time.Second, Factor: 2}

func (b Backoff) withDefaults() Backoff {
	return Backoff(backoff.Policy(b).Or(backoff.Policy(DefaultBackoff)))
}

func (b Backoff) validate() error { return backoff.Policy(b).Validate() }

// Delay is the wait before the attempt following the n-th consecutive
// failure (n >= 1).
func (b Backoff) Delay(n int) time.Duration { return backoff.Policy(b.withDefaults()).Delay(n) }

// Clock is the time source, replaceable in tests.
type Clock = backoff.Clock

// SystemClock is the real clock.
type SystemClock = backoff.SystemClock
