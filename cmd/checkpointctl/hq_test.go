package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/audit"
	"github.com/checkpoint-edge/checkpoint/hub/hubtest"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/sync/outbox"
)

// anchoredUnit uploads n results of unit with its audit log anchored at
// srv, and returns the log's path.
func anchoredUnit(t *testing.T, srv *hubtest.Server, unit string, payloads []string) (string, *outbox.Uploader, *outbox.Outbox) {
	t.Helper()
	dir := t.TempDir()
	logPath := filepath.Join(dir, "audit.log")
	writeAuditLog(t, logPath, 8, map[string]string{"tx": "t-1"})
	l, _, err := audit.Open(logPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	kp := seal.FileKey{Path: filepath.Join(dir, "k")}
	seal.GenerateKeyFile(kp.Path)
	o, err := outbox.Open(filepath.Join(dir, "outbox.db"), kp, outbox.Options{UnitID: unit})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	for _, p := range payloads {
		o.Enqueue(context.Background(), outbox.Item{Kind: "result", Priority: outbox.Hit, Payload: json.RawMessage(p)})
	}
	up, err := outbox.NewUploader(o, outbox.UploaderOptions{HubURL: srv.URL, TLS: srv.Fleet.ClientTLS(t, unit),
		Audit: l, AuditAckPath: audit.AckPath(logPath)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { up.Close() })
	if n, err := up.Drain(context.Background(), nil); err != nil || n != len(payloads) {
		t.Fatalf("drain: %d %v", n, err)
	}
	return logPath, up, o
}

func TestAuditVerifyAgainstHQ(t *testing.T) {
	srv := hubtest.Start(t, hubtest.Options{})
	logPath, _, _ := anchoredUnit(t, srv, "desk-3", []string{`{"decision":"CLEAR"}`})
	out, errOut, code := runTech(t, "", nil, "audit", "verify", "--log", logPath, "--against-hq")
	if code != 0 || !strings.Contains(out, "extends the head headquarters acknowledged (entry 8") {
		t.Fatalf("intact: exit %d\n%s%s", code, out, errOut)
	}
	raw, _ := os.ReadFile(logPath)
	lines := bytes.SplitAfter(raw, []byte("\n"))

	// Cut: plain verify says OK, --against-hq does not.
	os.WriteFile(logPath, bytes.Join(lines[:5], nil), 0o600)
	if out, _, code := runTech(t, "", nil, "audit", "verify", "--log", logPath); code != 0 || !strings.Contains(out, "OK: the chain is intact") {
		t.Fatalf("plain verify of the cut log: exit %d %s", code, out)
	}
	out, _, code = runTech(t, "", nil, "audit", "verify", "--log", logPath, "--against-hq")
	if code != 1 || !strings.Contains(out, "TRUNCATED") || !strings.Contains(out, "acknowledged 8 entries, the log holds 5") {
		t.Fatalf("cut: exit %d\n%s", code, out)
	}
	out, _, _ = runTech(t, "", nil, "audit", "verify", "--log", logPath, "--against-hq", "--json")
	var res auditVerifyResult
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.OK || res.HQ == nil || res.HQ.Head.Seq != 8 || res.BrokenAt != 0 {
		t.Fatalf("json: %+v %v", res, err)
	}

	// Rewritten consistently: cut at 5, three new entries.
	writeAuditLog(t, logPath, 3, map[string]string{"tx": "forged"})
	if _, _, code := runTech(t, "", nil, "audit", "verify", "--log", logPath); code != 0 {
		t.Fatal("rewritten log fails plain verify: the test proves nothing")
	}
	out, _, code = runTech(t, "", nil, "audit", "verify", "--log", logPath, "--against-hq")
	if code != 1 || !strings.Contains(out, "REWRITTEN") {
		t.Fatalf("rewritten: exit %d\n%s", code, out)
	}

	other := filepath.Join(t.TempDir(), "audit.log")
	writeAuditLog(t, other, 2, nil)
	if _, errOut, code := runTech(t, "", nil, "audit", "verify", "--log", other, "--against-hq"); code != 2 || !strings.Contains(errOut, "no head acknowledged") {
		t.Fatalf("no acknowledgement: exit %d %s", code, errOut)
	}
}

func TestHQCommands(t *testing.T) {
	srv := hubtest.Start(t, hubtest.Options{})
	bin := techBinary(t)
	dir := t.TempDir()
	opCert, opKey := filepath.Join(dir, "analyst.pem"), filepath.Join(dir, "analyst.key")
	out, _ := runWant(t, bin, nil, 0, "keys", "tls", "operator", "analyst", "--ca", srv.Fleet.CACert, "--ca-key", srv.Fleet.CAKey,
		"--cert", opCert, "--key-file", opKey)
	if !strings.Contains(out, `operator certificate "analyst"`) {
		t.Fatalf("keys tls operator: %s", out)
	}
	// A unit certificate is refused by hq commands.
	unitCert, unitKey := srv.Fleet.Unit(t, "desk-1")
	hq := func(cert, key string, args ...string) []string {
		return append([]string{"hq", "--hub", srv.URL, "--cert", cert, "--key-file", key, "--ca", srv.Fleet.CACert}, args...)
	}
	if _, errOut, code := runTech(t, "", nil, hq(unitCert, unitKey, "units")...); code == 0 || !strings.Contains(errOut, "operator certificate required") {
		t.Fatalf("unit certificate: exit %d %s", code, errOut)
	}

	now := time.Now().UTC()
	var payloads []string
	for i := range 6 {
		dec, hits := "CLEAR", ""
		if i%2 == 0 {
			dec, hits = "HIT", `{"kind":"person","ref_id":"P-42","category":"wanted"}`
		}
		payloads = append(payloads, fmt.Sprintf(`{"tx_id":"tx-%d","decision":%q,"document":{"surname":"SECRETNAME"},"decided_at":%q,"hits":[%s]}`, i, dec, now.Format(time.RFC3339), hits))
	}
	logPath, up, ob := anchoredUnit(t, srv, "desk-7", payloads)

	out, _ = runWant(t, bin, nil, 0, hq(opCert, opKey, "results", "--decision", "hit", "--unit", "desk-7", "--since", "1h")...)
	if n := strings.Count(out, "desk-7"); n != 3 || !strings.Contains(out, "wanted") || strings.Contains(out, "SECRETNAME") {
		t.Fatalf("results table (%d rows):\n%s", n, out)
	}
	out, _ = runWant(t, bin, nil, 0, hq(opCert, opKey, "results", "--json", "--all", "--limit", "2", "--unit", "desk-7", "--since", "1h")...)
	if n := strings.Count(out, "\n"); n != 6 || !strings.Contains(out, "SECRETNAME") {
		t.Fatalf("results --json --all: %d lines", n)
	}
	out, _ = runWant(t, bin, nil, 0, hq(opCert, opKey, "entries")...)
	if !strings.Contains(out, "person:P-42") || !strings.Contains(out, "3 hits") {
		t.Fatalf("entries: %s", out)
	}
	out, _ = runWant(t, bin, nil, 0, hq(opCert, opKey, "units", "--flagged")...)
	if strings.Contains(out, "desk-7") {
		t.Fatalf("units --flagged lists a healthy unit: %s", out)
	}

	// The feed: start it, then a hit and an officer decision arrive.
	feedOut := make(chan string, 1)
	go func() {
		so, se, code := runTech(t, "", nil, hq(opCert, opKey, "feed", "--count", "2", "--json")...)
		feedOut <- fmt.Sprintf("exit %d\n%s%s", code, so, se)
	}()
	deadline := time.Now().Add(60 * time.Second)
	for srv.Hub().FeedSubscribers() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("hq feed did not connect")
		}
		time.Sleep(20 * time.Millisecond)
	}
	ob.Enqueue(context.Background(), outbox.Item{Kind: "result", Priority: outbox.Hit, Payload: json.RawMessage(`{"tx_id":"tx-9","decision":"HIT","hits":[{"kind":"person","ref_id":"P-42","category":"wanted"}]}`)})
	ob.Enqueue(context.Background(), outbox.Item{Kind: "officer_decision", Priority: outbox.Hit, Payload: json.RawMessage(`{"tx_id":"tx-9","verdict":"confirmed","officer":"4711"}`)})
	if _, err := up.Drain(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-feedOut:
		if !strings.HasPrefix(got, "exit 0") || !strings.Contains(got, `"tx_id":"tx-9"`) || !strings.Contains(got, `"verdict":"confirmed"`) {
			t.Fatalf("feed:\n%s", got)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("feed printed nothing")
	}

	// Truncation flags the unit; hq units --flagged exits 1; audit-reset.
	raw, _ := os.ReadFile(logPath)
	lines := bytes.SplitAfter(raw, []byte("\n"))
	os.WriteFile(logPath, bytes.Join(lines[:3], nil), 0o600)
	ob.Enqueue(context.Background(), outbox.Item{Kind: "result", Priority: outbox.Routine, Payload: json.RawMessage(`{"decision":"CLEAR"}`)})
	if _, err := up.Drain(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	so, se := runWant(t, bin, nil, 1, hq(opCert, opKey, "units", "--flagged")...)
	if !strings.Contains(so, "desk-7") || !strings.Contains(so, "FLAGGED truncated") || !strings.Contains(se, "1 unit(s) flagged") {
		t.Fatalf("units --flagged: %s %s", so, se)
	}
	runWant(t, bin, nil, 0, hq(opCert, opKey, "audit-reset", "desk-7")...)
	runWant(t, bin, nil, 0, hq(opCert, opKey, "units", "--flagged")...)
	if _, errOut, code := runTech(t, "", nil, hq(opCert, opKey, "results", "--decision", "maybe")...); code != 2 {
		t.Fatalf("bad filter: exit %d %s", code, errOut)
	}
}
