package main

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/audit"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/sync/pki"
)

func jsonLine(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(strings.TrimSpace(s)), v); err != nil {
		t.Fatalf("not one JSON line: %v\n%s", err, s)
	}
}

func writeSnapshot(t *testing.T, path string, n int, status string) {
	t.Helper()
	var b strings.Builder
	b.WriteString(`{"kind":"meta","watchlist_id":"national","authority":"HQ"}` + "\n")
	for i := range n {
		fmt.Fprintf(&b, `{"op":"put","kind":"document","id":"D%05d","document":{"id":"D%05d","issuing_state":"UTO","document_type":"P","number":"L%07d","status":"%s","source":"SLTD","action":"alert_only"}}`+"\n", i, i, i, status)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBundleCLI(t *testing.T) {
	t0 := time.Now()
	bin := techBinary(t)
	t.Logf("checkpointctl ready in %v", time.Since(t0))
	d := t.TempDir()
	p := func(n string) string { return filepath.Join(d, n) }

	// Keys: an issuing authority, three root keys, a unit.
	var hq keyInfo
	jsonLine(t, ctl(t, bin, 0, "keys", "signing", "new", "--out", p("hq.key"), "--json"), &hq)
	if hq.KeyID == "" || hq.PublicKey == "" {
		t.Fatalf("signing key: %+v", hq)
	}
	if st, _ := os.Stat(p("hq.key")); st.Mode().Perm() != 0o600 {
		t.Fatalf("signing key mode %v", st.Mode().Perm())
	}
	ctl(t, bin, 1, "keys", "signing", "new", "--out", p("hq.key")) // never overwrite
	for _, r := range []string{"r1.key", "r2.key", "r3.key"} {
		ctl(t, bin, 0, "keys", "signing", "new", "--out", p(r))
	}
	var unit keyInfo
	jsonLine(t, ctl(t, bin, 0, "keys", "unit", "new", "--out", p("unit.age"), "--json"), &unit)
	if !strings.HasPrefix(unit.Recipient, "age1") {
		t.Fatalf("unit key: %+v", unit)
	}

	// Root of trust: 2 of 3; one private key alone is not enough.
	ctl(t, bin, 2, "keys", "root", "init", "--root-keys", p("r1.key")+","+p("r2.key.pub")+","+p("r3.key.pub"),
		"--threshold", "2", "--signer", p("hq.key.pub"), "--out", p("trust.json"))
	var root rootSummary
	jsonLine(t, ctl(t, bin, 0, "keys", "root", "init", "--root-keys", p("r1.key")+","+p("r2.key.pub")+","+p("r3.key.pub"),
		"--threshold", "2", "--sign", p("r3.key"), "--signer", p("hq.key.pub"), "--name", "hq-2026",
		"--out", p("trust.json"), "--json"), &root)
	if !root.Complete || root.Version != 1 || len(root.Signers) != 1 || root.Signers[0].Status != "valid" {
		t.Fatalf("root: %+v", root)
	}

	// Bundles: full 1, delta 1->2.
	writeSnapshot(t, p("v1.jsonl"), 200, "stolen")
	writeSnapshot(t, p("v2.jsonl"), 220, "stolen")
	var built headerReport
	jsonLine(t, ctl(t, bin, 0, "watchlist", "build", "--from", p("v1.jsonl"), "--seq", "1", "--sign", p("hq.key"),
		"--to", p("unit.age.pub"), "--out", p("b1.cpwl"), "--json"), &built)
	if built.Header.WatchlistID != "national" || built.Header.Puts != 200 || built.Header.KeyID != hq.KeyID {
		t.Fatalf("built: %+v", built.Header)
	}
	jsonLine(t, ctl(t, bin, 0, "watchlist", "build", "--from", p("v2.jsonl"), "--prev", p("v1.jsonl"), "--base", "1",
		"--seq", "2", "--sign", p("hq.key"), "--to", unit.Recipient, "--out", p("d12.cpwl"), "--json"), &built)
	if built.Header.Puts != 20 || built.Header.Deletes != 0 || built.Header.BaseSequence != 1 {
		t.Fatalf("delta: %+v", built.Header)
	}
	if b, _ := os.ReadFile(p("b1.cpwl")); bytes.Contains(b, []byte("L0000001")) || !bytes.HasPrefix(b, []byte("age-encryption.org/v1")) {
		t.Fatal("bundle is not encrypted")
	}

	trustFlags := []string{"--trust", p("trust.json"), "--identity", p("unit.age")}
	var ver headerReport
	jsonLine(t, ctl(t, bin, 0, append([]string{"watchlist", "verify", p("b1.cpwl"), "--json"}, trustFlags...)...), &ver)
	if ver.Header.Sequence != 1 || ver.Signer != "hq-2026" {
		t.Fatalf("verify: %+v", ver)
	}
	if out := ctl(t, bin, 0, append([]string{"watchlist", "verify", p("b1.cpwl")}, trustFlags...)...); !strings.Contains(out, "sequence    1 (full snapshot)") {
		t.Fatalf("verify text: %s", out)
	}

	// Sideload into a store.
	if err := seal.GenerateKeyFile(p("kek")); err != nil {
		t.Fatal(err)
	}
	store := []string{"--store", p("unit/watchlist.db"), "--key", "file:" + p("kek")}
	os.MkdirAll(p("unit"), 0o700)
	imp := func(file string, want int) string {
		return ctl(t, bin, want, append(append([]string{"watchlist", "import", file, "--json"}, store...), trustFlags...)...)
	}
	var rep installReport
	jsonLine(t, imp(p("b1.cpwl"), 0), &rep)
	if !rep.Installed || rep.Sequence != 1 || rep.Puts != 200 {
		t.Fatalf("import: %+v", rep)
	}
	if msg := imp(p("b1.cpwl"), exitRefused); !strings.Contains(msg, "rollback") {
		t.Fatalf("replay: %s", msg)
	}
	b, _ := os.ReadFile(p("d12.cpwl"))
	b[len(b)/2] ^= 1
	os.WriteFile(p("tampered.cpwl"), b, 0o644)
	if msg := imp(p("tampered.cpwl"), exitRefused); !strings.Contains(msg, "nothing changed") {
		t.Fatalf("tampered: %s", msg)
	}
	jsonLine(t, imp(p("d12.cpwl"), 0), &rep)
	if rep.Sequence != 2 || rep.Base != 1 {
		t.Fatalf("delta import: %+v", rep)
	}
	// Text mode draws progress on stderr and reports on stdout.
	os.WriteFile(p("empty.jsonl"), nil, 0o644)
	if out := ctl(t, bin, 2, append([]string{"watchlist", "build", "--from", p("v1.jsonl"), "--seq", "3", "--base", "2",
		"--sign", p("hq.key"), "--to", unit.Recipient, "--out", p("x.cpwl")}, trustFlags...)...); !strings.Contains(out, "--prev") {
		t.Fatalf("delta without --prev: %s", out)
	}

	// Publish and pull over mutual TLS.
	ctl(t, bin, 0, "watchlist", "publish", "--dir", p("pub"), p("b1.cpwl"))
	ctl(t, bin, 0, "watchlist", "publish", "--dir", p("pub"), p("d12.cpwl"))
	if _, err := os.Stat(p("pub/national/index.json")); err != nil {
		t.Fatal(err)
	}
	ca, _ := pki.NewCA("cli test CA", 0)
	srvCert, _ := ca.IssueServer(nil, 0)
	unitCert, _ := ca.IssueUnit("unit-7", 0)
	os.WriteFile(p("ca.crt"), ca.CertPEM(), 0o644)
	unitCert.WriteFiles(p("unit.crt"), p("unit.key"))
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	sc, _ := srvCert.TLSCertificate()
	srv := httptest.NewUnstartedServer(http.StripPrefix("/v1/bundles/", http.FileServer(http.Dir(p("pub")))))
	srv.TLS = pki.NewServerConfig(sc, pool)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	os.MkdirAll(p("unit2"), 0o700)
	pullArgs := append([]string{"watchlist", "pull", "--url", srv.URL + "/v1/bundles/", "--cert", p("unit.crt"), "--key", p("unit.key"),
		"--ca", p("ca.crt"), "--watchlist-id", "national", "--store", p("unit2/watchlist.db"), "--store-key", "file:" + p("kek")}, trustFlags...)
	var res struct {
		Installed []uint64 `json:"installed"`
		Sequence  uint64   `json:"sequence"`
	}
	jsonLine(t, ctl(t, bin, 0, append(pullArgs, "--json")...), &res)
	if res.Sequence != 2 || len(res.Installed) != 2 {
		t.Fatalf("pull: %+v", res)
	}
	if out := ctl(t, bin, 0, pullArgs...); !strings.Contains(out, "up to date at sequence 2") {
		t.Fatalf("second pull: %s", out)
	}

	// Rotate: add a new signer, revoke the old; the old bundles are refused.
	ctl(t, bin, 0, "keys", "signing", "new", "--out", p("hq2.key"))
	ctl(t, bin, 2, "keys", "root", "add-signer", "--trust", p("trust.json"), "--signer", p("hq2.key.pub"), "--name", "hq-2027",
		"--sign", p("r1.key"))
	ctl(t, bin, 0, "keys", "root", "add-signer", "--trust", p("trust.json"), "--signer", p("hq2.key.pub"), "--name", "hq-2027",
		"--sign", p("r1.key"), "--sign", p("r2.key"))
	// Custodians on different machines: a partial file, then a co-signature.
	ctl(t, bin, 0, "keys", "root", "revoke-signer", "--trust", p("trust.json"), "--key-id", hq.KeyID, "--reason", "rotation",
		"--sign", p("r2.key"), "--partial", "--out", p("trust-v3.json"))
	jsonLine(t, ctl(t, bin, 0, "keys", "root", "show", "--trust", p("trust-v3.json"), "--json"), &root)
	if root.Complete || root.Version != 3 {
		t.Fatalf("partial v3: %+v", root)
	}
	ctl(t, bin, 0, "keys", "root", "sign", "--trust", p("trust-v3.json"), "--sign", p("r3.key"))
	// On a unit (its config named) both the install and the refused
	// replay land in the unit's audit log.
	unitDir := t.TempDir()
	unitCfg := writeMinimalConfig(t, unitDir, "")
	ctl(t, bin, 0, "keys", "root", "install", "--trust", p("trust-v3.json"), "--to", p("trust.json"), "--config", unitCfg)
	ctl(t, bin, exitRefused, "keys", "root", "install", "--trust", p("trust-v3.json"), "--to", p("trust.json"), "--config", unitCfg)
	if rep, err := audit.Verify(filepath.Join(unitDir, "audit.log")); err != nil || rep.Entries != 2 {
		t.Fatalf("unit audit log after two installs: %+v, %v", rep, err)
	}
	if raw, _ := os.ReadFile(filepath.Join(unitDir, "audit.log")); !bytes.Contains(raw, []byte(`"action":"trust_root_installed"`)) ||
		!bytes.Contains(raw, []byte(`"action":"trust_root_refused"`)) || !bytes.Contains(raw, []byte(`"version":"3"`)) {
		t.Fatalf("unit audit log:\n%s", raw)
	}
	jsonLine(t, ctl(t, bin, 0, "keys", "root", "show", "--trust", p("trust.json"), "--json"), &root)
	status := map[string]string{}
	for _, s := range root.Signers {
		status[s.Name] = s.Status
	}
	if !root.Complete || root.Version != 3 || status["hq-2026"] != "revoked" || status["hq-2027"] != "valid" {
		t.Fatalf("after rotation: %+v", root)
	}
	if msg := ctl(t, bin, exitRefused, append([]string{"watchlist", "verify", p("b1.cpwl")}, trustFlags...)...); !strings.Contains(msg, "revoked") {
		t.Fatalf("verify with revoked signer: %s", msg)
	}
}
