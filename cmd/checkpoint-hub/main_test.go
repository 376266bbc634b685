package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/jackc/pgx/v5"

	"github.com/checkpoint-edge/checkpoint/hub"
	"github.com/checkpoint-edge/checkpoint/hub/hubtest"
	"github.com/checkpoint-edge/checkpoint/hub/pgtest"
	"github.com/checkpoint-edge/checkpoint/internal/cli"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/sync/outbox"
)

// syncBuffer is a bytes.Buffer safe for the server's log writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestServeIngestShutdownImport(t *testing.T) {
	fl := hubtest.NewFleet(t)
	d := t.TempDir()
	iss, err := fl.CA.IssueServer(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	srvCert, srvKey := filepath.Join(d, "hub.pem"), filepath.Join(d, "hub.key")
	iss.WriteFiles(srvCert, srvKey)
	kek := filepath.Join(d, "hub.kek")
	seal.GenerateKeyFile(kek)
	id, _ := age.GenerateX25519Identity()
	idFile := filepath.Join(d, "hq.agekey")
	os.WriteFile(idFile, []byte(id.String()+"\n"), 0o600)
	bundles := filepath.Join(d, "bundles")
	os.Mkdir(bundles, 0o755)
	os.WriteFile(filepath.Join(bundles, "full-1.cpb"), []byte("bundle"), 0o644)
	data := filepath.Join(d, "data")
	addr := freeAddr(t)
	common := []string{"--data", data, "--ca", fl.CACert, "--data-key", "file:" + kek, "--identity", idFile}
	serveArgs := append([]string{"serve", "--listen", addr, "--bundles", bundles, "--cert", srvCert, "--key", srvKey, "--log-level", "debug"}, common...)

	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, serveArgs, &bytes.Buffer{}, logs) }()

	// A unit uploads through its outbox.
	kp := seal.FileKey{Path: filepath.Join(d, "unit.kek")}
	seal.GenerateKeyFile(kp.Path)
	o, err := outbox.Open(filepath.Join(d, "outbox.db"), kp, outbox.Options{UnitID: "desk-9"})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	for i := range 20 {
		o.Enqueue(context.Background(), outbox.Item{Kind: "result", Priority: outbox.Priority(1 + i%2),
			Payload: json.RawMessage(fmt.Sprintf(`{"surname":"NGUYENSECRET","document":"X1234567%d"}`, i))})
	}
	tlsCfg := fl.ClientTLS(t, "desk-9")
	up, _ := outbox.NewUploader(o, outbox.UploaderOptions{HubURL: "https://" + addr, TLS: tlsCfg, MaxItems: 7})
	defer up.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		n, err := up.Drain(context.Background(), nil)
		if err == nil && n == 20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("drain: %d, %v\nlogs:\n%s", n, err, logs)
		}
		time.Sleep(50 * time.Millisecond) // server still starting
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsCfg}}
	resp, err := c.Get("https://" + addr + "/v1/bundles/full-1.cpb")
	if err != nil || resp.StatusCode != 200 || resp.Header.Get("ETag") == "" {
		t.Fatalf("bundle: %v %v", resp, err)
	}
	resp.Body.Close()
	c.CloseIdleConnections()

	// A hand-carried export of what is still queued.
	o.Enqueue(context.Background(), outbox.Item{Kind: "result", Priority: outbox.Hit, Payload: json.RawMessage(`{"late":true}`)})
	exp := filepath.Join(d, "desk-9.age")
	f, _ := os.Create(exp)
	if _, err := o.Export(f, []age.Recipient{id.Recipient()}, tlsCfg.Certificates[0]); err != nil {
		t.Fatal(err)
	}
	f.Close()

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v after cancel", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no graceful shutdown")
	}
	l := logs.String()
	for _, secret := range []string{"NGUYENSECRET", "X1234567"} {
		if strings.Contains(l, secret) {
			t.Fatalf("personal data in logs:\n%s", l)
		}
	}
	if !strings.Contains(l, `"msg":"results ingested"`) || !strings.Contains(l, `"unit":"desk-9"`) {
		t.Fatalf("expected JSON ingest logs, got:\n%s", l)
	}

	// Offline import (the export holds the one record not yet uploaded);
	// the same file twice stores nothing new.
	for _, want := range []string{"unit desk-9: 1 new, 0 already held", "unit desk-9: 0 new, 1 already held"} {
		var out bytes.Buffer
		if err := run(context.Background(), append([]string{"import", exp}, common...), &out, &syncBuffer{}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), want) {
			t.Fatalf("import output %q, want %q", out.String(), want)
		}
	}
}

func TestFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no tls", []string{"serve", "--data", t.TempDir()}, "mutual TLS"},
		{"unknown command", []string{"frobnicate"}, "unknown command"},
		{"import without files", []string{"import"}, "export files"},
		{"import without identity", []string{"import", "x.age", "--ca", "ca.pem"}, "--identity"},
		{"bad log level", []string{"--log-level", "loud"}, "log-level"},
		{"bad flag", []string{"--nope"}, "nope"},
		{"postgres without database", []string{"serve", "--store", "postgres"}, "--database"},
		{"unknown store", []string{"serve", "--store", "mysql"}, "want bolt or postgres"},
		{"migrate on bolt", []string{"migrate"}, "only the postgres store"},
		{"share without bundles", []string{"serve", "--share-policy", "p.yaml", "--cert", "c", "--key", "k", "--ca", "ca"}, "--share-policy needs --bundles"},
		{"share key without policy", []string{"serve", "--share-key", "k", "--cert", "c", "--key", "k", "--ca", "ca"}, "need --share-policy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			err := run(context.Background(), tc.args, &bytes.Buffer{}, &stderr)
			if err == nil || cli.ExitCode(err) != 2 || !strings.Contains(err.Error()+stderr.String(), tc.want) {
				t.Fatalf("err = %v (code %d), stderr %q; want exit 2 mentioning %q", err, cli.ExitCode(err), stderr.String(), tc.want)
			}
		})
	}
	var ee *cli.ExitError
	if !errors.As(cli.Exit(2, errors.New("x")), &ee) {
		t.Fatal("cli.Exit does not produce an ExitError")
	}
}

// TestRotateKey: after rotate-key the results database opens with the new
// key only and still holds what it stored.
func TestRotateKey(t *testing.T) {
	d := t.TempDir()
	oldKey, newKey := filepath.Join(d, "old.kek"), filepath.Join(d, "new.kek")
	for _, k := range []string{oldKey, newKey} {
		if err := seal.GenerateKeyFile(k); err != nil {
			t.Fatal(err)
		}
	}
	data := filepath.Join(d, "data")
	c := config{data: data, keySpec: "file:" + oldKey, store: "bolt"}
	h, err := openHub(context.Background(), c, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	rec := outbox.Record{Key: "desk-1:0001", Seq: 1, Kind: "result", Priority: outbox.Hit, CreatedAt: time.Now(), Payload: json.RawMessage(`{"n":1}`)}
	if _, err := h.IngestRecords(context.Background(), "desk-1", []outbox.Record{rec}, "upload"); err != nil {
		t.Fatal(err)
	}
	h.Close()

	args := []string{"rotate-key", "--data", data, "--data-key", "file:" + oldKey}
	if err := run(context.Background(), args, io.Discard, io.Discard); err == nil || cli.ExitCode(err) != 2 {
		t.Fatalf("rotate-key without --new-data-key: %v", err)
	}
	var out bytes.Buffer
	if err := run(context.Background(), append(args, "--new-data-key", "file:"+newKey), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "now opens with file:"+newKey+" only") {
		t.Fatalf("output %q", out.String())
	}
	if _, err := openHub(context.Background(), c, nil, false); !errors.Is(err, seal.ErrWrongKey) {
		t.Fatalf("open with the old key after rotation: %v, want ErrWrongKey", err)
	}
	c.keySpec = "file:" + newKey
	h, err = openHub(context.Background(), c, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	res, err := h.IngestRecords(context.Background(), "desk-1", []outbox.Record{rec}, "upload")
	if err != nil || res.New != 0 || res.Duplicates != 1 {
		t.Fatalf("re-sending the stored record after rotation: %+v, %v; want a duplicate", res, err)
	}
}

// TestPostgres: migrate (idempotent), refusal of a newer schema and of an
// old one without --migrate, serve on PostgreSQL, and the analyst
// commands straight against the database.
func TestPostgres(t *testing.T) {
	cluster := pgtest.Start(t)
	db := cluster.DB(t)
	d := t.TempDir()
	kek := filepath.Join(d, "hub.kek")
	seal.GenerateKeyFile(kek)
	pg := []string{"--store", "postgres", "--database", db, "--data-key", "file:" + kek}
	ctx := context.Background()

	var out bytes.Buffer
	if err := run(ctx, append([]string{"serve", "--migrate=false", "--cert", "x", "--key", "y", "--ca", "z"}, pg...), &out, io.Discard); err == nil {
		t.Fatal("serve without --migrate started on an empty database")
	}
	if err := run(ctx, append([]string{"migrate"}, pg...), &out, io.Discard); err != nil || !strings.Contains(out.String(), "from version 0 to 2: 0001_init, 0002_officer_decisions") {
		t.Fatalf("migrate: %v %q", err, out.String())
	}
	out.Reset()
	if err := run(ctx, append([]string{"migrate"}, pg...), &out, io.Discard); err != nil || !strings.Contains(out.String(), "nothing to do") {
		t.Fatalf("second migrate: %v %q", err, out.String())
	}
	// A newer hub migrated this database: this one refuses it.
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	conn.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES (99, 'future')`)
	for _, cmd := range []string{"migrate", "units"} {
		if err := run(ctx, append([]string{cmd}, pg...), io.Discard, io.Discard); !errors.Is(err, hub.ErrSchemaTooNew) {
			t.Fatalf("%s on a newer schema: %v", cmd, err)
		}
	}
	conn.Exec(ctx, `DELETE FROM schema_migrations WHERE version = 99`)

	// Serve on PostgreSQL; a unit uploads.
	fl := hubtest.NewFleet(t)
	iss, _ := fl.CA.IssueServer(nil, 0)
	srvCert, srvKey := filepath.Join(d, "hub.pem"), filepath.Join(d, "hub.key")
	iss.WriteFiles(srvCert, srvKey)
	addr := freeAddr(t)
	sctx, cancel := context.WithCancel(ctx)
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(sctx, append([]string{"serve", "--listen", addr, "--cert", srvCert, "--key", srvKey, "--ca", fl.CACert}, pg...), io.Discard, logs)
	}()
	kp := seal.FileKey{Path: filepath.Join(d, "unit.kek")}
	seal.GenerateKeyFile(kp.Path)
	o, err := outbox.Open(filepath.Join(d, "outbox.db"), kp, outbox.Options{UnitID: "desk-9"})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	now := time.Now().UTC()
	for i := range 12 {
		dec, hits := "CLEAR", ""
		if i%4 == 0 {
			dec, hits = "HIT", `{"kind":"person","ref_id":"P-17","category":"foreign_terrorist_fighter"}`
		}
		o.Enqueue(ctx, outbox.Item{Kind: "result", Priority: outbox.Routine, CreatedAt: now.Add(-time.Duration(i) * time.Hour),
			Payload: json.RawMessage(fmt.Sprintf(`{"decision":%q,"document":{"surname":"NGUYENSECRET"},"hits":[%s]}`, dec, hits))})
	}
	up, _ := outbox.NewUploader(o, outbox.UploaderOptions{HubURL: "https://" + addr, TLS: fl.ClientTLS(t, "desk-9")})
	defer up.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		n, err := up.Drain(ctx, nil)
		if err == nil && n == 12 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("drain: %d, %v\nlogs:\n%s", n, err, logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v\n%s", err, logs)
	}
	if strings.Contains(logs.String(), "NGUYENSECRET") {
		t.Fatal("personal data in the hub's logs")
	}

	for _, tc := range []struct {
		args  []string
		lines int
		want  string
	}{
		{[]string{"results", "--unit", "desk-9", "--since", "5h30m", "--json"}, 6, `"unit":"desk-9"`},
		{[]string{"results", "--decision", "hit", "--all", "--limit", "1"}, 3, "foreign_terrorist_fighter"},
		{[]string{"results", "--entry", "person:P-17", "--limit", "2"}, 3, "more: --cursor"},
		{[]string{"entries"}, 1, "person:P-17"},
		{[]string{"units"}, 1, "desk-9"},
	} {
		var out bytes.Buffer
		if err := run(ctx, append(tc.args, pg...), &out, io.Discard); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if len(lines) != tc.lines || !strings.Contains(out.String(), tc.want) {
			t.Errorf("%v: %d lines, want %d with %q:\n%s", tc.args, len(lines), tc.lines, tc.want, out.String())
		}
		if !slices.Contains(tc.args, "--json") && strings.Contains(out.String(), "NGUYENSECRET") {
			t.Errorf("%v: the table shows payloads", tc.args)
		}
	}
	if err := run(ctx, append([]string{"results", "--decision", "maybe"}, pg...), io.Discard, io.Discard); cli.ExitCode(err) != 2 {
		t.Fatalf("bad filter: %v", err)
	}
}

// TestVersion: --version (and version) print the build and start nothing.
func TestVersion(t *testing.T) {
	for _, arg := range []string{"--version", "version"} {
		var out bytes.Buffer
		if err := run(context.Background(), []string{arg}, &out, io.Discard); err != nil {
			t.Fatalf("%s: %v", arg, err)
		}
		if got := out.String(); !strings.HasPrefix(got, "checkpoint-hub ") || !strings.Contains(got, runtime.Version()) {
			t.Fatalf("%s: %q", arg, got)
		}
	}
}
