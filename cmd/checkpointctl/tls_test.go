package main

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/checkpoint-edge/checkpoint/sync/pki"
)

// TestSyncCommands runs `keys tls` and `outbox` end to end on the shared
// checkpointctl.
func TestSyncCommands(t *testing.T) {
	bin := techBinary(t)
	t.Run("keys tls", func(t *testing.T) { testKeysTLS(t, bin) })
	t.Run("outbox", func(t *testing.T) { testOutboxCommands(t, bin) })
}

func testKeysTLS(t *testing.T, bin string) {
	d := t.TempDir()
	p := func(n string) string { return filepath.Join(d, n) }

	steps := []struct {
		args []string
		kind string
		cn   string
	}{
		{[]string{"keys", "tls", "ca", "--cert", p("ca.pem"), "--key-file", p("ca.key"), "--cn", "HQ test CA"}, "ca", "HQ test CA"},
		{[]string{"keys", "tls", "server", "--ca", p("ca.pem"), "--ca-key", p("ca.key"), "--name", "hub.example.org", "--cert", p("hub.pem"), "--key-file", p("hub.key")}, "server", "hub.example.org"},
		{[]string{"keys", "tls", "unit", "gate-3", "--ca", p("ca.pem"), "--ca-key", p("ca.key"), "--cert", p("gate-3.pem"), "--key-file", p("gate-3.key"), "--days", "30"}, "unit", "gate-3"},
	}
	for _, s := range steps {
		out, errOut, code := runCtl(t, bin, nil, append(s.args, "--json")...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", s.args, code, errOut)
		}
		var got tlsIssued
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%v: output %q: %v", s.args, out, err)
		}
		if got.Kind != s.kind || got.Subject != s.cn || len(got.SHA256) != 64 {
			t.Errorf("%v: output %+v", s.args, got)
		}
		if st, err := os.Stat(got.Key); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: key file mode wrong: %v %v", s.kind, st.Mode(), err)
		}
	}

	// The unit certificate chains to the CA, for client auth, and names the unit.
	roots, err := pki.LoadPool(p("ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	unit, err := pki.LoadCert(p("gate-3.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unit.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Fatalf("unit cert does not verify: %v", err)
	}
	if id, err := pki.UnitIDFromCert(unit); err != nil || id != "gate-3" {
		t.Fatalf("unit id = %q, %v", id, err)
	}
	hub, err := pki.LoadCert(p("hub.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hub.Verify(x509.VerifyOptions{Roots: roots, DNSName: "hub.example.org"}); err != nil {
		t.Fatalf("hub cert does not verify for its name: %v", err)
	}

	// Mistakes: clear error, exit 2, nothing overwritten.
	before, _ := os.ReadFile(p("ca.key"))
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"overwrite CA", []string{"keys", "tls", "ca", "--cert", p("ca.pem"), "--key-file", p("ca.key")}, "refusing to overwrite"},
		{"bad unit id", []string{"keys", "tls", "unit", "gate 3", "--ca", p("ca.pem"), "--ca-key", p("ca.key")}, "invalid unit id"},
		{"unit cert as CA", []string{"keys", "tls", "unit", "x", "--ca", p("gate-3.pem"), "--ca-key", p("gate-3.key"), "--cert", p("x.pem"), "--key-file", p("x.key")}, "not a CA"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := runCtl(t, bin, nil, tc.args...)
			if code != 2 || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", code, errOut, tc.want)
			}
		})
	}
	after, _ := os.ReadFile(p("ca.key"))
	if !bytes.Equal(before, after) {
		t.Fatal("CA key changed after a refused overwrite")
	}
	if _, err := os.Stat(p("x.pem")); err == nil {
		t.Fatal("a certificate was written although the CA was invalid")
	}
}
