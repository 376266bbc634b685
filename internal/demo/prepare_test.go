package demo

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/config"
	"github.com/checkpoint-edge/checkpoint/sync/bundle"
	"github.com/checkpoint-edge/checkpoint/vision"
	"github.com/checkpoint-edge/checkpoint/vision/facedlib"
)

func TestOptionsRefused(t *testing.T) {
	x := filepath.Join(t.TempDir(), "x")
	tests := []struct {
		name string
		o    Options
	}{
		{"no dir", Options{}},
		{"hold too short", Options{Dir: x, Hold: time.Second}},
		{"fps too low", Options{Dir: x, FPS: 0.5}},
		{"fps too high", Options{Dir: x, FPS: 240}},
		{"too many travellers", Options{Dir: x, MaxTravellers: 1000}},
		{"negative travellers", Options{Dir: x, MaxTravellers: -1}},
		{"no photos", Options{Dir: x, FacesDir: "", ModelsDir: "m"}},
	}
	t.Setenv("CHECKPOINT_FACES", filepath.Join(t.TempDir(), "none"))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Prepare(context.Background(), tt.o)
			if !errors.Is(err, ErrOptions) {
				t.Fatalf("Prepare = %v, want ErrOptions", err)
			}
			if _, err := os.Stat(x); err == nil {
				t.Fatal("refused options still created the directory")
			}
		})
	}
}

func TestClaimDir(t *testing.T) {
	base := t.TempDir()
	mk := func(name string, files ...string) string {
		d := filepath.Join(base, name)
		for _, f := range files {
			if err := os.MkdirAll(filepath.Dir(filepath.Join(d, f)), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(d, f), []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return d
	}
	tests := []struct {
		dir string
		ok  bool
	}{
		{filepath.Join(base, "new"), true},
		{mk("script", "logs/feed.log", "demo.pid"), true},
		{mk("ours", markerFile, "keys/unit.age", "state/watchlist.db"), true},
		{mk("home", "keys/id_ed25519", ".bashrc"), false},
		{mk("other", "notes.txt"), false},
	}
	for _, tt := range tests {
		err := claimDir(tt.dir)
		if (err == nil) != tt.ok {
			t.Errorf("claimDir(%s) = %v, want ok=%v", filepath.Base(tt.dir), err, tt.ok)
		}
		if err != nil {
			if !errors.Is(err, ErrOptions) {
				t.Errorf("claimDir(%s) = %v, want ErrOptions", filepath.Base(tt.dir), err)
			}
			if _, serr := os.Stat(filepath.Join(tt.dir, markerFile)); serr == nil {
				t.Errorf("claimDir(%s) marked a directory it refused", filepath.Base(tt.dir))
			}
		}
	}
}

func TestRoleCounts(t *testing.T) {
	for n := 1; n <= len(names); n++ {
		w, s, a := roleCounts(n)
		if w < 1 || w+s+a > n || (n >= 5 && w+s+a >= n) {
			t.Errorf("roleCounts(%d) = %d, %d, %d: want at least one wanted and, from 5 on, a clear traveller", n, w, s, a)
		}
	}
}

// TestPrepareReuseRefresh prepares a small demo, then reuses it after the
// bundle has aged: the next sequence is published beside the first and
// the unit's config follows the new addresses.
func TestPrepareReuseRefresh(t *testing.T) {
	models, err := vision.FindModels()
	if err == nil {
		_, err = vision.FindFaces()
	}
	if err == nil {
		_, err = os.Stat(facedlib.DefaultShapePredictor)
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("face models or photos missing (make test installs them): %v", err)
		}
		t.Skipf("face models or photos missing: %v", err)
	}
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	o := Options{Dir: filepath.Join(t.TempDir(), "demo"), ModelsDir: models, Hold: 2 * time.Second, FPS: 2,
		MaxTravellers: 5, Docs: 100, Persons: 20, Seed: 3, Now: func() time.Time { return now }}
	res, err := Prepare(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Reused || res.Manifest.Bundle.Sequence != 1 || len(res.Manifest.Travellers) != 5 {
		t.Fatalf("first run: %+v", res)
	}
	// The passenger lists for the page's expected arrivals, in the inbox
	// the config names.
	if ents, err := os.ReadDir(res.Paths.PaxInbox); err != nil || len(ents) != len(demoFlights) {
		t.Errorf("pre-arrival inbox: %v %v", ents, err)
	}
	if cfg, err := config.Load(res.Paths.Config); err != nil || cfg.Paxdata.Inbox != res.Paths.PaxInbox {
		t.Errorf("config's paxdata inbox: %v", err)
	}
	checkPrearrival(t, res.Paths, now)

	o.Now = func() time.Time { return now.Add(2 * time.Hour) }
	o.WebListen = "127.0.0.1:18090"
	res, err = Prepare(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Reused || res.Refreshed {
		t.Fatalf("two hours later: reused %v refreshed %v, want reused only", res.Reused, res.Refreshed)
	}

	o.Now = func() time.Time { return now.Add(refreshAfter + time.Hour) }
	res, err = Prepare(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Reused || !res.Refreshed || res.Manifest.Bundle.Sequence != 2 {
		t.Fatalf("after %s: %+v, want bundle sequence 2", refreshAfter, res)
	}
	f, err := os.Open(filepath.Join(res.Paths.HubBundles, WatchlistID, bundle.IndexFile))
	if err != nil {
		t.Fatal(err)
	}
	idx, err := bundle.ReadIndex(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if idx.Latest != 2 || len(idx.Bundles) != 2 {
		t.Errorf("index after refresh: latest %d, %d bundles; want 2 and 2", idx.Latest, len(idx.Bundles))
	}
	m, err := readManifest(res.Paths.Manifest)
	if err != nil || m.Bundle.Sequence != 2 {
		t.Errorf("manifest after refresh: %+v %v", m, err)
	}
	b, err := os.ReadFile(res.Paths.Config)
	if err != nil || !strings.Contains(string(b), "127.0.0.1:18090") {
		t.Errorf("config does not follow --listen: %v", err)
	}

	// A broken prepared directory is reported, not silently reused.
	if err := os.Remove(res.Paths.Video); err != nil {
		t.Fatal(err)
	}
	if _, err := Prepare(context.Background(), o); err == nil {
		t.Error("reusing a directory without its video succeeded")
	}
}
