package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/audit"
	"github.com/checkpoint-edge/checkpoint/device/camera"
	"github.com/checkpoint-edge/checkpoint/device/scanner"
	"github.com/checkpoint-edge/checkpoint/internal/unit"
	"github.com/checkpoint-edge/checkpoint/lane"
	"github.com/checkpoint-edge/checkpoint/sync/outbox"
	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// shortTempDir is a temporary directory with a short path: Unix socket
// paths are limited to 108 bytes and t.TempDir's include the test name.
func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "cpt")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// writeMinimalConfig writes a valid config for a unit without devices,
// with state in dir, plus extra YAML appended.
func writeMinimalConfig(t *testing.T, dir, extra string) string {
	t.Helper()
	path := filepath.Join(dir, "checkpointd.yaml")
	y := fmt.Sprintf(`version: 1
unit: {id: desk-07, mode: desk, site: north-crossing}
state_dir: %s
scanner: {enabled: false}
camera: {enabled: false}
web: {accounts: %s}
%s`, dir, filepath.Join(dir, "accounts.json"), extra)
	if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeAuditLog appends n entries to a new log at path and returns its head.
func writeAuditLog(t *testing.T, path string, n int, fields map[string]string) string {
	t.Helper()
	l, _, err := audit.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for i := range n {
		if _, err := l.Append(audit.KindOfficerDecision, "o1", fmt.Sprintf("confirm-%d", i+1), fields); err != nil {
			t.Fatal(err)
		}
	}
	_, head := l.Head()
	return head
}

// realisticStatus is what a desk unit with trouble reports: camera
// reconnecting, stale watchlist, link down, results queued.
func realisticStatus(now time.Time) unit.Status {
	return unit.Status{
		Version:   "1.4.0",
		StartedAt: now.Add(-3*time.Hour - 12*time.Minute),
		Now:       now,
		Health: lane.Health{Unit: "desk-07", Mode: "desk", Scanner: "connected", Camera: "reconnecting",
			CameraError: "camera: read failed: device unplugged", WatchlistSeq: 1234, Stale: true, Link: "down",
			OutboxDepth: 12, OutboxHits: 3, Alarms: []string{"Camera reconnecting", "Watchlist stale"}},
		Scanner: &scanner.State{Connected: true, Port: "/dev/ttyUSB0", Since: now.Add(-3 * time.Hour), Connects: 1, Events: 42,
			Decoder: scanner.Stats{Frames: 42, Partial: 1, Malformed: 2}, QueueFulls: 3},
		Camera: &camera.State{Status: camera.StatusReconnecting, Source: "/dev/video0", Kind: camera.KindDevice,
			Format: camera.Format{Width: 640, Height: 480, FPS: 15, FourCC: "MJPG", Backend: "V4L2"}, Seq: 99,
			Since: now.Add(-time.Minute), Failures: 4, Err: errors.New("camera: read failed: device unplugged"), ErrAt: now.Add(-time.Minute)},
		Watchlist: unit.WatchlistStatus{
			Meta: watchlist.Meta{WatchlistID: "national", Sequence: 1234, IssuedAt: now.Add(-50 * time.Hour),
				Documents: 1_000_000, Persons: 2000, Faces: 1500, StateHash: "ab12"},
			Age: "50h0m0s", MaxAge: "48h0m0s", Stale: true, LastSync: now.Add(-50 * time.Hour),
			LastSyncError: "hub: dial tcp 10.0.0.1:443: connect: connection refused",
		},
		Outbox: &outbox.Status{Unit: "desk-07", Depth: 12, Hits: 3, Routine: 9, Bytes: 123456, Oldest: now.Add(-2 * time.Hour),
			Link: outbox.LinkStatus{State: outbox.LinkDown, LastAttempt: now.Add(-time.Minute), LastSuccess: now.Add(-2 * time.Hour),
				LastError: "dial tcp 10.0.0.1:443: i/o timeout", ConsecutiveFailures: 7, Uploaded: 310}},
		Disk: unit.DiskStatus{Path: "/var/lib/checkpoint", FreeBytes: 12 << 30, TotalBytes: 50 << 30},
		Errors: []unit.ErrorEntry{
			{At: now.Add(-time.Minute), Component: "camera", Message: "read failed: device unplugged"},
			{At: now.Add(-30 * time.Second), Component: "uploader", Message: "hub unreachable"},
		},
	}
}

// serveStatus serves handler on a real Unix socket in dir, as checkpointd's
// admin socket does, and returns the socket path.
func serveStatus(t *testing.T, dir string, handler http.Handler) string {
	t.Helper()
	sock := filepath.Join(dir, "admin.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(sock, 0o600); err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return sock
}

func statusHandler(st unit.Status) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(st)
	})
	return mux
}

func TestStatus(t *testing.T) {
	dir := shortTempDir(t)
	cfg := writeMinimalConfig(t, dir, "")
	st := realisticStatus(time.Now().UTC())
	sock := serveStatus(t, dir, statusHandler(st))

	t.Run("human", func(t *testing.T) {
		out, errOut, code := runTech(t, "", nil, "status", "--config", cfg)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		for _, want := range []string{
			"checkpointd 1.4.0", "unit desk-07 (desk)", "up 3h12m",
			"ALARMS: Camera reconnecting; Watchlist stale",
			"scanner", "connected", "/dev/ttyUSB0", "42 documents",
			"REJECTED 1 partial, 2 malformed", "input queue filled 3 times",
			"RECONNECTING", "/dev/video0, MJPG 640x480@15 (V4L2)", "device unplugged",
			"STALE", "national version 1234", "age 50h0m0s (max 48h0m0s)", "1000000 documents, 2000 persons, 1500 faces",
			"connection refused",
			"link", "DOWN", "310 uploaded", "dial tcp 10.0.0.1:443: i/o timeout (7 failures in a row)",
			"12 queued", "3 hits, 9 routine, 120.6 KiB",
			"12.0 GiB free of 50.0 GiB on /var/lib/checkpoint",
			"last errors:", "uploader", "hub unreachable",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		if n := strings.Count(out, "\n"); n > 30 {
			t.Errorf("status takes %d lines, more than one screen:\n%s", n, out)
		}
	})

	t.Run("json via socket flag", func(t *testing.T) {
		out, errOut, code := runTech(t, "", nil, "status", "--socket", sock, "--json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if strings.Count(out, "\n") != 1 {
			t.Fatalf("want one JSON line, got:\n%s", out)
		}
		var got struct {
			Running bool   `json:"running"`
			Socket  string `json:"socket"`
			Status  struct {
				Health    lane.Health          `json:"health"`
				Outbox    outbox.Status        `json:"outbox"`
				Watchlist unit.WatchlistStatus `json:"watchlist"`
				Camera    map[string]any       `json:"camera"`
			} `json:"status"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if !got.Running || got.Socket != sock || got.Status.Health.Unit != "desk-07" || got.Status.Outbox.Hits != 3 ||
			got.Status.Outbox.Link.State != outbox.LinkDown || !got.Status.Watchlist.Stale || got.Status.Camera["status"] != "reconnecting" {
			t.Errorf("unexpected JSON: %+v", got)
		}
	})

	t.Run("daemon error", func(t *testing.T) {
		dir := shortTempDir(t)
		sock := serveStatus(t, dir, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "store closed", http.StatusInternalServerError)
		}))
		_, errOut, code := runTech(t, "", nil, "status", "--socket", sock)
		if code != 1 || !strings.Contains(errOut, "500") || !strings.Contains(errOut, "store closed") {
			t.Errorf("exit %d, stderr %q: want 1 and the daemon's error", code, errOut)
		}
	})
}

func TestStatusNotRunning(t *testing.T) {
	dir := shortTempDir(t)
	cfg := writeMinimalConfig(t, dir, "")
	head := writeAuditLog(t, filepath.Join(dir, "audit.log"), 3, map[string]string{"result": "r-1"})

	t.Run("no socket", func(t *testing.T) {
		out, errOut, code := runTech(t, "", nil, "status", "--config", cfg)
		if code != 3 {
			t.Fatalf("exit %d, want 3: %s", code, errOut)
		}
		if want := "checkpointd is not running (no admin socket at " + filepath.Join(dir, "admin.sock") + ")"; !strings.Contains(errOut, want) {
			t.Errorf("stderr %q lacks %q", errOut, want)
		}
		for _, want := range []string{"NOT RUNNING", "audit log", "OK", "3 entries, head " + head, "disk", "free of"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("stale socket json", func(t *testing.T) {
		// A socket file left by a killed daemon: connecting is refused.
		ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: filepath.Join(dir, "admin.sock"), Net: "unix"})
		if err != nil {
			t.Fatal(err)
		}
		ln.SetUnlinkOnClose(false)
		ln.Close()
		t.Cleanup(func() { os.Remove(filepath.Join(dir, "admin.sock")) })
		out, errOut, code := runTech(t, "", nil, "status", "--config", cfg, "--json")
		if code != 3 || !strings.Contains(errOut, "not running") {
			t.Fatalf("exit %d, stderr %q: want 3, not running", code, errOut)
		}
		var got struct {
			Running bool
			Error   string
			Audit   statusAudit
			Disk    struct {
				TotalBytes uint64 `json:"total_bytes"`
			}
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if got.Running || got.Audit.Entries != 3 || got.Audit.Head != head || !got.Audit.OK || got.Disk.TotalBytes == 0 ||
			!strings.Contains(got.Error, "nothing listens") {
			t.Errorf("unexpected JSON: %+v", got)
		}
	})

	t.Run("no config", func(t *testing.T) {
		_, errOut, code := runTech(t, "", nil, "status", "--config", filepath.Join(dir, "missing.yaml"))
		if code != 2 || !strings.Contains(errOut, "--socket") {
			t.Errorf("exit %d, stderr %q: want 2 and a hint", code, errOut)
		}
	})
}
