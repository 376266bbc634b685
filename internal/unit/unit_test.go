package unit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/audit"
	"github.com/checkpoint-edge/checkpoint/gate"
	"github.com/checkpoint-edge/checkpoint/internal/unit"
	"github.com/checkpoint-edge/checkpoint/internal/unit/unittest"
	"github.com/checkpoint-edge/checkpoint/lane"
	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// running starts the unit in-process and stops it at cleanup.
func running(t testing.TB, f *unittest.Fixture) *unit.Unit {
	t.Helper()
	u, _ := startUnit(t, f)
	return u
}

// streaming starts the unit and waits for its camera to deliver frames: a
// document scanned before that is decided without a face (camera_down),
// which on a loaded machine (models loading, first frames) can take a
// while.
func streaming(t testing.TB, f *unittest.Fixture) *unit.Unit {
	t.Helper()
	u := running(t, f)
	waitFor(t, "camera streaming", func() bool { return u.Health().Camera == "streaming" })
	return u
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// decided scans lines on the PTY and returns the decided transaction.
func decided(t testing.TB, u *unit.Unit, f *unittest.Fixture, lines []string) *lane.Transaction {
	t.Helper()
	ch, cancel := u.Subscribe(64)
	defer cancel()
	f.Scan(lines)
	timeout := time.After(30 * time.Second)
	for {
		select {
		case ev := <-ch:
			if ev.Type == lane.EventDecision {
				return ev.Transaction
			}
		case <-timeout:
			t.Fatal("no decision within 30 s")
		}
	}
}

func unixClient(path string) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", path)
		}}}
}

func kinds(tx *lane.Transaction) string {
	var k []string
	for _, h := range tx.Hits {
		k = append(k, h.Kind)
	}
	return strings.Join(k, ",")
}

func TestDocumentOnlyLane(t *testing.T) {
	f := unittest.New(t, unittest.Options{})
	u := running(t, f)

	cases := []struct {
		name     string
		lines    []string
		decision lane.Decision
		kinds    string
	}{
		{"stolen passport", f.Stolen, lane.Hit, "document"},
		{"listed person by name and date of birth", f.Listed, lane.Hit, "person"},
		{"clear traveller", f.Clear, lane.Clear, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tx := decided(t, u, f, tc.lines)
			if tx.Decision != tc.decision || kinds(tx) != tc.kinds {
				t.Fatalf("decision %s hits [%s] reasons %v, want %s [%s]", tx.Decision, kinds(tx), tx.Reasons, tc.decision, tc.kinds)
			}
			if !tx.Document.Valid || tx.Sequence != 1 {
				t.Fatalf("document %+v sequence %d", tx.Document, tx.Sequence)
			}
		})
	}
	// The same document twice in a row is flagged as a repeat.
	tx := decided(t, u, f, f.Clear)
	if !tx.Document.Repeat {
		t.Error("repeat scan not flagged")
	}

	// The gate pushes a document it read itself; answers carry no names.
	gc := unixClient(f.Config.Gate.Socket)
	body, _ := json.Marshal(map[string][]string{"mrz": f.Stolen})
	resp, err := gc.Post("http://unix/v1/documents", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var m gate.Message
	json.Unmarshal(b, &m)
	if resp.StatusCode != 200 || m.Decision != lane.Hit || len(m.Actions) != 1 || m.Actions[0] != "refer" {
		t.Fatalf("gate push: %d %s", resp.StatusCode, b)
	}
	if bytes.Contains(b, []byte("ERIKSSON")) || bytes.Contains(b, []byte("X0000042")) {
		t.Fatalf("gate answer carries personal data: %s", b)
	}
	resp, _ = gc.Post("http://unix/v1/documents", "application/json", strings.NewReader(`{"mrz":["only one line"]}`))
	if resp.StatusCode != 400 {
		t.Fatalf("one-line MRZ: %d", resp.StatusCode)
	}
	resp.Body.Close()

	// The technician's status on the admin socket.
	ac := unixClient(filepath.Join(f.Config.StateDir, unit.AdminSocket))
	resp, err = ac.Get("http://unix/v1/status")
	if err != nil {
		t.Fatal(err)
	}
	var st unit.Status
	json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if st.Health.Scanner != "connected" || st.Watchlist.Meta.Sequence != 1 || st.Outbox == nil || st.Outbox.Depth < 5 || st.Disk.TotalBytes == 0 {
		t.Fatalf("status %+v", st)
	}
	if st.Health.TransactionsDone < 5 || st.Health.LastTransaction.IsZero() {
		t.Fatalf("transactions not counted: %+v", st.Health)
	}
	if st.Health.Link != "offline" || st.Health.Camera != "disabled" {
		t.Fatalf("health %+v", st.Health)
	}

	// Metrics on the admin socket say which build runs and how much disk
	// is left; a unit without a hub exports no link gauge.
	resp, err = ac.Get("http://unix/metrics")
	if err != nil {
		t.Fatal(err)
	}
	mb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"checkpoint_build_info{", `dlib="19.24.0"`, "checkpoint_disk_free_bytes "} {
		if !bytes.Contains(mb, []byte(want)) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if bytes.Contains(mb, []byte("checkpoint_hub_link_up")) {
		t.Error("hub link gauge exported by a unit without a hub")
	}
}

// Starting with a new configuration, root of trust or TLS identity is
// audited; starting again with the same files is not.
func TestAuditsConfig(t *testing.T) {
	f := unittest.New(t, unittest.Options{Hub: true})
	start := func() {
		t.Helper()
		u, err := unit.New(f.Config, nil)
		if err != nil {
			t.Fatal(err)
		}
		u.Close()
	}
	count := func(what string) int {
		b, _ := os.ReadFile(f.Config.Audit.Path)
		return strings.Count(string(b), what)
	}
	start()
	start()
	if _, err := audit.Verify(f.Config.Audit.Path); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{`"kind":"config_change"`, `"action":"trust_root_loaded"`, `"action":"fleet_ca_loaded"`, `"action":"unit_certificate_loaded"`} {
		if n := count(c); n != 1 {
			t.Errorf("%d entries with %s after two starts, want 1", n, c)
		}
	}
	// A technician swaps the trust file (here: the same root, re-encoded).
	tf, err := os.OpenFile(f.Config.Watchlist.Trust, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	tf.WriteString("\n")
	tf.Close()
	start()
	if n := count(`"action":"trust_root_loaded"`); n != 2 {
		t.Fatalf("%d trust_root_loaded entries after the trust file changed, want 2", n)
	}
}

// The unit pulls a newer watchlist from the hub over mutual TLS, installs
// it, audits the change, and matches against it.
func TestPullsWatchlistFromHub(t *testing.T) {
	f := unittest.New(t, unittest.Options{Hub: true})
	changes := append([]watchlist.Change(nil), f.Changes...)
	changes = append(changes, watchlist.Change{Op: watchlist.OpPut, Kind: watchlist.KindDocument, ID: "SLTD-NZL",
		Document: &watchlist.DocumentAlert{ID: "SLTD-NZL", IssuingState: "NZL", Number: "LA123456", Status: "revoked",
			Source: "national", Action: watchlist.ActionRefer}})
	f.Publish(t, 2, changes)
	u := running(t, f)
	waitFor(t, "sequence 2 installed", func() bool { return u.Health().WatchlistSeq == 2 })
	tx := decided(t, u, f, f.Clear) // the clear traveller's passport is now revoked
	if tx.Decision != lane.Hit || kinds(tx) != "document" || tx.Sequence != 2 {
		t.Fatalf("after sync: %s [%s] sequence %d", tx.Decision, kinds(tx), tx.Sequence)
	}
	waitFor(t, "watchlist change audited", func() bool {
		b, _ := os.ReadFile(f.Config.Audit.Path)
		return strings.Contains(string(b), `"to_sequence":"2"`)
	})
	if _, err := audit.Verify(f.Config.Audit.Path); err != nil {
		t.Fatal(err)
	}
	// The decision was uploaded: the link gauge says the hub is reachable.
	ac := unixClient(filepath.Join(f.Config.StateDir, unit.AdminSocket))
	waitFor(t, "hub link up in metrics", func() bool {
		resp, err := ac.Get("http://unix/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return bytes.Contains(b, []byte("checkpoint_hub_link_up 1"))
	})
}

func TestCameraDownRefers(t *testing.T) {
	f := unittest.New(t, unittest.Options{Camera: true})
	f.Config.Camera.Device = filepath.Join(f.Dir, "unplugged.avi")
	u := running(t, f)
	tx := decided(t, u, f, f.Clear)
	if tx.Decision != lane.Refer || len(tx.Reasons) == 0 || tx.Reasons[0] != lane.ReasonCameraDown {
		t.Fatalf("decision %s %v, want REFER camera_down", tx.Decision, tx.Reasons)
	}
	// Document checks still run in the degraded mode.
	tx = decided(t, u, f, f.Stolen)
	if tx.Decision != lane.Hit || kinds(tx) != "document" {
		t.Fatalf("stolen passport with camera down: %s [%s]", tx.Decision, kinds(tx))
	}
	h := u.Health()
	if h.Camera == "streaming" || len(h.Alarms) == 0 {
		t.Fatalf("health does not show the camera fault: %+v", h)
	}
	// Each alarm has a code the officer's page words in every language.
	if len(h.AlarmCodes) != len(h.Alarms) || !slices.Contains(h.AlarmCodes, "camera_"+h.Camera) {
		t.Fatalf("alarm codes %v for %v", h.AlarmCodes, h.Alarms)
	}
	for _, c := range h.AlarmCodes {
		if !slices.Contains(lane.AlarmCodes, c) {
			t.Fatalf("alarm code %q is not in lane.AlarmCodes", c)
		}
	}
}

// READY=1 reaches systemd only once the store is open and the scanner was
// probed.
func TestNotifiesSystemd(t *testing.T) {
	f := unittest.New(t, unittest.Options{})
	sock := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", sock)
	got := make(chan string, 10)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			got <- string(buf[:n])
		}
	}()
	u := running(t, f)
	select {
	case m := <-got:
		if !strings.Contains(m, "READY=1") || !strings.Contains(m, "watchlist sequence 1") {
			t.Fatalf("notification %q", m)
		}
		if u.Health().Scanner != "connected" {
			t.Fatal("READY before the scanner was probed")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no READY=1")
	}
}
