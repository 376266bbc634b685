package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/checkpoint-edge/checkpoint/internal/seal"
)

// TestUnsignedImportCannotDowngrade is issue 17's third finding, as found:
// `watchlist import --unsigned --sequence 18446744073709551615 tiny.jsonl`
// replaced an installed signed watchlist of 2,200 records with one record,
// and every later signed bundle was refused as a rollback. Now the sequence
// is out of range, an unsigned import does not replace a signed watchlist
// without --replace-signed and a reason (audited), the store is unchanged
// by every refusal, and even after an audited replacement the signed
// sequence stays where it was: a replay is still refused, a delta does not
// apply to the local records, and the next signed full bundle installs.
func TestUnsignedImportCannotDowngrade(t *testing.T) {
	bin := techBinary(t)
	d := t.TempDir()
	p := func(n string) string { return filepath.Join(d, n) }
	ctl(t, bin, 0, "keys", "signing", "new", "--out", p("hq.key"))
	ctl(t, bin, 0, "keys", "signing", "new", "--out", p("r1.key"))
	ctl(t, bin, 0, "keys", "unit", "new", "--out", p("unit.age"))
	ctl(t, bin, 0, "keys", "root", "init", "--root-keys", p("r1.key"), "--threshold", "1", "--sign", p("r1.key"),
		"--signer", p("hq.key.pub"), "--name", "hq", "--out", p("trust.json"))
	if err := seal.GenerateKeyFile(p("kek")); err != nil {
		t.Fatal(err)
	}
	unitDir := filepath.Join(d, "unit")
	os.MkdirAll(unitDir, 0o700)
	unitCfg := writeMinimalConfig(t, unitDir, "")
	storeFlags := []string{"--store", filepath.Join(unitDir, "watchlist.db"), "--key", "file:" + p("kek"),
		"--trust", p("trust.json"), "--identity", p("unit.age")}
	wl := func(want int, args ...string) string {
		t.Helper()
		return ctl(t, bin, want, append(append([]string{"watchlist"}, args...), storeFlags...)...)
	}
	build := func(out, from, seq string, extra ...string) {
		t.Helper()
		wl(0, append([]string{"build", "--from", from, "--seq", seq, "--sign", p("hq.key"), "--to", p("unit.age.pub"), "--out", out}, extra...)...)
	}
	info := func() infoResult {
		t.Helper()
		var r infoResult
		jsonLine(t, wl(0, "info", "--json"), &r)
		return r
	}

	writeSnapshot(t, p("v17.jsonl"), 2200, "stolen")
	build(p("full17.cpwl"), p("v17.jsonl"), "17")
	wl(0, "import", p("full17.cpwl"))
	signed := info()
	if signed.Meta.Sequence != 17 || signed.Meta.Documents != 2200 || signed.Provenance != "signed" {
		t.Fatalf("signed install: %+v", signed)
	}

	os.WriteFile(p("tiny.jsonl"), []byte(`{"kind":"document","id":"X1","issuing_state":"UTO","document_type":"P","number":"X0000001"}`+"\n"), 0o644)
	unchanged := func(when string) {
		t.Helper()
		if r := info(); r.Meta != signed.Meta {
			t.Fatalf("%s: store changed:\n%+v\nwas\n%+v", when, r.Meta, signed.Meta)
		}
	}
	// The exact command of the finding.
	if msg := wl(2, "import", "--unsigned", "--sequence", "18446744073709551615", p("tiny.jsonl")); !strings.Contains(msg, "sequence out of range") {
		t.Fatalf("absurd sequence: %s", msg)
	}
	unchanged("after the absurd sequence")
	// Any sequence: an unsigned import does not replace a signed list.
	for _, args := range [][]string{
		{"import", "--unsigned", p("tiny.jsonl")},
		{"import", "--unsigned", "--sequence", "99", p("tiny.jsonl")},
	} {
		if msg := wl(2, args...); !strings.Contains(msg, "signed watchlist \"national\" sequence 17 is installed") || !strings.Contains(msg, "--replace-signed") {
			t.Fatalf("%v: %s", args, msg)
		}
	}
	unchanged("after unsigned imports")
	if msg := wl(2, "import", "--unsigned", "--replace-signed", p("tiny.jsonl")); !strings.Contains(msg, "--reason") {
		t.Fatalf("--replace-signed without a reason: %s", msg)
	}
	unchanged("after --replace-signed without a reason")

	// Told to, with a reason: replaced, labelled, audited, and the signed
	// sequence kept.
	out := wl(0, "import", "--unsigned", "--replace-signed", "--reason", "HQ ticket 4711: national list corrupt", "--config", unitCfg, p("tiny.jsonl"))
	if !strings.Contains(out, `signed watchlist "national" stays at sequence 17`) {
		t.Fatalf("replacement report: %s", out)
	}
	local := info()
	if local.Meta.Documents != 1 || !local.Meta.Unsigned || local.Provenance != "unsigned local import" || local.SignedSequence != 17 {
		t.Fatalf("after the audited replacement: %+v", local)
	}
	if txt := wl(0, "info"); !strings.Contains(txt, "UNSIGNED local import") {
		t.Fatalf("info does not say the list is unsigned:\n%s", txt)
	}
	raw, _ := os.ReadFile(filepath.Join(unitDir, "audit.log"))
	if !bytes.Contains(raw, []byte(`"action":"signed_watchlist_replaced_by_unsigned_import"`)) || !bytes.Contains(raw, []byte("HQ ticket 4711")) ||
		!bytes.Contains(raw, []byte(`"replaced_sequence":"17"`)) {
		t.Fatalf("audit log:\n%s", raw)
	}

	// The signed sequence did not move: a replay of 17 is still a
	// rollback, and a delta 17→18 cannot apply to the local records.
	if msg := wl(exitRefused, "import", p("full17.cpwl")); !strings.Contains(msg, "rollback") {
		t.Fatalf("replay of 17 over the local import: %s", msg)
	}
	writeSnapshot(t, p("v18.jsonl"), 2300, "stolen")
	build(p("delta18.cpwl"), p("v18.jsonl"), "18", "--prev", p("v17.jsonl"), "--base", "17")
	if msg := wl(exitRefused, "import", p("delta18.cpwl")); !strings.Contains(msg, "unsigned local import") {
		t.Fatalf("delta over the local import: %s", msg)
	}
	// The next signed full bundle installs, and signed deltas follow it.
	build(p("full18.cpwl"), p("v18.jsonl"), "18")
	wl(0, "import", p("full18.cpwl"))
	if r := info(); r.Meta.Sequence != 18 || r.Meta.Documents != 2300 || r.Meta.Unsigned || r.Provenance != "signed" {
		t.Fatalf("signed bundle after the local import: %+v", r)
	}
	writeSnapshot(t, p("v19.jsonl"), 2310, "stolen")
	build(p("delta19.cpwl"), p("v19.jsonl"), "19", "--prev", p("v18.jsonl"), "--base", "18")
	wl(0, "import", p("delta19.cpwl"))
	if r := info(); r.Meta.Sequence != 19 || r.Meta.Documents != 2310 {
		t.Fatalf("signed delta: %+v", r)
	}
	// A bundle cannot carry an absurd sequence either.
	if msg := wl(2, "build", "--from", p("v19.jsonl"), "--seq", "18446744073709551615", "--sign", p("hq.key"), "--to", p("unit.age.pub"),
		"--out", p("absurd.cpwl")); !strings.Contains(msg, "sequence out of range") {
		t.Fatalf("building an absurd sequence: %s", msg)
	}
}
