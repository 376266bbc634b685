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
