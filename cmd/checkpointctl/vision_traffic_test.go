package main

import (
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/vision/traffic"
)

// TestVisionTraffic writes a real traffic log as the daemon does and checks
// the rates `vision traffic` reads from it, at the recorded bands and at
// what-if distances, and its refusals.
func TestVisionTraffic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, traffic.FileName)
	l, err := traffic.Open(path, 1000)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	// 100 searches at bands 0.80 / 0.90: top-1 at 0.70 (2), 0.85 (3), and
	// 95 strangers from 1.00 up; one more before any template was listed.
	for i := range 100 {
		d := float32(1.0 + float64(i)/100)
		switch {
		case i < 2:
			d = 0.70
		case i < 5:
			d = 0.85
		}
		if err := l.Append(traffic.Record{At: at.Add(time.Duration(i) * time.Minute), Top1: d, Gallery: 500, Hit: 0.80, Possible: 0.90}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Append(traffic.Record{At: at, Top1: float32(math.Inf(1)), Gallery: 0}); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	out, se, code := runTech(t, "", nil, "vision", "traffic", "--file", path, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, se)
	}
	var rep trafficReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%q: %v", out, err)
	}
	if rep.Searches != 100 || rep.Empty != 1 || rep.Gallery != 500 {
		t.Errorf("counts %+v", rep)
	}
	if r := rep.Recorded; r.Hits != 2 || r.Possibles != 5 || r.HitRate != 0.02 || r.PossibleRate != 0.05 {
		t.Errorf("recorded rates %+v", r)
	}
	if len(rep.Quantiles) == 0 || rep.Quantiles[0].Distance != 0.70 {
		t.Errorf("quantiles %+v", rep.Quantiles)
	}
	// Tighter what-if bands: only the two closest are possible matches.
	out, se, code = runTech(t, "", nil, "vision", "traffic", "--file", path, "--json", "--hit", "0.6", "--possible", "0.75")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, se)
	}
	rep = trafficReport{}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if w := rep.WhatIf; w.Hits != 0 || w.Possibles != 2 || w.Hit != 0.6 || w.Possible != 0.75 || rep.Recorded.Hits != 2 {
		t.Errorf("what-if %+v, recorded %+v", w, rep.Recorded)
	}
	// Text output says what the rates mean; it holds no identity.
	out, _, code = runTech(t, "", nil, "vision", "traffic", "--file", path)
	if code != 0 || !strings.Contains(out, "100 face searches") || !strings.Contains(out, "HIT or possible 5.000% (5)") {
		t.Errorf("text output (exit %d):\n%s", code, out)
	}

	for name, args := range map[string][]string{
		"missing file":   {"--file", filepath.Join(dir, "none")},
		"not a log":      {"--file", filepath.Join(dir)},
		"negative hit":   {"--file", path, "--hit", "-1"},
		"missing config": {"--config", filepath.Join(dir, "none.yaml")},
	} {
		if _, se, code := runTech(t, "", nil, append([]string{"vision", "traffic"}, args...)...); code == 0 || se == "" {
			t.Errorf("%s: exit %d, stderr %q", name, code, se)
		}
	}
}
