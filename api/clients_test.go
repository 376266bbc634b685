package api_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/gate/gatetest"
	"github.com/checkpoint-edge/checkpoint/hub/hubtest"
)

// generate runs oapi-codegen (a tool of this module: `go tool
// oapi-codegen`) on spec and writes a client package into a fresh
// directory under testdata/, inside the module so that the generated code
// builds against the module's own dependencies. It returns the directory.
func generate(t *testing.T, spec, pkg string) string {
	t.Helper()
	dir, err := os.MkdirTemp("testdata", "gen-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	pkgDir := filepath.Join(dir, pkg)
	if err := os.MkdirAll(pkgDir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "tool", "oapi-codegen", "-generate", "types,client", "-package", pkg,
		"-o", filepath.Join(pkgDir, "client.go"), spec)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("oapi-codegen %s: %v\n%s", spec, err, out)
	}
	return dir
}

// runSmoke writes program as a test of the generated package and runs it
// with env; the program fails on any unexpected answer.
func runSmoke(t *testing.T, dir, pkg, program string, env ...string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, pkg, "smoke_test.go"), []byte(program), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "test", "-count=1", "-run", "TestSmoke", "./"+filepath.ToSlash(filepath.Join(dir, pkg)))
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("generated client against the real server: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "ok") {
		t.Fatalf("unexpected output:\n%s", out)
	}
}

// TestGateClientFromSpec: a gate vendor generates a client from
// gate.openapi.yaml and drives a real gate API with it: status, a pushed
// document answered with its decision, the transaction looked up, and the
// documented errors decoded.
func TestGateClientFromSpec(t *testing.T) {
	srv, _ := gatetest.NewServer(t)
	dir := generate(t, "gate.openapi.yaml", "gateclient")
	runSmoke(t, dir, "gateclient", gateSmoke, "GATE_URL="+srv.URL, "GATE_TOKEN="+gatetest.Token,
		"GATE_MRZ="+strings.Join(gatetest.Stolen, "\n"))
}

const gateSmoke = `package gateclient

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
)

func TestSmoke(t *testing.T) {
	ctx := context.Background()
	auth := func(ctx context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+os.Getenv("GATE_TOKEN"))
		return nil
	}
	c, err := NewClientWithResponses(os.Getenv("GATE_URL"), WithRequestEditorFn(auth))
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.GetStatusWithResponse(ctx)
	if err != nil || st.JSON200 == nil || st.JSON200.Unit != "gate-01" || st.JSON200.Alarms == nil {
		t.Fatalf("status: %v %s", err, st.Body)
	}
	pushed, err := c.PushDocumentWithResponse(ctx, PushDocumentJSONRequestBody{Mrz: strings.Split(os.Getenv("GATE_MRZ"), "\n")})
	if err != nil || pushed.JSON200 == nil {
		t.Fatalf("push: %v %s", err, pushed.Body)
	}
	m := pushed.JSON200
	if m.Decision == nil || *m.Decision != HIT || len(m.Actions) != 1 || m.Actions[0] != Refer {
		t.Fatalf("decision: %s", pushed.Body)
	}
	got, err := c.GetTransactionWithResponse(ctx, m.TxId)
	if err != nil || got.JSON200 == nil || got.JSON200.TxId != m.TxId {
		t.Fatalf("transaction: %v %s", err, got.Body)
	}
	missing, err := c.GetTransactionWithResponse(ctx, "no-such-transaction")
	if err != nil || missing.JSON404 == nil || missing.JSON404.Error == "" {
		t.Fatalf("404: %v %s", err, missing.Body)
	}
	bad, err := c.PushDocumentWithResponse(ctx, PushDocumentJSONRequestBody{Mrz: []string{"one line"}})
	if err != nil || bad.JSON400 == nil {
		t.Fatalf("400: %v %s", err, bad.Body)
	}
	plain, err := c.PushDocumentWithBodyWithResponse(ctx, "text/plain", strings.NewReader("{}"))
	if err != nil || plain.JSON415 == nil {
		t.Fatalf("415: %v %s", err, plain.Body)
	}
	anon, err := NewClientWithResponses(os.Getenv("GATE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	denied, err := anon.GetStatusWithResponse(ctx)
	if err != nil || denied.JSON401 == nil {
		t.Fatalf("401: %v %s", err, denied.Body)
	}
}
`

// TestHubClientFromSpec: an HQ developer generates a client from
// hub.openapi.yaml and talks to a real hub over mutual TLS: a unit
// delivers a batch (and again: idempotent), reads it back in arrival
// order, and an operator lists the units.
func TestHubClientFromSpec(t *testing.T) {
	srv := hubtest.Start(t, hubtest.Options{})
	unitCert, unitKey := srv.Fleet.Unit(t, "desk-07")
	opCert, opKey := srv.Fleet.Unit(t, "ops")
	dir := generate(t, "hub.openapi.yaml", "hubclient")
	runSmoke(t, dir, "hubclient", hubSmoke, "HUB_URL="+srv.URL, "HUB_CA="+srv.Fleet.CACert,
		"HUB_UNIT_CERT="+unitCert, "HUB_UNIT_KEY="+unitKey, "HUB_OP_CERT="+opCert, "HUB_OP_KEY="+opKey)
}

const hubSmoke = `package hubclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"testing"
	"time"
)

func client(t *testing.T, cert, key string) *ClientWithResponses {
	pair, err := tls.LoadX509KeyPair(os.Getenv(cert), os.Getenv(key))
	if err != nil {
		t.Fatal(err)
	}
	pem, err := os.ReadFile(os.Getenv("HUB_CA"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		Certificates: []tls.Certificate{pair}, RootCAs: pool, MinVersion: tls.VersionTLS13}}}
	c, err := NewClientWithResponses(os.Getenv("HUB_URL"), WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSmoke(t *testing.T) {
	ctx := context.Background()
	unit := client(t, "HUB_UNIT_CERT", "HUB_UNIT_KEY")
	batch := PostResultsJSONRequestBody{Items: []Record{
		{Key: "desk-07:3f5e9a0c1d2b4e6f8a7b9c0d1e2f3a4b", Seq: 1, Kind: "result", Priority: Hit,
			CreatedAt: time.Now().UTC(), Payload: map[string]interface{}{"decision": "HIT"}},
		{Key: "desk-07:00000000000000000000000000000002", Seq: 2, Kind: "result", Priority: Routine,
			CreatedAt: time.Now().UTC(), Payload: map[string]interface{}{"decision": "CLEAR"}},
	}}
	for i := 0; i < 2; i++ {
		got, err := unit.PostResultsWithResponse(ctx, batch)
		if err != nil || got.JSON200 == nil || got.JSON200.Unit != "desk-07" || len(got.JSON200.Acked) != 2 {
			t.Fatalf("post %d: %v %s", i, err, got.Body)
		}
	}
	mine, err := unit.GetResultsWithResponse(ctx, &GetResultsParams{})
	if err != nil || mine.JSON200 == nil || len(mine.JSON200.Results) != 2 {
		t.Fatalf("results: %v %s", err, mine.Body)
	}
	bad, err := unit.PostResultsWithResponse(ctx, PostResultsJSONRequestBody{Items: []Record{{Key: "other-unit:1", Seq: 3,
		Kind: "result", Priority: Routine, CreatedAt: time.Now(), Payload: map[string]interface{}{}}}})
	if err != nil || bad.JSON400 == nil {
		t.Fatalf("foreign key: %v %d %s", err, bad.StatusCode(), bad.Body)
	}
	ops := client(t, "HUB_OP_CERT", "HUB_OP_KEY")
	units, err := ops.GetUnitsWithResponse(ctx)
	if err != nil || units.JSON200 == nil || len(units.JSON200.Units) != 1 || units.JSON200.Units[0].Records != 2 {
		t.Fatalf("units: %v %s", err, units.Body)
	}
	h, err := ops.HealthzWithResponse(ctx)
	if err != nil || h.StatusCode() != 200 {
		t.Fatalf("healthz: %v", err)
	}
}
`
