package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/checkpoint-edge/checkpoint/hub/hubtest"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/sync/outbox"
)

func testOutboxCommands(t *testing.T, bin string) {
	srv := hubtest.Start(t, hubtest.Options{Import: true})
	cert, key := srv.Fleet.Unit(t, "desk-5")
	kek := seal.NewKey()
	env := []string{"CP_TEST_OUTBOX_KEK=" + hex.EncodeToString(kek)}
	t.Setenv("CP_TEST_OUTBOX_KEK", hex.EncodeToString(kek))
	db := filepath.Join(t.TempDir(), "outbox.db")
	o, err := outbox.Open(db, seal.EnvKey{Var: "CP_TEST_OUTBOX_KEK"}, outbox.Options{UnitID: "desk-5"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 250 {
		p := outbox.Routine
		if i%5 == 0 {
			p = outbox.Hit
		}
		if _, err := o.Enqueue(context.Background(), outbox.Item{Kind: "result", Priority: p, Payload: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))}); err != nil {
			t.Fatal(err)
		}
	}
	base := []string{"outbox", "--outbox", db, "--key", "env:CP_TEST_OUTBOX_KEK"}
	args := func(a ...string) []string { return append(append([]string{}, base...), a...) }

	// While the daemon (here: this test) holds the file, commands say so.
	if _, errOut, code := runCtl(t, bin, env, args("status")...); code != exitOutboxBusy || !strings.Contains(errOut, "in use") {
		t.Fatalf("locked: exit %d, %q", code, errOut)
	}
	o.Close()

	out, errOut, code := runCtl(t, bin, env, args("status", "--json")...)
	if code != 0 {
		t.Fatalf("status: exit %d: %s", code, errOut)
	}
	var st outbox.Status
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status output %q: %v", out, err)
	}
	if st.Unit != "desk-5" || st.Depth != 250 || st.Hits != 50 || st.Routine != 200 || st.Oldest.IsZero() {
		t.Fatalf("status %+v", st)
	}
	if out, _, _ := runCtl(t, bin, env, args("status")...); !strings.Contains(out, "250 (50 hits, 200 routine)") {
		t.Fatalf("human status: %q", out)
	}

	// List: hits first, metadata only (the payloads hold personal data).
	out, errOut, code = runCtl(t, bin, env, args("list", "--json", "--limit", "60")...)
	if code != 0 {
		t.Fatalf("list: exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 60 || strings.Contains(out, `"n":`) || strings.Contains(out, "payload") {
		t.Fatalf("list: %d lines:\n%s", len(lines), out)
	}
	var first, last outbox.Listed
	json.Unmarshal([]byte(lines[0]), &first)
	json.Unmarshal([]byte(lines[59]), &last)
	if first.Priority != outbox.Hit || last.Priority != outbox.Routine || first.Bytes == 0 || first.Key == "" {
		t.Fatalf("list order: %+v … %+v", first, last)
	}
	if _, errOut, code := runCtl(t, bin, env, args("list", "--limit", "0")...); code != exitOutboxUsage {
		t.Fatalf("limit 0: exit %d %s", code, errOut)
	}

	// Hand-carry export, imported at the hub.
	exp := filepath.Join(t.TempDir(), "desk-5.age")
	out, errOut, code = runCtl(t, bin, env, args("export", "--json", "--to", srv.Recipient.String(), "--out", exp, "--cert", cert, "--key-file", key)...)
	if code != 0 || !strings.Contains(out, `"exported":250`) {
		t.Fatalf("export: exit %d, %q, %s", code, out, errOut)
	}
	if fi, err := os.Stat(exp); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("export file: %v %v", fi, err)
	}
	f, _ := os.Open(exp)
	res, err := srv.Hub().Import(f)
	f.Close()
	if err != nil || res.New != 250 {
		t.Fatalf("hub import: %+v, %v", res, err)
	}

	// Drain: hub down first (exit 3, nothing lost), then up.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "https://" + ln.Addr().String()
	ln.Close()
	drain := func(url string) (string, string, int) {
		return runCtl(t, bin, env, args("drain", "--json", "--hub", url, "--cert", cert, "--key-file", key, "--ca", srv.Fleet.CACert, "--batch", "60")...)
	}
	if out, _, code := drain(dead); code != exitOutboxHub || !strings.Contains(out, `"remaining":250`) {
		t.Fatalf("drain to a dead hub: exit %d, %q", code, out)
	}
	out, errOut, code = drain(srv.URL)
	if code != 0 || !strings.Contains(out, `"uploaded":250,"remaining":0`) {
		t.Fatalf("drain: exit %d, %q, %s", code, out, errOut)
	}
	if got := len(srv.Results(t, "desk-5")); got != 250 {
		t.Fatalf("hub holds %d, want 250 (import + upload must not duplicate)", got)
	}
	// The progress bar goes to stderr, the summary to stdout.
	o2, _ := outbox.Open(db, seal.EnvKey{Var: "CP_TEST_OUTBOX_KEK"}, outbox.Options{})
	o2.Enqueue(context.Background(), outbox.Item{Kind: "result", Priority: outbox.Hit, Payload: json.RawMessage(`{}`)})
	o2.Close()
	out, errOut, code = runCtl(t, bin, env, args("drain", "--hub", srv.URL, "--cert", cert, "--key-file", key, "--ca", srv.Fleet.CACert)...)
	if code != 0 || !strings.Contains(out, "uploaded 1, 0 remaining") || !strings.Contains(errOut, "uploading") {
		t.Fatalf("human drain: exit %d, stdout %q, stderr %q", code, out, errOut)
	}

	for _, tc := range []struct {
		name string
		env  []string
		args []string
		code int
		want string
	}{
		{"missing outbox", env, []string{"outbox", "--outbox", db + ".nope", "--key", "env:CP_TEST_OUTBOX_KEK", "status"}, exitOutboxUsage, "no such file"},
		{"wrong key", []string{"CP_TEST_OUTBOX_KEK=" + hex.EncodeToString(seal.NewKey())}, args("status"), exitOutboxUsage, "wrong key"},
		{"drain without hub", env, args("drain"), exitOutboxUsage, "--hub"},
		{"bad recipient", env, args("export", "--to", "age1nope", "--out", exp), exitOutboxUsage, "--to"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := runCtl(t, bin, tc.env, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, errOut, tc.code, tc.want)
			}
		})
	}
}
