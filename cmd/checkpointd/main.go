// Command checkpointd is the Checkpoint lane daemon: it reads documents from
// the serial scanner, captures the traveller's face, checks both against the
// local encrypted watchlist, shows the result to the officer or the gate and
// queues it for headquarters.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/checkpoint-edge/checkpoint/config"
	"github.com/checkpoint-edge/checkpoint/internal/buildinfo"
	"github.com/checkpoint-edge/checkpoint/internal/unit"
)

func main() {
	cfgPath := flag.String("config", "/etc/checkpoint/checkpointd.yaml", "configuration file")
	check := flag.Bool("check-config", false, "validate the configuration and exit")
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *showVersion {
		fmt.Println("checkpointd", buildinfo.Get())
		return
	}
	if err := run(*cfgPath, *check); err != nil {
		fmt.Fprintln(os.Stderr, "checkpointd:", err)
		os.Exit(1)
	}
}

func run(cfgPath string, checkOnly bool) error {
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return err
	}
	if checkOnly {
		fmt.Println("configuration OK")
		return nil
	}
	logger := newLogger(cfg.Log)
	slog.SetDefault(logger)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	u, err := unit.New(cfg, logger)
	if err != nil {
		return err
	}
	runErr := u.Run(ctx)
	closeErr := u.Close()
	if errors.Is(runErr, context.Canceled) {
		runErr = nil
	}
	return errors.Join(runErr, closeErr)
}

func newLogger(c config.Log) *slog.Logger {
	var lvl slog.Level
	lvl.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	if c.Format == "text" {
		return slog.New(slog.NewTextHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, opts))
}
