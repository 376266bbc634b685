// Command checkpoint-hub is the headquarters service: it serves watchlist
// bundles and ingests unit results over mutual TLS, into a bbolt file (the
// embedded default) or PostgreSQL (several replicas).
//
//	checkpoint-hub [serve] --listen 127.0.0.1:8443 --data DIR --bundles DIR \
//	    --cert hub.pem --key hub.key --ca ca.pem [--identity hq.agekey] \
//	    [--store postgres --database URL]
//	checkpoint-hub migrate --database URL
//	checkpoint-hub results [--unit ID] [--since 24h] [--decision HIT] … [--json]
//	checkpoint-hub entries [--entry person:ID] [--since 7d] [--json]
//	checkpoint-hub units [--json]
//	checkpoint-hub import FILE --data DIR --ca ca.pem --identity hq.agekey
//	checkpoint-hub rotate-key --data DIR --data-key OLD --new-data-key NEW
//
// The logic lives in package hub; this file only parses flags and runs.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"filippo.io/age"

	"github.com/checkpoint-edge/checkpoint/hub"
	"github.com/checkpoint-edge/checkpoint/internal/backoff"
	"github.com/checkpoint-edge/checkpoint/internal/buildinfo"
	"github.com/checkpoint-edge/checkpoint/internal/cli"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/sync/pki"
)

type config struct {
	listen        string
	bundles       string
	data          string
	store         string
	database      string
	migrate       bool
	maxConns      int
	cert          string
	key           string
	ca            string
	keySpec       string
	identity      string
	operators     string
	newKey        string
	logLevel      string
	metricsListen string
	shutdown      time.Duration
	limits        hub.Limits
	alerts        alertFlags
	query         queryFlags
	pax           paxFlags
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, flag.ErrHelp) {
		return
	}
	fmt.Fprintln(os.Stderr, "checkpoint-hub:", err)
	os.Exit(cli.ExitCode(err))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version" || args[0] == "version") {
		fmt.Fprintln(stdout, "checkpoint-hub", buildinfo.Get())
		return nil
	}
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	c := config{limits: hub.DefaultLimits()}
	fs := flag.NewFlagSet("checkpoint-hub "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.listen, "listen", "127.0.0.1:8443", "address to listen on")
	fs.StringVar(&c.bundles, "bundles", "", "directory of bundles served under /v1/bundles/ (shared by every replica)")
	fs.StringVar(&c.data, "data", "/var/lib/checkpoint-hub", "state directory (the bbolt results database)")
	fs.StringVar(&c.store, "store", "bolt", "results store: bolt (one process) or postgres (several replicas)")
	fs.StringVar(&c.database, "database", os.Getenv("CHECKPOINT_HUB_DATABASE"), "PostgreSQL connection string (libpq URL or key=value; default $CHECKPOINT_HUB_DATABASE)")
	fs.BoolVar(&c.migrate, "migrate", true, "serve: apply missing schema migrations at start (false: refuse to start on an old schema)")
	fs.IntVar(&c.maxConns, "max-db-conns", 16, "PostgreSQL connections per replica")
	fs.StringVar(&c.cert, "cert", "", "server certificate (PEM)")
	fs.StringVar(&c.key, "key", "", "server private key (PEM)")
	fs.StringVar(&c.ca, "ca", "", "fleet CA: verifies unit and operator client certificates and signed imports")
	fs.StringVar(&c.keySpec, "data-key", "credential:hub.kek", "key-encryption key for stored results (file:PATH, credential:NAME, env:VAR)")
	fs.StringVar(&c.newKey, "new-data-key", "", "rotate-key: the new key-encryption key (the hub stopped)")
	fs.StringVar(&c.identity, "identity", "", "age identity file that decrypts hand-carried exports")
	fs.StringVar(&c.operators, "operator", "", "comma-separated operator certificate ids allowed (default: any operator certificate of the fleet CA)")
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.metricsListen, "metrics-listen", "", "also serve Prometheus /metrics in clear on this address (keep it on loopback)")
	fs.DurationVar(&c.shutdown, "shutdown-timeout", 10*time.Second, "grace period for in-flight requests")
	fs.Int64Var(&c.limits.MaxBatchBytes, "max-batch-bytes", c.limits.MaxBatchBytes, "largest POST /v1/results body (413 beyond)")
	fs.Float64Var(&c.limits.UnitRecordsPerSecond, "unit-records-per-second", c.limits.UnitRecordsPerSecond, "sustained results per second per unit (429 beyond the burst)")
	fs.Float64Var(&c.limits.UnitBytesPerSecond, "unit-bytes-per-second", c.limits.UnitBytesPerSecond, "sustained upload bytes per second per unit")
	fs.Float64Var(&c.limits.UnitBytesPerDay, "unit-bytes-per-day", c.limits.UnitBytesPerDay, "upload bytes per unit per day")
	c.alerts.register(fs)
	c.query.register(fs)
	c.pax.register(fs)
	// Allow flags after positional arguments (import FILE --identity …).
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return cli.Exit(2, err)
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.logLevel)); err != nil {
		return cli.Exit(2, fmt.Errorf("--log-level: %w", err))
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: lvl}))
	if c.store != "bolt" && c.store != "postgres" {
		return cli.Exit(2, fmt.Errorf("--store %q: want bolt or postgres", c.store))
	}
	if c.store == "postgres" && c.database == "" {
		return cli.Exit(2, errors.New("--store postgres needs --database (or CHECKPOINT_HUB_DATABASE)"))
	}
	switch cmd {
	case "serve":
		if len(pos) != 0 {
			return cli.Exit(2, fmt.Errorf("serve: unexpected arguments %q", pos))
		}
		if err := c.alerts.check(c); err != nil {
			return err
		}
		return serve(ctx, c, log)
	case "migrate":
		return migrate(ctx, c, stdout)
	case "import":
		if len(pos) == 0 {
			return cli.Exit(2, errors.New("import: give one or more export files"))
		}
		return importFiles(ctx, c, pos, stdout, log)
	case "rotate-key":
		return rotateKey(ctx, c, stdout, log)
	case "results", "entries", "units":
		return query(ctx, cmd, c, stdout, log)
	}
	return cli.Exit(2, fmt.Errorf("unknown command %q (want serve, migrate, results, entries, units, import or rotate-key)", cmd))
}

// openStore opens the configured store. serve waits for PostgreSQL (it may
// start after the hub, or be restarting); the other commands do not.
func openStore(ctx context.Context, c config, log *slog.Logger, wait bool) (hub.Store, error) {
	kp, err := seal.ParseProvider(c.keySpec)
	if err != nil {
		return nil, cli.Exit(2, err)
	}
	if c.store == "bolt" {
		if err := os.MkdirAll(c.data, 0o700); err != nil {
			return nil, err
		}
		return hub.OpenBolt(filepath.Join(c.data, "hub.db"), kp, hub.BoltOptions{Logger: log})
	}
	pol := backoff.Policy{Initial: 500 * time.Millisecond, Max: 10 * time.Second, Factor: 2}
	for attempt := 1; ; attempt++ {
		st, err := hub.OpenPostgres(ctx, c.database, kp, hub.PGOptions{Migrate: c.migrate && wait, MaxConns: int32(c.maxConns), Logger: log})
		if err == nil || !wait || !errors.Is(err, hub.ErrUnavailable) {
			return st, err
		}
		d := pol.Jittered(attempt, nil)
		log.Warn("database unavailable; retrying", "err", err, "retry_in", d.Round(time.Millisecond).String())
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(d):
		}
	}
}

func hubOptions(c config, log *slog.Logger) (hub.Options, error) {
	opts := hub.Options{BundleDir: c.bundles, Logger: log, Limits: c.limits}
	if c.operators != "" {
		opts.Operators = strings.Split(c.operators, ",")
	}
	var err error
	if c.ca != "" {
		if opts.Roots, err = pki.LoadPool(c.ca); err != nil {
			return opts, cli.Exit(2, err)
		}
	}
	if c.identity != "" {
		f, err := os.Open(c.identity)
		if err != nil {
			return opts, cli.Exit(2, err)
		}
		opts.Identities, err = age.ParseIdentities(f)
		f.Close()
		if err != nil {
			return opts, cli.Exit(2, fmt.Errorf("--identity: %w", err))
		}
	}
	if opts.Alerts, err = c.alerts.publisher(c, log); err != nil {
		return opts, err
	}
	return opts, nil
}

func openHub(ctx context.Context, c config, log *slog.Logger, wait bool) (*hub.Hub, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opts, err := hubOptions(c, log)
	if err != nil {
		return nil, err
	}
	st, err := openStore(ctx, c, log, wait)
	if err != nil {
		return nil, err
	}
	h, err := hub.New(st, opts)
	if err != nil {
		st.Close()
		return nil, err
	}
	return h, nil
}

func serve(ctx context.Context, c config, log *slog.Logger) error {
	if c.cert == "" || c.key == "" || c.ca == "" {
		// Ingestion must know who is talking: no client-certificate
		// verification, no service.
		return cli.Exit(2, errors.New("serve: --cert, --key and --ca are required (results are accepted only over mutual TLS)"))
	}
	tlsCfg, err := pki.ServerConfig(c.cert, c.key, c.ca)
	if err != nil {
		return cli.Exit(2, err)
	}
	h, err := openHub(ctx, c, log, true)
	if err != nil {
		return err
	}
	defer h.Close()
	ln, err := net.Listen("tcp", c.listen)
	if err != nil {
		return err
	}
	srv := h.Server(tlsCfg, log)
	if c.pax.enabled() {
		kp, _ := seal.ParseProvider(c.keySpec) // openHub checked it
		pax, err := c.pax.open(c.data, c.bundles, kp, log)
		if err != nil {
			return err
		}
		defer pax.Close()
		srv.Handler = withPaxdata(srv.Handler, pax, splitList(c.operators))
		pctx, stop := context.WithCancel(ctx)
		defer stop()
		go runPaxdata(pctx, pax, log)
	}
	log.Info("hub listening", "addr", ln.Addr().String(), "store", c.store, "bundles", c.bundles != "", "schema", hub.SchemaVersion(),
		"paxdata", c.pax.enabled())
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(tls.NewListener(ln, tlsCfg)) }()
	var msrv *http.Server
	if c.metricsListen != "" {
		mln, err := net.Listen("tcp", c.metricsListen)
		if err != nil {
			srv.Close()
			return err
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", h.MetricsHandler())
		msrv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second}
		go func() { errc <- msrv.Serve(mln) }()
	}
	select {
	case err := <-errc:
		srv.Close()
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), c.shutdown)
	defer cancel()
	err = srv.Shutdown(sctx)
	if msrv != nil {
		msrv.Shutdown(sctx)
	}
	log.Info("hub stopped")
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return errors.Join(err, h.Close())
}

func migrate(ctx context.Context, c config, stdout io.Writer) error {
	if c.store != "postgres" {
		return cli.Exit(2, errors.New("migrate: only the postgres store has a schema (give --store postgres --database URL)"))
	}
	res, err := hub.Migrate(ctx, c.database)
	if err != nil {
		return err
	}
	if len(res.Applied) == 0 {
		fmt.Fprintf(stdout, "schema at version %d: nothing to do\n", res.To)
		return nil
	}
	fmt.Fprintf(stdout, "schema migrated from version %d to %d: %s\n", res.From, res.To, strings.Join(res.Applied, ", "))
	return nil
}

// rotateKey re-wraps the results database's data key, then proves the
// database opens with the new key.
func rotateKey(ctx context.Context, c config, stdout io.Writer, log *slog.Logger) error {
	if c.newKey == "" || c.newKey == c.keySpec {
		return cli.Exit(2, errors.New("rotate-key: --new-data-key must name a key other than --data-key"))
	}
	newKP, err := seal.ParseProvider(c.newKey)
	if err != nil {
		return cli.Exit(2, fmt.Errorf("rotate-key: --new-data-key: %w", err))
	}
	st, err := openStore(ctx, c, log, false)
	if err != nil {
		return err
	}
	err = st.RotateKEK(ctx, newKP)
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	c.keySpec = c.newKey
	if st, err = openStore(ctx, c, log, false); err != nil {
		return fmt.Errorf("rotate-key: the database does not open with the new key: %w", err)
	}
	st.Close()
	where := filepath.Join(c.data, "hub.db")
	if c.store == "postgres" {
		where = "the PostgreSQL database"
	}
	fmt.Fprintf(stdout, "results database %s now opens with %s only\n", where, newKP)
	return nil
}

func importFiles(ctx context.Context, c config, files []string, stdout io.Writer, log *slog.Logger) error {
	if c.identity == "" || c.ca == "" {
		return cli.Exit(2, errors.New("import: --identity and --ca are required"))
	}
	h, err := openHub(ctx, c, log, false)
	if err != nil {
		return err
	}
	defer h.Close()
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		res, err := h.ImportContext(ctx, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("import %s: %w", name, err)
		}
		fmt.Fprintf(stdout, "%s: unit %s: %d new, %d already held\n", name, res.Unit, res.New, res.Duplicates)
	}
	return nil
}
