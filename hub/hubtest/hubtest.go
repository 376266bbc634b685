// Package hubtest runs a real hub for tests: a throw-away fleet CA, a server
// certificate for 127.0.0.1, unit and operator client certificates, and the
// hub serving HTTPS with mutual TLS on a loopback port that survives
// Stop/Restart, so link failures can be staged. The store is the bbolt
// file by default, or a database of a private PostgreSQL cluster
// (Options.Postgres, see hub/pgtest).
package hubtest

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/checkpoint-edge/checkpoint/hub"
	"github.com/checkpoint-edge/checkpoint/hub/pgtest"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/sync/pki"
)

// Fleet is a CA with files in a temporary directory.
type Fleet struct {
	Dir    string
	CA     *pki.CA
	CACert string // PEM file
	CAKey  string
}

// NewFleet creates a CA in t.TempDir().
func NewFleet(t testing.TB) *Fleet {
	t.Helper()
	d := t.TempDir()
	ca, err := pki.NewCA("hubtest CA", 0)
	if err != nil {
		t.Fatal(err)
	}
	f := &Fleet{Dir: d, CA: ca, CACert: filepath.Join(d, "ca.pem"), CAKey: filepath.Join(d, "ca.key")}
	if err := ca.WriteFiles(f.CACert, f.CAKey); err != nil {
		t.Fatal(err)
	}
	return f
}

// Unit issues (or re-issues) a client certificate for id and returns its
// files.
func (f *Fleet) Unit(t testing.TB, id string) (certFile, keyFile string) {
	t.Helper()
	iss, err := f.CA.IssueUnit(id, 0)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(f.Dir, id+".pem"), filepath.Join(f.Dir, id+".key")
	if err := iss.WriteFiles(certFile, keyFile); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// Operator issues an operator client certificate for id and returns its
// files.
func (f *Fleet) Operator(t testing.TB, id string) (certFile, keyFile string) {
	t.Helper()
	iss, err := f.CA.IssueOperator(id, 0)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(f.Dir, "op-"+id+".pem"), filepath.Join(f.Dir, "op-"+id+".key")
	if err := iss.WriteFiles(certFile, keyFile); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// OperatorTLS returns an operator's mutual-TLS client configuration.
func (f *Fleet) OperatorTLS(t testing.TB, id string) *tls.Config {
	t.Helper()
	c, k := f.Operator(t, id)
	cfg, err := pki.ClientConfig(c, k, f.CACert)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// ClientTLS returns a unit's mutual-TLS client configuration.
func (f *Fleet) ClientTLS(t testing.TB, id string) *tls.Config {
	t.Helper()
	c, k := f.Unit(t, id)
	cfg, err := pki.ClientConfig(c, k, f.CACert)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// Certificate returns a unit's tls.Certificate (e.g. to sign exports).
func (f *Fleet) Certificate(t testing.TB, id string) tls.Certificate {
	t.Helper()
	return f.ClientTLS(t, id).Certificates[0]
}

// Options configure Start.
type Options struct {
	BundleDir string
	// Operators restricts operator certificates (Fleet.OperatorTLS) to
	// these ids; empty accepts any.
	Operators []string
	// Import enables POST /v1/imports with a fresh age identity (Server.Recipient).
	Import bool
	// Postgres, when set, stores results in a fresh database of this
	// cluster instead of a bbolt file.
	Postgres *pgtest.Cluster
	// Limits override the hub's request limits (zero fields: defaults).
	Limits hub.Limits
	// Logger receives the hub's logs (default: discarded).
	Logger *slog.Logger
}

// Server is a running (or stopped) hub.
type Server struct {
	URL       string
	Addr      string
	Fleet     *Fleet
	DataDir   string
	Recipient *age.X25519Recipient

	t        testing.TB
	opts     hub.Options
	dbURL    string
	kek      seal.KeyProvider
	certFile string
	keyFile  string

	mu  sync.Mutex
	hub *hub.Hub
	srv *http.Server
}

// Start runs a hub on 127.0.0.1 with a new fleet; it is stopped by
// t.Cleanup.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	fl := NewFleet(t)
	d := t.TempDir()
	s := &Server{Fleet: fl, DataDir: d, t: t, kek: seal.FileKey{Path: filepath.Join(d, "hub.kek")}}
	if err := seal.GenerateKeyFile(filepath.Join(d, "hub.kek")); err != nil {
		t.Fatal(err)
	}
	iss, err := fl.CA.IssueServer(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	s.certFile, s.keyFile = filepath.Join(fl.Dir, "hub.pem"), filepath.Join(fl.Dir, "hub.key")
	if err := iss.WriteFiles(s.certFile, s.keyFile); err != nil {
		t.Fatal(err)
	}
	s.opts = hub.Options{BundleDir: o.BundleDir, Operators: o.Operators, Limits: o.Limits, Logger: o.Logger}
	if o.Postgres != nil {
		s.dbURL = o.Postgres.DB(t)
	}
	if o.Import {
		id, err := age.GenerateX25519Identity()
		if err != nil {
			t.Fatal(err)
		}
		s.Recipient = id.Recipient()
		s.opts.Identities = []age.Identity{id}
		if s.opts.Roots, err = pki.LoadPool(fl.CACert); err != nil {
			t.Fatal(err)
		}
	}
	s.start("127.0.0.1:0")
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) start(addr string) {
	s.t.Helper()
	cfg, err := pki.ServerConfig(s.certFile, s.keyFile, s.Fleet.CACert)
	if err != nil {
		s.t.Fatal(err)
	}
	var st hub.Store
	if s.dbURL != "" {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		st, err = hub.OpenPostgres(ctx, s.dbURL, s.kek, hub.PGOptions{Migrate: true})
		cancel()
	} else {
		st, err = hub.OpenBolt(filepath.Join(s.DataDir, "hub.db"), s.kek, hub.BoltOptions{})
	}
	if err != nil {
		s.t.Fatal(err)
	}
	h, err := hub.New(st, s.opts)
	if err != nil {
		s.t.Fatal(err)
	}
	var ln net.Listener
	// The port may linger briefly after a stop; retry for a while.
	for i := 0; ; i++ {
		ln, err = net.Listen("tcp", addr)
		if err == nil {
			break
		}
		if i == 100 {
			h.Close()
			s.t.Fatalf("hubtest: listen %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	srv := h.Server(cfg, nil)
	srv.ErrorLog = log.New(io.Discard, "", 0)
	go srv.Serve(tls.NewListener(ln, cfg))
	s.mu.Lock()
	s.hub, s.srv = h, srv
	s.Addr = ln.Addr().String()
	s.URL = "https://" + s.Addr
	s.mu.Unlock()
}

// Stop closes the listener, every connection and the database, like a
// crashed or rebooted hub. It is idempotent.
func (s *Server) Stop() {
	s.mu.Lock()
	srv, h := s.srv, s.hub
	s.srv, s.hub = nil, nil
	s.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
	if h != nil {
		h.Close()
	}
}

// Replica starts a second hub process-alike over the same PostgreSQL
// database (Options.Postgres), with the same fleet, keys and options, on
// its own port; it is stopped by t.Cleanup.
func (s *Server) Replica(t testing.TB) *Server {
	t.Helper()
	if s.dbURL == "" {
		t.Fatal("hubtest: replicas need Options.Postgres")
	}
	r := &Server{Fleet: s.Fleet, DataDir: s.DataDir, Recipient: s.Recipient, t: t, opts: s.opts, dbURL: s.dbURL,
		kek: s.kek, certFile: s.certFile, keyFile: s.keyFile}
	r.start("127.0.0.1:0")
	t.Cleanup(r.Stop)
	return r
}

// Restart starts the hub again on the same address with the same data.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.start(s.Addr)
}

// Hub returns the running hub (nil when stopped).
func (s *Server) Hub() *hub.Hub {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hub
}

// Results returns every stored record of unit in arrival order, reading the
// database directly (the hub must be running).
func (s *Server) Results(t testing.TB, unit string) []hub.Stored {
	t.Helper()
	h := s.Hub()
	if h == nil {
		t.Fatal("hubtest: hub is stopped")
	}
	all, err := AllResults(context.Background(), h.Store(), unit)
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// AllResults pages through every stored record of unit in arrival order
// (nil for a unit the store has never heard from).
func AllResults(ctx context.Context, st hub.Store, unit string) ([]hub.Stored, error) {
	var all []hub.Stored
	q := hub.Query{Unit: unit, Order: hub.OrderArrival, Limit: 5000}
	for {
		page, err := st.Results(ctx, q)
		if errors.Is(err, hub.ErrUnknownUnit) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		all = append(all, page.Results...)
		if page.Next == "" {
			return all, nil
		}
		q.Cursor = page.Next
	}
}
