// Command checkpoint-hub is the reference headquarters service: it serves
// watchlist bundles and ingests unit results over mutual TLS.
//
//	checkpoint-hub [serve] --listen 127.0.0.1:8443 --data DIR --bundles DIR \
//	    --cert hub.pem --key hub.key --ca ca.pem [--identity hq.agekey]
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
	"github.com/checkpoint-edge/checkpoint/internal/cli"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/sync/pki"
)

type config struct {
	listen    string
	bundles   string
	data      string
	cert      string
	key       string
	ca        string
	keySpec   string
	identity  string
	operators string
	newKey    string
	logLevel  string
	shutdown  time.Duration
	pax       paxFlags
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
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var c config
	fs := flag.NewFlagSet("checkpoint-hub "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.listen, "listen", "127.0.0.1:8443", "address to listen on")
	fs.StringVar(&c.bundles, "bundles", "", "directory of bundles served under /v1/bundles/")
	fs.StringVar(&c.data, "data", "/var/lib/checkpoint-hub", "state directory (results database)")
	fs.StringVar(&c.cert, "cert", "", "server certificate (PEM)")
	fs.StringVar(&c.key, "key", "", "server private key (PEM)")
	fs.StringVar(&c.ca, "ca", "", "fleet CA: verifies unit client certificates and signed imports")
	fs.StringVar(&c.keySpec, "data-key", "credential:hub.kek", "key-encryption key for stored results (file:PATH, credential:NAME, env:VAR)")
	fs.StringVar(&c.newKey, "new-data-key", "", "rotate-key: the new key-encryption key (the hub stopped)")
	fs.StringVar(&c.identity, "identity", "", "age identity file that decrypts hand-carried exports")
	fs.StringVar(&c.operators, "operator", "", "comma-separated certificate ids allowed to list units and read all results")
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.DurationVar(&c.shutdown, "shutdown-timeout", 10*time.Second, "grace period for in-flight requests")
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
	switch cmd {
	case "serve":
		if len(pos) != 0 {
			return cli.Exit(2, fmt.Errorf("serve: unexpected arguments %q", pos))
		}
		return serve(ctx, c, log)
	case "import":
		if len(pos) == 0 {
			return cli.Exit(2, errors.New("import: give one or more export files"))
		}
		return importFiles(c, pos, stdout, log)
	case "rotate-key":
		return rotateKey(c, stdout, log)
	}
	return cli.Exit(2, fmt.Errorf("unknown command %q (want serve, import or rotate-key)", cmd))
}

func openHub(c config, log *slog.Logger) (*hub.Hub, error) {
	kp, err := seal.ParseProvider(c.keySpec)
	if err != nil {
		return nil, cli.Exit(2, err)
	}
	if err := os.MkdirAll(c.data, 0o700); err != nil {
		return nil, err
	}
	opts := hub.Options{BundleDir: c.bundles, Logger: log}
	if c.operators != "" {
		opts.Operators = strings.Split(c.operators, ",")
	}
	if c.ca != "" {
		if opts.Roots, err = pki.LoadPool(c.ca); err != nil {
			return nil, cli.Exit(2, err)
		}
	}
	if c.identity != "" {
		f, err := os.Open(c.identity)
		if err != nil {
			return nil, cli.Exit(2, err)
		}
		opts.Identities, err = age.ParseIdentities(f)
		f.Close()
		if err != nil {
			return nil, cli.Exit(2, fmt.Errorf("--identity: %w", err))
		}
	}
	return hub.Open(filepath.Join(c.data, "hub.db"), kp, opts)
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
	h, err := openHub(c, log)
	if err != nil {
		return err
	}
	defer h.Close()
	ln, err := net.Listen("tcp", c.listen)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           h.Handler(),
		TLSConfig:         tlsCfg,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	if c.pax.enabled() {
		kp, _ := seal.ParseProvider(c.keySpec) // openHub checked it
		pax, err := c.pax.open(c.data, c.bundles, kp, log)
		if err != nil {
			return err
		}
		defer pax.Close()
		srv.Handler = withPaxdata(srv.Handler, pax, strings.Split(c.operators, ","))
		pctx, stop := context.WithCancel(ctx)
		defer stop()
		go runPaxdata(pctx, pax, log)
	}
	log.Info("hub listening", "addr", ln.Addr().String(), "bundles", c.bundles != "", "paxdata", c.pax.enabled())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(tls.NewListener(ln, tlsCfg)) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), c.shutdown)
	defer cancel()
	err = srv.Shutdown(sctx)
	log.Info("hub stopped")
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return errors.Join(err, h.Close())
}

// rotateKey re-wraps the results database's data key, then proves the
// database opens with the new key.
func rotateKey(c config, stdout io.Writer, log *slog.Logger) error {
	if c.newKey == "" || c.newKey == c.keySpec {
		return cli.Exit(2, errors.New("rotate-key: --new-data-key must name a key other than --data-key"))
	}
	newKP, err := seal.ParseProvider(c.newKey)
	if err != nil {
		return cli.Exit(2, fmt.Errorf("rotate-key: --new-data-key: %w", err))
	}
	h, err := openHub(c, log)
	if err != nil {
		return err
	}
	err = h.RotateKEK(newKP)
	if cerr := h.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	c.keySpec = c.newKey
	if h, err = openHub(c, log); err != nil {
		return fmt.Errorf("rotate-key: the database does not open with the new key: %w", err)
	}
	h.Close()
	fmt.Fprintf(stdout, "results database %s now opens with %s only\n", filepath.Join(c.data, "hub.db"), newKP)
	return nil
}

func importFiles(c config, files []string, stdout io.Writer, log *slog.Logger) error {
	if c.identity == "" || c.ca == "" {
		return cli.Exit(2, errors.New("import: --identity and --ca are required"))
	}
	h, err := openHub(c, log)
	if err != nil {
		return err
	}
	defer h.Close()
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		res, err := h.Import(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("import %s: %w", name, err)
		}
		fmt.Fprintf(stdout, "%s: unit %s: %d new, %d already held\n", name, res.Unit, res.New, res.Duplicates)
	}
	return nil
}
