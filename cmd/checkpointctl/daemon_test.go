package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/internal/unit"
	"github.com/checkpoint-edge/checkpoint/internal/unit/unittest"
	"github.com/checkpoint-edge/checkpoint/sync/outbox"
	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// startUnit runs a real unit in-process from a fixture, as checkpointd
// would, until the test ends.
func startUnit(t *testing.T, f *unittest.Fixture) *unit.Unit {
	t.Helper()
	u, err := unit.New(f.Config, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- u.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Error("unit did not stop")
		}
		u.Close()
	})
	deadline := time.Now().Add(30 * time.Second)
	for u.Health().Scanner != "connected" {
		if time.Now().After(deadline) {
			t.Fatal("scanner never connected")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return u
}

// TestOutboxThroughDaemon: while checkpointd runs (and holds the outbox's
// lock), `outbox status` and `outbox list` with --config answer through
// the daemon's admin socket instead of failing on the lock.
func TestOutboxThroughDaemon(t *testing.T) {
	bin := techBinary(t)
	f := unittest.New(t, unittest.Options{})
	u := startUnit(t, f)
	ch, cancel := u.Subscribe(16)
	defer cancel()
	f.Scan(f.Stolen)
	for ev := range ch {
		if ev.Type == "decision" {
			break
		}
	}

	out, errOut, code := runCtl(t, bin, nil, "outbox", "status", "--json", "--config", f.ConfigPath)
	if code != 0 {
		t.Fatalf("status: exit %d: %s", code, errOut)
	}
	var st outbox.Status
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.Depth < 1 || st.Hits < 1 || st.Unit != unittest.UnitID {
		t.Fatalf("status %q: %+v %v", out, st, err)
	}
	out, errOut, code = runCtl(t, bin, nil, "outbox", "list", "--config", f.ConfigPath)
	if code != 0 || !strings.Contains(out, "KEY") || !strings.Contains(out, "hit") {
		t.Fatalf("list: exit %d: %s %s", code, out, errOut)
	}
	// Naming the file instead of the config goes to the file: locked.
	if _, errOut, code := runCtl(t, bin, nil, "outbox", "status", "--outbox", f.Config.Outbox.Path, "--key", f.Config.Outbox.Key); code != exitOutboxBusy {
		t.Fatalf("file while running: exit %d %s", code, errOut)
	}
}

// TestWatchlistThroughDaemon: while checkpointd runs (and holds the
// watchlist store's lock), `watchlist info` and `watchlist search` with
// --config answer through the daemon's admin socket; naming the file with
// --store still goes to the file, which is locked.
func TestWatchlistThroughDaemon(t *testing.T) {
	bin := techBinary(t)
	f := unittest.New(t, unittest.Options{})
	startUnit(t, f)

	out, errOut, code := runCtl(t, bin, nil, "watchlist", "info", "--json", "--config", f.ConfigPath)
	if code != 0 {
		t.Fatalf("info: exit %d: %s", code, errOut)
	}
	var in watchlist.Info
	if err := json.Unmarshal([]byte(out), &in); err != nil || in.Meta.Sequence != 1 || in.Meta.Persons < 1 ||
		in.Store != f.Config.Watchlist.Path || in.Provenance != "signed" || in.Thresholds.HitScore == 0 {
		t.Fatalf("info %q: %+v %v", out, in, err)
	}
	out, errOut, code = runCtl(t, bin, nil, "watchlist", "info", "--config", f.ConfigPath)
	if code != 0 || !strings.Contains(out, "sequence 1") || !strings.Contains(out, "person HIT") {
		t.Fatalf("info (text): exit %d: %s %s", code, out, errOut)
	}

	// The stolen document, and the listed person by name and birth date.
	out, errOut, code = runCtl(t, bin, nil, "watchlist", "search", "--json", "--config", f.ConfigPath, "--doc", "UTO:X0000042:P")
	var res searchOutput
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res.Query != "document" || len(res.Hits) == 0 || res.Hits[0].Kind != "document" {
		t.Fatalf("search --doc: exit %d: %s %s", code, out, errOut)
	}
	out, errOut, code = runCtl(t, bin, nil, "watchlist", "search", "--json", "--config", f.ConfigPath, "--name", "PARK, JIMIN", "--dob", "1995-10-13")
	res = searchOutput{}
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res.Query != "person" || len(res.Hits) == 0 || res.Hits[0].Kind != "person" {
		t.Fatalf("search --name: exit %d: %s %s", code, out, errOut)
	}
	// A name that is not listed: no hits, exit 0.
	out, errOut, code = runCtl(t, bin, nil, "watchlist", "search", "--json", "--config", f.ConfigPath, "--name", "LINDQVIST, OSKAR", "--dob", "1981-02-03")
	res = searchOutput{}
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || len(res.Hits) != 0 {
		t.Fatalf("search (not listed): exit %d: %s %s", code, out, errOut)
	}
	// Thresholds of one's own do not apply to the daemon's screening.
	if _, errOut, code := runCtl(t, bin, nil, "watchlist", "search", "--config", f.ConfigPath, "--name", "PARK, JIMIN", "--hit-threshold", "0.5"); code != 2 || !strings.Contains(errOut, "configured thresholds") {
		t.Fatalf("threshold flags while running: exit %d %s", code, errOut)
	}
	// Naming the file goes to the file: locked by the daemon.
	if _, errOut, code := runCtl(t, bin, nil, "watchlist", "info", "--store", f.Config.Watchlist.Path, "--key", f.Config.Watchlist.Key); code == 0 || !strings.Contains(errOut, "checkpointd") {
		t.Fatalf("file while running: exit %d %s", code, errOut)
	}
}
