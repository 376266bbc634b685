package hub_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/checkpoint-edge/checkpoint/audit"
	"github.com/checkpoint-edge/checkpoint/hub"
	"github.com/checkpoint-edge/checkpoint/hub/hubtest"
	"github.com/checkpoint-edge/checkpoint/hub/pgtest"
	"github.com/checkpoint-edge/checkpoint/sync/outbox"
)

// syncBuffer is a bytes.Buffer safe for concurrent log writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// desk is a unit with an audit log, an outbox and an uploader that
// anchors the log at the hub.
type desk struct {
	id      string
	logPath string
	log     *audit.Log
	ob      *outbox.Outbox
	up      *outbox.Uploader
	srv     *hubtest.Server
}

func newDesk(t *testing.T, srv *hubtest.Server, id string) *desk {
	d := &desk{id: id, logPath: filepath.Join(t.TempDir(), "audit.log"), srv: srv}
	var err error
	if d.ob, err = outbox.Open(filepath.Join(t.TempDir(), "outbox.db"), newKP(t), outbox.Options{UnitID: id}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.ob.Close() })
	d.openLog(t)
	return d
}

// openLog (re)opens the audit log and a new uploader, as a daemon start.
func (d *desk) openLog(t *testing.T) {
	t.Helper()
	if d.log != nil {
		d.log.Close()
		d.up.Close()
	}
	var err error
	if d.log, _, err = audit.Open(d.logPath); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.log.Close() })
	d.up, err = outbox.NewUploader(d.ob, outbox.UploaderOptions{HubURL: d.srv.URL, TLS: d.srv.Fleet.ClientTLS(t, d.id),
		Audit: d.log, AuditAckPath: audit.AckPath(d.logPath), AuditMaxEntries: 7})
	if err != nil {
		t.Fatal(err)
	}
}

// decide enqueues n results and audits each, as the lane does.
func (d *desk) decide(t *testing.T, n int, audited bool) {
	t.Helper()
	for i := range n {
		if _, err := d.ob.Enqueue(context.Background(), outbox.Item{Kind: "result", Priority: outbox.Routine,
			Payload: json.RawMessage(fmt.Sprintf(`{"decision":"CLEAR","n":%d}`, i))}); err != nil {
			t.Fatal(err)
		}
		if audited {
			if _, err := d.log.Append("transaction", "system", "decision", map[string]string{"tx": fmt.Sprint(i)}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// drain uploads everything and the audit head; the outbox must empty.
func (d *desk) drain(t *testing.T) {
	t.Helper()
	for range 50 { // several uploads when the proof comes in chunks
		if _, err := d.up.Drain(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		if d.ob.Status().Depth == 0 && d.ob.Status().Link.AuditStatus != audit.AnchorResync {
			if h, _ := d.log.Head(); d.ob.Status().Link.AuditAnchored == h || d.ob.Status().Link.AuditStatus != audit.AnchorOK {
				return
			}
		}
	}
	t.Fatalf("%s: not drained: %+v", d.id, d.ob.Status())
}

func (d *desk) unit(t *testing.T) hub.UnitInfo {
	t.Helper()
	units, err := d.srv.Hub().Units(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range units {
		if u.Unit == d.id {
			return u
		}
	}
	t.Fatalf("hub does not know %s", d.id)
	return hub.UnitInfo{}
}

// cut removes the last n lines of the audit log file (an insider's edit).
func cut(t *testing.T, path string, n int) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(raw, []byte("\n"))
	lines = lines[:len(lines)-1] // the empty string after the last newline
	if err := os.WriteFile(path, bytes.Join(lines[:len(lines)-n], nil), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestAuditAnchoring is issue 17 finding 9: cutting the tail of a unit's
// audit log, or rewriting it consistently, passes `audit verify` (the
// chain is intact) but is detected at the next upload; the hub logs it,
// counts it and flags the unit, and still stores the results uploaded
// with it; `audit.VerifyAgainst` (checkpointctl audit verify --against-hq)
// detects it on the unit; an operator's reset re-anchors.
func TestAuditAnchoring(t *testing.T) {
	for _, backend := range []string{"bolt", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			logs := &syncBuffer{}
			o := hubtest.Options{Logger: slog.New(slog.NewJSONHandler(logs, nil))}
			if backend == "postgres" {
				o.Postgres = pgtest.Shared(t)
			}
			srv := hubtest.Start(t, o)
			ops := client(srv.Fleet.OperatorTLS(t, "ops"))

			// Truncation, detected by the running daemon's uploader.
			a := newDesk(t, srv, "desk-a")
			a.decide(t, 20, true)
			a.drain(t)
			head, hash := a.log.Head()
			if u := a.unit(t); u.Audit.Head.Seq != head || u.Audit.Head.Hash != hash || u.Audit.Flag != "" || u.Records != 20 {
				t.Fatalf("anchored %+v, want head %d", u.Audit, head)
			}
			ack, err := audit.LoadAck(audit.AckPath(a.logPath))
			if err != nil || ack.Head.Seq != head || ack.Status != audit.AnchorOK {
				t.Fatalf("acknowledged head on the unit: %+v %v", ack, err)
			}
			if _, err := audit.VerifyAgainst(a.logPath, ack.Head); err != nil {
				t.Fatal(err)
			}
			cut(t, a.logPath, 5)
			if _, err := audit.Verify(a.logPath); err != nil {
				t.Fatalf("the cut log fails plain verification (%v): the test proves nothing", err)
			}
			a.decide(t, 4, false)
			a.drain(t)
			u := a.unit(t)
			if u.Audit.Flag != audit.AnchorTruncated || u.Audit.Head.Seq != head || u.Records != 24 {
				t.Fatalf("after truncation: %+v, %d records (want flag truncated, anchor %d, 24 records)", u.Audit, u.Records, head)
			}
			if got := len(srv.Results(t, "desk-a")); got != 24 {
				t.Fatalf("results stored: %d, want 24", got)
			}
			if st := a.ob.Status(); st.Depth != 0 || st.Link.AuditStatus != audit.AnchorTruncated {
				t.Fatalf("unit status %+v", st)
			}
			ack, _ = audit.LoadAck(audit.AckPath(a.logPath))
			if _, err := audit.VerifyAgainst(a.logPath, ack.Head); !errors.Is(err, audit.ErrTruncated) {
				t.Fatalf("verify against HQ after truncation: %v", err)
			}

			// A consistent rewrite, detected after a daemon restart.
			b := newDesk(t, srv, "desk-b")
			b.decide(t, 10, true)
			b.drain(t)
			anchored := b.unit(t).Audit.Head
			b.log.Close()
			cut(t, b.logPath, 3)
			b.openLog(t)
			b.decide(t, 6, true) // new entries over the cut ones: the chain verifies
			if r, err := audit.Verify(b.logPath); err != nil || r.Entries != 13 {
				t.Fatalf("rewritten log: %+v %v", r, err)
			}
			b.drain(t)
			if u := b.unit(t); u.Audit.Flag != audit.AnchorForked || u.Audit.Head != anchored || u.Records != 16 {
				t.Fatalf("after rewrite: %+v, %d records", u.Audit, u.Records)
			}
			ack, _ = audit.LoadAck(audit.AckPath(b.logPath))
			if _, err := audit.VerifyAgainst(b.logPath, ack.Head); !errors.Is(err, audit.ErrRewritten) {
				t.Fatalf("verify against HQ after rewrite: %v", err)
			}

			// The hub raised it: log, metric, flagged units listed.
			l := logs.String()
			for _, want := range []string{`"unit":"desk-a","status":"truncated"`, `"unit":"desk-b","status":"forked"`} {
				if !strings.Contains(l, want) {
					t.Errorf("hub log lacks %s", want)
				}
			}
			if strings.Contains(l, `"action"`) || strings.Contains(l, "decision\",\"fields") {
				t.Error("audit entries in the hub's logs")
			}
			resp, body := do(t, ops, "GET", srv.URL+"/metrics", nil)
			for _, want := range []string{`checkpoint_hub_audit_anchor_failures_total{status="truncated"}`, `checkpoint_hub_audit_anchor_failures_total{status="forked"}`, "checkpoint_hub_audit_flagged_units 2"} {
				if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
					t.Errorf("metrics lack %s (%s)", want, resp.Status)
				}
			}
			resp, body = do(t, ops, "GET", srv.URL+"/v1/units", nil)
			if !strings.Contains(string(body), `"flag":"truncated"`) || !strings.Contains(string(body), `"flag":"forked"`) {
				t.Fatalf("units: %s %s", resp.Status, body)
			}

			// An operator investigates and resets desk-b: its next head is
			// adopted and later uploads extend it.
			if resp, body := do(t, client(srv.Fleet.ClientTLS(t, "desk-b")), "POST", srv.URL+"/v1/units/desk-b/audit/reset", nil); resp.StatusCode != 403 {
				t.Fatalf("a unit reset its own flag: %s %s", resp.Status, body)
			}
			if resp, body := do(t, ops, "POST", srv.URL+"/v1/units/desk-b/audit/reset", nil); resp.StatusCode != 200 {
				t.Fatalf("reset: %s %s", resp.Status, body)
			}
			b.decide(t, 2, true)
			b.drain(t)
			b.decide(t, 2, true)
			b.drain(t)
			h, hh := b.log.Head()
			if u := b.unit(t); u.Audit.Flag != "" || u.Audit.Head.Seq != h || u.Audit.Head.Hash != hh {
				t.Fatalf("after reset: %+v, want head %d", u.Audit, h)
			}
		})
	}
}
