package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestExposition(t *testing.T) {
	m := New()
	m.ObserveDecision("HIT", true, 420*time.Millisecond, []string{"person", "face"})
	m.ObserveDecision("CLEAR", false, 12*time.Millisecond, nil)
	m.DeviceUp.WithLabelValues("scanner").Set(1)
	m.OutboxDepth.Set(7)
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	body := string(b)
	for _, want := range []string{
		`checkpoint_decisions_total{decision="HIT"} 1`,
		`checkpoint_watchlist_hits_total{kind="face"} 1`,
		`checkpoint_decision_latency_seconds_bucket{face="with",le="0.5"} 1`,
		`checkpoint_decision_latency_seconds_bucket{face="without",le="0.025"} 1`,
		`checkpoint_device_up{device="scanner"} 1`,
		`checkpoint_outbox_depth 7`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("exposition lacks %q", want)
		}
	}
}

// TestScannerMetrics: issue 17 finding 4. Framing rejections and the
// input queue are in /metrics.
func TestScannerMetrics(t *testing.T) {
	m := New()
	m.WatchScanner(func() ScannerStats {
		return ScannerStats{Frames: 9999, Partial: 1, Malformed: 2, BytesRead: 900000, QueueFulls: 3, QueuedBytes: 4096, QueueFull: true}
	})
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`checkpoint_scanner_frames_total 9999`,
		`checkpoint_scanner_frames_rejected_total{reason="partial"} 1`,
		`checkpoint_scanner_frames_rejected_total{reason="malformed"} 2`,
		`checkpoint_scanner_frames_rejected_total{reason="bad_bcc"} 0`,
		`checkpoint_scanner_bytes_read_total 900000`,
		`checkpoint_scanner_queue_full_total 3`,
		`checkpoint_scanner_queue_bytes 4096`,
		`checkpoint_scanner_queue_full 1`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("exposition lacks %q", want)
		}
	}
}
