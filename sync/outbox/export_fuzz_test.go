package outbox

import (
	"bytes"
	"context"
	"crypto/x509"
	"io"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/checkpoint-edge/checkpoint/sync/pki"
)

// validExport returns the decrypted plaintext of a real export and the
// pool that verifies it.
func validExport(t testing.TB, items int) ([]byte, *x509.CertPool) {
	t.Helper()
	ca, err := pki.NewCA("fuzz CA", 0)
	if err != nil {
		t.Fatal(err)
	}
	iss, err := ca.IssueUnit("desk-1", 0)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := iss.TLSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	o, _, _ := mustOpen(t, Options{UnitID: "desk-1"})
	for i := range items {
		if _, err := o.Enqueue(context.Background(), Item{Kind: "result", Priority: Priority(1 + i%2), Payload: payload(i)}); err != nil {
			t.Fatal(err)
		}
	}
	id, _ := age.GenerateX25519Identity()
	var enc bytes.Buffer
	if _, err := o.Export(&enc, []age.Recipient{id.Recipient()}, cert); err != nil {
		t.Fatal(err)
	}
	r, err := age.Decrypt(&enc, id)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(r)
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	return plain, pool
}

func TestParseExport(t *testing.T) {
	plain, pool := validExport(t, 3)
	ex, err := parseExport(bytes.NewReader(plain), pool, time.Now())
	if err != nil || ex.Unit != "desk-1" || len(ex.Records) != 3 || ex.Records[0].Priority != Hit {
		t.Fatalf("parse = %+v, %v", ex, err)
	}
	lines := bytes.SplitAfter(plain, []byte("\n"))
	drop := func(i int) []byte {
		return bytes.Join(append(append([][]byte{}, lines[:i]...), lines[i+1:]...), nil)
	}
	for _, tc := range []struct {
		name string
		data []byte
		now  time.Time
	}{
		{"record removed", drop(2), time.Now()},
		{"signature removed", drop(len(lines) - 2), time.Now()},
		{"record changed", bytes.Replace(plain, []byte(`"n":1`), []byte(`"n":7`), 1), time.Now()},
		{"unit renamed", bytes.Replace(plain, []byte(`"unit":"desk-1"`), []byte(`"unit":"desk-2"`), 1), time.Now()},
		{"trailing data", append(bytes.Clone(plain), []byte("{}\n")...), time.Now()},
		{"from the future", plain, time.Now().Add(-48 * time.Hour)},
		{"empty", nil, time.Now()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := parseExport(bytes.NewReader(tc.data), pool, tc.now); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

// FuzzParseExport: no input may panic the parser, and whatever it accepts
// is internally consistent.
func FuzzParseExport(f *testing.F) {
	plain, pool := validExport(f, 3)
	f.Add(plain)
	lines := bytes.SplitAfter(plain, []byte("\n"))
	f.Add(lines[0])
	f.Add(bytes.Join(lines[:2], nil))
	f.Add([]byte(`{"format":"checkpoint-outbox-export/1","unit":"x","certs":[]}` + "\n"))
	f.Add([]byte("\n\n"))
	now := time.Now()
	f.Fuzz(func(t *testing.T, data []byte) {
		ex, err := parseExport(bytes.NewReader(data), pool, now)
		if err != nil {
			return
		}
		if ex.Unit != "desk-1" {
			t.Fatalf("accepted unit %q", ex.Unit)
		}
		for _, r := range ex.Records {
			if err := r.Validate(); err != nil {
				t.Fatalf("accepted invalid record: %v", err)
			}
		}
	})
}
