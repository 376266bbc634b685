package chipsim

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/internal/chipsim/issuer"
	"github.com/checkpoint-edge/checkpoint/internal/chipsim/lds"
)

const profileJSON = `{
  "traveller": {
    "format": "TD1", "document_code": "I", "issuing_state": "UTO", "surname": "ERIKSSON",
    "given_names": ["ANNA"], "document_number": "D23145890734", "nationality": "UTO",
    "birth_date": "1974-08-12", "expiry_date": "2032-04-15", "sex": "F", "can": "654321",
    "face": "face.jpg",
    "dg11": {"full_name": "ERIKSSON<<ANNA", "full_date_of_birth": "1974-08-12", "place_of_birth": "ZENITH"},
    "dg12": {"issuing_authority": "UTOPIA", "date_of_issue": "2022-04-16"}
  },
  "chip": {
    "aa_key_file": "aa.key", "aa_hash": "SHA-256",
    "ca_key": "ecdsa-p256", "ca_suite": "AES-256", "ca_key_id": 3,
    "pace": [{"suite": "AES-128", "curve": "P-256"}],
    "disable_bac": true, "max_extended_read": 1024, "atr": "3B8880010000000077818100"
  },
  "signer": {"certificate": "pki/ds.pem", "key": "pki/ds.key"},
  "tamper": {"unknown_tags": ["DG11"]},
  "faults": {"response_delay": "5ms", "bad_response_mac": 7, "remove_after_reads": 3, "removed_for": "1s", "clone": true}
}`

func writeProfileDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "face.jpg"), syntheticFace(t, 160, 200), 0o600)
	pki, err := issuer.NewPKI("UTO", issuer.PKIOptions{CSCAKey: "ecdsa-p256"})
	if err != nil {
		t.Fatal(err)
	}
	if err := pki.WriteFiles(filepath.Join(dir, "pki")); err != nil {
		t.Fatal(err)
	}
	aa, _ := issuer.GenerateChipKey("ec-brainpoolP256r1")
	pemKey, _ := issuer.MarshalPrivateKeyPEM(aa)
	os.WriteFile(filepath.Join(dir, "aa.key"), pemKey, 0o600)
	os.WriteFile(filepath.Join(dir, "chip.json"), []byte(profileJSON), 0o600)
	return dir
}

func TestProfileBuildsTheChip(t *testing.T) {
	dir := writeProfileDir(t)
	p, err := LoadProfile(filepath.Join(dir, "chip.json"))
	if err != nil {
		t.Fatal(err)
	}
	ds, err := p.LoadSigner()
	if err != nil || ds == nil {
		t.Fatalf("signer: %v", err)
	}
	cfg, doc, err := p.Build(ds)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MRZ != (MRZKey{"D23145890734", "740812", "320415"}) || cfg.CAN != "654321" {
		t.Fatalf("access %+v %q", cfg.MRZ, cfg.CAN)
	}
	if len(doc.MRZ) != 3 || !strings.HasPrefix(doc.MRZ[0], "I<UTOD23145890<") {
		t.Fatalf("TD1 with a long number: %q", doc.MRZ)
	}
	if !cfg.DisableBAC || cfg.MaxExtendedRead != 1024 || !bytes.Equal(cfg.ATR, unhex(t, "3B8880010000000077818100")) {
		t.Fatalf("chip settings %+v", cfg)
	}
	if f := cfg.Faults; time.Duration(f.ResponseDelay) != 5*time.Millisecond || f.BadResponseMAC != 7 ||
		f.RemoveAfterReads != 3 || time.Duration(f.RemovedFor) != time.Second || !f.Clone {
		t.Fatalf("faults %+v", f)
	}
	for _, name := range []string{"COM", "SOD", "DG1", "DG2", "DG11", "DG12", "DG14", "DG15", FileCardAccess} {
		if cfg.Files[name] == nil {
			t.Errorf("%s missing", name)
		}
	}
	dg11, _, _ := lds.ParseTLV(cfg.Files["DG11"])
	if _, ok, _ := lds.Find(dg11.Value, issuer.UnknownTag); !ok {
		t.Error("tamper unknown_tags not applied")
	}
	// The AA key is the one from the file.
	kb, _ := os.ReadFile(filepath.Join(dir, "aa.key"))
	want, _ := issuer.ParsePrivateKeyPEM(kb)
	if got, _ := issuer.MarshalPrivateKeyPEM(cfg.AAKey); !bytes.Equal(got, mustPEM(t, want)) {
		t.Error("AA key is not the profile's aa_key_file")
	}
	if _, err := NewCard(cfg); err != nil {
		t.Fatal(err)
	}
}

func mustPEM(t *testing.T, k any) []byte {
	b, err := issuer.MarshalPrivateKeyPEM(k)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestProfileErrors(t *testing.T) {
	dir := writeProfileDir(t)
	ds, _ := issuer.LoadCertKey(filepath.Join(dir, "pki/ds.pem"), filepath.Join(dir, "pki/ds.key"))
	for name, mutate := range map[string]func(string) string{
		"unknown field": func(s string) string { return strings.Replace(s, `"can"`, `"cann"`, 1) },
		"bad date":      func(s string) string { return strings.Replace(s, "1974-08-12", "12.08.1974", 1) },
		"bad suite":     func(s string) string { return strings.Replace(s, `"AES-256"`, `"AES-512"`, 1) },
		"bad hash":      func(s string) string { return strings.Replace(s, `"SHA-256"`, `"MD5"`, 1) },
		"bad curve":     func(s string) string { return strings.Replace(s, `"curve": "P-256"`, `"curve": "P-521"`, 1) },
		"missing face":  func(s string) string { return strings.Replace(s, "face.jpg", "nope.jpg", 1) },
		"bad duration":  func(s string) string { return strings.Replace(s, `"5ms"`, `"5 parsecs"`, 1) },
		"bad ATR":       func(s string) string { return strings.Replace(s, "3B88", "3X88", 1) },
		"not JSON":      func(string) string { return "{" },
		"tamper absent": func(s string) string { return strings.Replace(s, `["DG11"]`, `["DG9"]`, 1) },
		"CA key not EC": func(s string) string {
			return strings.Replace(s, `"ecdsa-p256", "ca_suite"`, `"rsa1024", "ca_suite"`, 1)
		},
		"bad MRZ number":  func(s string) string { return strings.Replace(s, "D23145890734", "D2314-5890", 1) },
		"negative period": func(s string) string { return strings.Replace(s, `"1s"`, `"-1s"`, 1) },
	} {
		t.Run(name, func(t *testing.T) {
			p, err := ParseProfile([]byte(mutate(profileJSON)), dir)
			if err == nil {
				_, _, err = p.Build(ds)
			}
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrConfig) && !errors.Is(err, issuer.ErrSpec) {
				t.Fatalf("error %v is not ErrConfig", err)
			}
		})
	}
}

// The committed example profile builds with a face of the shared test set.
func TestExampleProfile(t *testing.T) {
	p, err := LoadProfile("testdata/example-profile.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p.path(p.Traveller.Face)); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("shared test faces missing: %v", err)
		}
		t.Skipf("shared test faces missing: %v", err)
	}
	cfg, _, err := p.Build(testDS(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewCard(cfg); err != nil {
		t.Fatal(err)
	}
}
