// Command chipsim runs an emulated ICAO 9303 passport chip in a vpcd
// virtual reader, and makes the test PKI that signs such chips. It is a
// test and demo tool: `make install` does not install it, and it has no
// place on a field unit.
//
//	chipsim emulate --vpcd 127.0.0.1:35963 --profile chip.json [--pki DIR]
//	chipsim pki --out DIR [--country UTO] [--csca-key rsa2048] [--ds-key ecdsa-p256] [--pss]
//
// emulate keeps the chip in the reader until Ctrl-C, putting it back when
// vpcd drops it. The document signer is the profile's "signer", else the
// ds.pem/ds.key of --pki DIR, else a fresh test PKI written to --pki DIR
// (so that a reader can trust its CSCA or master list). The profile format
// is documented in package internal/chipsim (profile.go).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/checkpoint-edge/checkpoint/internal/chipsim"
	"github.com/checkpoint-edge/checkpoint/internal/chipsim/issuer"
	"github.com/checkpoint-edge/checkpoint/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, flag.ErrHelp) {
		return
	}
	fmt.Fprintln(os.Stderr, "chipsim:", err)
	os.Exit(cli.ExitCode(err))
}

const usage = `usage:
  chipsim emulate --vpcd HOST:PORT --profile FILE [--pki DIR] [--log-level LEVEL]
  chipsim pki --out DIR [--country UTO] [--csca-key SPEC] [--ds-key SPEC] [--pss]`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return cli.Exit(2, errors.New("no command"))
	}
	switch args[0] {
	case "emulate":
		return emulate(ctx, args[1:], stdout, stderr)
	case "pki":
		return makePKI(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	fmt.Fprintln(stderr, usage)
	return cli.Exit(2, fmt.Errorf("unknown command %q", args[0]))
}

func emulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("emulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	vpcd := fs.String("vpcd", "127.0.0.1:35963", "vpcd address (the emulator connects to it)")
	profilePath := fs.String("profile", "", "chip profile (JSON)")
	pkiDir := fs.String("pki", "", "test PKI directory: its DS signs the chip; made when absent")
	level := fs.String("log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return cli.Exit(2, err)
	}
	if *profilePath == "" {
		return cli.Exit(2, errors.New("emulate: --profile is required"))
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(*level)); err != nil {
		return cli.Exit(2, fmt.Errorf("emulate: --log-level: %w", err))
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lv}))

	prof, err := chipsim.LoadProfile(*profilePath)
	if err != nil {
		return cli.Exit(2, err)
	}
	ds, err := prof.LoadSigner()
	if err != nil {
		return err
	}
	if ds == nil {
		if ds, err = signerFromDir(*pkiDir, logger); err != nil {
			return err
		}
	}
	cfg, doc, err := prof.Build(ds)
	if err != nil {
		return cli.Exit(2, err)
	}
	card, err := chipsim.NewCard(cfg)
	if err != nil {
		return cli.Exit(2, err)
	}
	// No personal data in the log: features only.
	logger.Info("emulated chip ready", "vpcd", *vpcd, "pace", cfg.Files[chipsim.FileCardAccess] != nil,
		"bac", !cfg.DisableBAC, "aa", doc.AAKey != nil, "ca", doc.CAKey != nil, "files", len(doc.Files))
	fmt.Fprintf(stdout, "chip in the vpcd reader at %s; Ctrl-C removes it\n", *vpcd)
	return chipsim.NewEmulator(*vpcd, card, logger).Run(ctx)
}

// signerFromDir loads ds.pem/ds.key from dir, or makes a PKI there.
func signerFromDir(dir string, logger *slog.Logger) (*issuer.CertKey, error) {
	if dir != "" {
		ds, err := issuer.LoadCertKey(filepath.Join(dir, issuer.FileDSCert), filepath.Join(dir, issuer.FileDSKey))
		if err == nil {
			return ds, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	pki, err := issuer.NewPKI("UTO", issuer.PKIOptions{})
	if err != nil {
		return nil, err
	}
	if dir == "" {
		logger.Warn("no --pki directory: the chip is signed by a throw-away PKI that no reader trusts")
		return pki.DS, nil
	}
	if err := pki.WriteFiles(dir); err != nil {
		return nil, err
	}
	logger.Info("test PKI written", "dir", dir)
	return pki.DS, nil
}

func makePKI(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("pki", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "directory to write (created 0700)")
	country := fs.String("country", "UTO", "issuing state code")
	cscaKey := fs.String("csca-key", "rsa2048", "CSCA key: rsaNNNN, ecdsa-p256, ecdsa-p384")
	dsKey := fs.String("ds-key", "ecdsa-p256", "document signer key")
	pss := fs.Bool("pss", false, "RSA signatures with RSASSA-PSS")
	if err := fs.Parse(args); err != nil {
		return cli.Exit(2, err)
	}
	if *out == "" {
		return cli.Exit(2, errors.New("pki: --out is required"))
	}
	pki, err := issuer.NewPKI(strings.ToUpper(*country), issuer.PKIOptions{CSCAKey: *cscaKey, DSKey: *dsKey, PSS: *pss})
	if err != nil {
		return cli.Exit(2, err)
	}
	if err := pki.WriteFiles(*out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "test PKI for %s in %s: trust %s (or %s), CRL %s; sign with %s/%s\n",
		pki.Country, *out, issuer.FileCSCA, issuer.FileMasterList, issuer.FileCRL, issuer.FileDSCert, issuer.FileDSKey)
	return nil
}
