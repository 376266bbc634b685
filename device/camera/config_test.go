package camera_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/device/camera"
)

var configCases = []struct {
	name string
	cfg  camera.Config
	kind camera.SourceKind
	ok   bool
}{
	{"device path", camera.Config{Device: "/dev/video0", Width: 640, Height: 480, FPS: 30, FourCC: "MJPG"}, camera.KindDevice, true},
	{"by-id path", camera.Config{Device: "/dev/v4l/by-id/usb-046d_C270-video-index0"}, camera.KindDevice, true},
	{"index", camera.Config{Device: "2"}, camera.KindIndex, true},
	{"negative index", camera.Config{Device: "-1"}, camera.KindIndex, false},
	{"file", camera.Config{Device: "testdata/x.avi", Loop: true}, camera.KindFile, true},
	{"url", camera.Config{Device: "rtsp://user:pw@10.0.0.5/stream"}, camera.KindFile, true},
	{"pipeline", camera.Config{Device: "videotestsrc ! videoconvert ! appsink"}, camera.KindPipeline, true},
	{"empty", camera.Config{}, camera.KindFile, false},
	{"blank", camera.Config{Device: "  "}, camera.KindFile, false},
	{"width only", camera.Config{Device: "0", Width: 640}, camera.KindIndex, false},
	{"negative size", camera.Config{Device: "0", Width: -640, Height: -480}, camera.KindIndex, false},
	{"huge size", camera.Config{Device: "0", Width: 100000, Height: 480}, camera.KindIndex, false},
	{"negative fps", camera.Config{Device: "0", FPS: -1}, camera.KindIndex, false},
	{"nan fps", camera.Config{Device: "0", FPS: math.NaN()}, camera.KindIndex, false},
	{"short fourcc", camera.Config{Device: "0", FourCC: "MJP"}, camera.KindIndex, false},
	{"binary fourcc", camera.Config{Device: "0", FourCC: "MJ\x00G"}, camera.KindIndex, false},
	{"negative read failures", camera.Config{Device: "0", ReadFailures: -1}, camera.KindIndex, false},
	{"negative retries", camera.Config{Device: "0", MaxRetries: -1}, camera.KindIndex, false},
	{"backoff factor < 1", camera.Config{Device: "0", Backoff: camera.Backoff{Factor: 0.5}}, camera.KindIndex, false},
	{"backoff initial > max", camera.Config{Device: "0", Backoff: camera.Backoff{Initial: time.Minute, Max: time.Second}}, camera.KindIndex, false},
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range configCases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.cfg.Kind(); got != tc.kind {
				t.Errorf("Kind = %v, want %v", got, tc.kind)
			}
			err := tc.cfg.Validate()
			if tc.ok != (err == nil) {
				t.Fatalf("Validate = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, camera.ErrConfig) {
				t.Fatalf("error %v does not wrap ErrConfig", err)
			}
			c, err := camera.Open(tc.cfg, nil)
			if tc.ok != (err == nil) {
				t.Fatalf("Open = %v, want ok=%v", err, tc.ok)
			}
			if c != nil {
				if st := c.State(); st.Status != camera.StatusIdle {
					t.Errorf("fresh capture status %v", st.Status)
				}
				if err := c.Close(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func TestStateRedactsCredentials(t *testing.T) {
	c, err := camera.Open(camera.Config{Device: "rtsp://officer:secret@10.0.0.5/stream"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	b, err := c.State().MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if s := string(b); strings.Contains(s, "secret") || strings.Contains(s, "officer") || !strings.Contains(s, `"status":"idle"`) {
		t.Fatalf("state JSON %s", s)
	}
}

func TestBackoffDelay(t *testing.T) {
	b := camera.Backoff{Initial: 100 * time.Millisecond, Max: time.Second, Factor: 3}
	want := []time.Duration{100, 300, 900, 1000, 1000}
	for i, w := range want {
		if d := b.Delay(i + 1); d != w*time.Millisecond {
			t.Errorf("Delay(%d) = %v, want %v", i+1, d, w*time.Millisecond)
		}
	}
	if d := (camera.Backoff{}).Delay(1); d != camera.DefaultBackoff.Initial {
		t.Errorf("zero Backoff Delay(1) = %v, want default %v", d, camera.DefaultBackoff.Initial)
	}
	if d := (camera.Backoff{}).Delay(1000); d != camera.DefaultBackoff.Max {
		t.Errorf("Delay(1000) = %v, want cap %v", d, camera.DefaultBackoff.Max)
	}
}

// FuzzConfig checks that any device string and settings are classified and
// validated without panicking, and that valid configs open.
func FuzzConfig(f *testing.F) {
	for _, tc := range configCases {
		f.Add(tc.cfg.Device, tc.cfg.Width, tc.cfg.Height, tc.cfg.FPS, tc.cfg.FourCC)
	}
	f.Fuzz(func(t *testing.T, dev string, w, h int, fps float64, fourcc string) {
		cfg := camera.Config{Device: dev, Width: w, Height: h, FPS: fps, FourCC: fourcc}
		k := cfg.Kind()
		if k < camera.KindDevice || k > camera.KindPipeline {
			t.Fatalf("kind %v", k)
		}
		err := cfg.Validate()
		if err != nil {
			if !errors.Is(err, camera.ErrConfig) {
				t.Fatalf("unwrapped error %v", err)
			}
			return
		}
		if w < 0 || h < 0 || fps < 0 || (len(fourcc) != 0 && len(fourcc) != 4) {
			t.Fatalf("accepted %+v", cfg)
		}
		c, err := camera.Open(cfg, nil)
		if err != nil {
			t.Fatalf("valid config refused by Open: %v", err)
		}
		c.Close()
	})
}
