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
