package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/checkpoint-edge/checkpoint/emrtd"
	"github.com/checkpoint-edge/checkpoint/emrtd/emrtdtest"
	"github.com/checkpoint-edge/checkpoint/emrtd/pa"
	"github.com/checkpoint-edge/checkpoint/internal/chipsim"
	"github.com/checkpoint-edge/checkpoint/internal/pcsctest"
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
