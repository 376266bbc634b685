package main

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/checkpoint-edge/checkpoint/emrtd"
	"github.com/checkpoint-edge/checkpoint/emrtd/emrtdtest"
	"github.com/checkpoint-edge/checkpoint/emrtd/pa"
	"github.com/checkpoint-edge/checkpoint/internal/chipsim"
	"github.com/checkpoint-edge/checkpoint/internal/pcsctest"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/sync/channel"
)

var chipMRZ = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<|L898902C36UTO7408122F1204159ZE184226B<<<<<10"

func TestChipReadVerifyAndTrust(t *testing.T) {
	bin := techBinary(t)
	dir := t.TempDir()
	trust := filepath.Join(dir, "chip-trust.pem")
	uto := emrtdtest.NewState(t, "UT")
	fra := emrtdtest.NewState(t, "FR")

	// No anchors yet: the genuine chip reads, but is "not verified" (exit 3).
	srv := pcsctest.StartTB(t, pcsctest.Options{})
	files := uto.Files(t, emrtdtest.Doc{MRZ: strings.Split(chipMRZ, "|"), Face: []byte("\xff\xd8\xff\xe0 not really a jpeg")})
	card, err := chipsim.NewCard(chipsim.Config{MRZ: chipsim.MRZKey{DocumentNumber: "L898902C3", DateOfBirth: "740812", DateOfExpiry: "120415"}, Files: files})
	if err != nil {
		t.Fatal(err)
	}
	em := chipsim.NewEmulator(srv.VPCDAddr, card, nil)
	if err := em.Insert(); err != nil {
		t.Fatal(err)
	}
	defer em.Close()
	dump := filepath.Join(dir, "anna.json")
	so, _ := runWant(t, bin, nil, 3, "chip", "read", "--mrz", chipMRZ, "--socket", srv.SocketPath, "--reader", srv.Reader,
		"--trust", trust, "--out", dump, "--wait", "20s")
	if !strings.Contains(so, "Chip not verified: no CSCA of UT") || !strings.Contains(so, "read:      BAC") {
		t.Fatalf("read without anchors:\n%s", so)
	}
	if st, err := os.Stat(dump); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("dump %v %v", st, err)
	}

	// Import a master list (Utopia and France), then the dump verifies.
	ml := filepath.Join(dir, "icao.ml")
	os.WriteFile(ml, uto.MasterList(t, uto.CSCA, fra.CSCA), 0o600)
	so, _ = runWant(t, bin, nil, 0, "chip", "trust", "import", ml, "--trust", trust, "--json")
	var imp trustImportResult
	if err := json.Unmarshal([]byte(so), &imp); err != nil || imp.Total != 2 || len(imp.MasterLists) != 1 || !imp.MasterLists[0].SignatureOK {
		t.Fatalf("import: %s %v", so, err)
	}
	so, _ = runWant(t, bin, nil, 0, "chip", "trust", "list", "--trust", trust)
	if !strings.Contains(so, "FR") || !strings.Contains(so, "UT") {
		t.Fatalf("list:\n%s", so)
	}
	so, _ = runWant(t, bin, nil, 0, "chip", "verify", dump, "--trust", trust, "--mrz", chipMRZ, "--json")
	var res chipResult
	if err := json.Unmarshal([]byte(so), &res); err != nil || res.Report.Verdict != emrtd.Genuine || res.Report.PA.Status != pa.Valid {
		t.Fatalf("verify: %s %v", so, err)
	}

	// A dump whose DG1 was altered fails, with the group named.
	b, _ := os.ReadFile(dump)
	var d emrtd.Dump
	json.Unmarshal(b, &d)
	d.Files["DG1"] = []byte(strings.Replace(string(d.Files["DG1"]), "ERIKSSON", "ERIKSSEN", 1))
	b, _ = json.Marshal(d)
	os.WriteFile(dump, b, 0o600)
	so, _ = runWant(t, bin, nil, 4, "chip", "verify", dump, "--trust", trust)
	if !strings.Contains(so, "DG1 does not match the signed hash") {
		t.Fatalf("altered dump:\n%s", so)
	}

	// Wrong MRZ on the live chip: exit 1 with the reason.
	wrong := strings.Replace(chipMRZ, "7408122", "7408130", 1)
	_, se := runWant(t, bin, nil, 1, "chip", "read", "--mrz", wrong, "--socket", srv.SocketPath, "--reader", srv.Reader, "--trust", trust, "--wait", "20s")
	if !strings.Contains(se, "chip refused access: MRZ does not open this chip") {
		t.Fatalf("wrong MRZ stderr: %s", se)
	}

	// A leaf certificate is refused as an anchor; garbage too.
	leaf := filepath.Join(dir, "ds.pem")
	os.WriteFile(leaf, pa.EncodePEM(pa.Set{CSCAs: nil}), 0o600)
	os.WriteFile(leaf, []byte("not a certificate"), 0o600)
	runWant(t, bin, nil, 2, "chip", "trust", "import", leaf, "--trust", trust)
}

// TestChipTrustImportBundle: `chip trust import` takes a signed trust
// bundle through the same verification as `bundle import` (the config
// gives the root of trust, identity and channel store), refuses a replay
// and bundles of other kinds, and installs CSCAs and CRLs into the trust
// channel.
func TestChipTrustImportBundle(t *testing.T) {
	bin := techBinary(t)
	d := t.TempDir()
	p := func(n string) string { return filepath.Join(d, n) }
	ctl(t, bin, 0, "keys", "signing", "new", "--out", p("hq.key"))
	ctl(t, bin, 0, "keys", "signing", "new", "--out", p("r1.key"))
	var unit keyInfo
	jsonLine(t, ctl(t, bin, 0, "keys", "unit", "new", "--out", p("unit.age"), "--json"), &unit)
	ctl(t, bin, 0, "keys", "root", "init", "--root-keys", p("r1.key"), "--threshold", "1", "--sign", p("r1.key"),
		"--signer", p("hq.key.pub"), "--name", "hq", "--out", p("root.json"))
	if err := seal.GenerateKeyFile(p("kek")); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(p("unit"), 0o700)
	cfg := writeMinimalConfig(t, p("unit"), fmt.Sprintf("watchlist: {trust: %s, identity: 'file:%s', key: 'file:%s'}\n", p("root.json"), p("unit.age"), p("kek")))

	// HQ: a Brainpool state's CSCA and CRL, and a NIST one, as records.
	de := emrtdtest.NewBrainpoolState(t, "DE", "brainpoolP384r1", "brainpoolP256r1", true)
	fr := emrtdtest.NewState(t, "FR")
	os.MkdirAll(p("anchors"), 0o700)
	os.WriteFile(p("anchors/de.pem"), pa.EncodePEM(pa.Set{CSCAs: []*x509.Certificate{de.CSCA}, CRLs: []*x509.RevocationList{de.CRL(t, de.DS.SerialNumber)}}), 0o600)
	os.WriteFile(p("anchors/fr.der"), fr.CSCA.Raw, 0o600)
	recs := ctl(t, bin, 0, "chip", "trust", "records", p("anchors"))
	if n := strings.Count(recs, "\n"); n != 3 {
		t.Fatalf("%d records:\n%s", n, recs)
	}
	os.WriteFile(p("trust.jsonl"), []byte(recs), 0o600)
	build := func(out, kind, ch, from, seq string) {
		ctl(t, bin, 0, "bundle", "build", "--kind", kind, "--channel", ch, "--from", from, "--seq", seq,
			"--sign", p("hq.key"), "--to", unit.Recipient, "--out", out, "--expires", "12h")
	}
	build(p("trust1.cpwl"), "trust", "icao", p("trust.jsonl"), "3")

	var rep channelReport
	jsonLine(t, ctl(t, bin, 0, "chip", "trust", "import", p("trust1.cpwl"), "--config", cfg, "--json"), &rep)
	if !rep.Installed || rep.State.Kind != "trust" || rep.State.Channel != "icao" || rep.State.Sequence != 3 || rep.State.Records != 3 || rep.Signer != "hq" {
		t.Fatalf("import: %+v", rep)
	}
	if msg := ctl(t, bin, exitRefused, "chip", "trust", "import", p("trust1.cpwl"), "--config", cfg); !strings.Contains(msg, "rollback") {
		t.Fatalf("replay: %s", msg)
	}
	// Not trust anchors: refused whole, whatever their signature.
	writeFlightRecords(t, p("lhr.jsonl"), "LHR", "BA0123")
	build(p("pre.cpwl"), "prearrival", "LHR", p("lhr.jsonl"), "4")
	if msg := ctl(t, bin, exitRefused, "chip", "trust", "import", p("pre.cpwl"), "--config", cfg); !strings.Contains(msg, "not trust anchors") {
		t.Fatalf("prearrival bundle: %s", msg)
	}
	// A trust bundle whose record is a DS certificate (not a CA): the
	// consumer refuses it.
	ds, _ := json.Marshal(pa.TrustRecord{Type: pa.TrustCSCA, DER: de.DS.Raw})
	os.WriteFile(p("bad.jsonl"), []byte(`{"id":"ds","data":`+string(ds)+"}\n"), 0o600)
	build(p("bad.cpwl"), "trust", "icao", p("bad.jsonl"), "5")
	if msg := ctl(t, bin, exitRefused, "chip", "trust", "import", p("bad.cpwl"), "--config", cfg); !strings.Contains(msg, "not a CA") {
		t.Fatalf("DS as an anchor: %s", msg)
	}
	// Tampered: refused.
	b, _ := os.ReadFile(p("trust1.cpwl"))
	b[len(b)/2] ^= 1
	os.WriteFile(p("tampered.cpwl"), b, 0o600)
	ctl(t, bin, exitRefused, "chip", "trust", "import", p("tampered.cpwl"), "--config", cfg)

	var st channel.State
	jsonLine(t, ctl(t, bin, 0, "bundle", "list", "--json", "--channels", filepath.Join(p("unit"), "channels.db"), "--channels-key", "file:"+p("kek")), &st)
	if st.Kind != "trust" || st.Sequence != 3 || st.Records != 3 {
		t.Fatalf("channel store after the refusals: %+v", st)
	}
	raw, _ := os.ReadFile(filepath.Join(p("unit"), "audit.log"))
	if !bytes.Contains(raw, []byte(`"action":"channel_sideloaded"`)) || !bytes.Contains(raw, []byte(`"channel":"icao"`)) {
		t.Fatalf("audit:\n%s", raw)
	}
}
