package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/checkpoint-edge/checkpoint/config"
	"github.com/checkpoint-edge/checkpoint/internal/cli"
	"github.com/checkpoint-edge/checkpoint/watchlist"
	"github.com/checkpoint-edge/checkpoint/watchlist/match"
)

// thresholdFlags override the person-matching levels of --config.
type thresholdFlags struct {
	hit, possible, hitEv, possibleEv float64
}

func (t *thresholdFlags) register(c *cobra.Command) {
	c.Flags().Float64Var(&t.hit, "hit-threshold", 0, "person HIT score (default: --config's policy.person_hit_score, else the tuned default)")
	c.Flags().Float64Var(&t.possible, "possible-threshold", 0, "person POSSIBLE score (default: policy.person_possible_score, else the tuned default)")
	c.Flags().Float64Var(&t.hitEv, "hit-evidence", 0, "evidence a person HIT needs (default: policy.person_hit_evidence, else the tuned default)")
	c.Flags().Float64Var(&t.possibleEv, "possible-evidence", 0, "evidence a POSSIBLE match needs (default: policy.person_possible_evidence, else the tuned default)")
}

// thresholds are the levels to apply: the flags, else the config file's
// policy when it can be read, else the defaults.
func (t *thresholdFlags) thresholds(configPath string) (watchlist.Thresholds, error) {
	var th watchlist.Thresholds
	if configPath != "" {
		if cfg, err := config.Load(configPath); err == nil {
			th = watchlist.Thresholds{HitScore: cfg.Policy.PersonHitScore, PossibleScore: cfg.Policy.PersonPossibleScore,
				HitEvidence: cfg.Policy.PersonHitEvidence, PossibleEvidence: cfg.Policy.PersonPossibleEvidence}
		} else if !errors.Is(err, os.ErrNotExist) && configPath != techDefaultConfig {
			return th, fmt.Errorf("--config: %w", err)
		}
	}
	for _, o := range []struct {
		v   float64
		dst *float64
	}{{t.hit, &th.HitScore}, {t.possible, &th.PossibleScore}, {t.hitEv, &th.HitEvidence}, {t.possibleEv, &th.PossibleEvidence}} {
		if o.v != 0 {
			*o.dst = o.v
		}
	}
	return th, th.Validate()
}

func (t *thresholdFlags) config(configPath string) (*match.Config, error) {
	th, err := t.thresholds(configPath)
	if err != nil {
		return nil, err
	}
	return th.MatchConfig(), nil
}

// runBatchSearch screens the JSON Lines of src ("-" = stdin) against the
// store file or, with daemon, through checkpointd's admin socket, writing
// one result per line to stdout and a summary to stderr.
func runBatchSearch(cmd *cobra.Command, src string, daemon bool, socket, configPath string, th thresholdFlags) error {
	var in io.Reader = cmd.InOrStdin()
	if src != "-" {
		f, err := os.Open(src)
		if err != nil {
			return cli.Exit(2, err)
		}
		defer f.Close()
		in = f
	}
	out := bufio.NewWriterSize(cmd.OutOrStdout(), 64<<10)
	defer out.Flush()
	if daemon {
		if th != (thresholdFlags{}) {
			return cli.Exit(2, errors.New("--daemon screens with the daemon's configured thresholds: threshold flags do not apply"))
		}
		if socket == "" {
			p, err := resolveStatusPaths(configPath, "", true)
			if err != nil {
				return err
			}
			socket = p.socket
		}
		return screenViaDaemon(cmd.Context(), socket, in, out)
	}
	s, err := openSearchStore(cmd, configPath, th)
	if err != nil {
		return err
	}
	defer s.Close()
	sum, err := s.ScreenBatch(cmd.Context(), in, out, watchlist.BatchOptions{})
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "screened %d travellers against sequence %d: %d with a HIT, %d with possible matches, %d lines in error\n",
		sum.Queries, sum.Sequence, sum.Hit, sum.Possible, sum.Errors)
	if errors.Is(err, watchlist.ErrBadQuery) {
		return cli.Exit(2, err)
	}
	return err
}

// screenViaDaemon streams the batch to POST /v1/watchlist/screen and the
// results back.
func screenViaDaemon(ctx context.Context, socket string, in io.Reader, out io.Writer) error {
	tr := adminTransport(socket)
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://checkpointd/v1/watchlist/screen", in)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := (&http.Client{Transport: tr}).Do(req)
	switch {
	case err == nil:
	case errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.ECONNREFUSED):
		return cli.Exit(exitStatusNotRunning, fmt.Errorf("%w (admin socket %s)", errStatusNotRunning, socket))
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return fmt.Errorf("admin socket %s: permission denied (run as root or as checkpointd's user)", socket)
	default:
		return fmt.Errorf("admin socket %s: %w", socket, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("admin socket %s: %s: %s", socket, resp.Status, string(b))
	}
	if _, err := io.Copy(out, resp.Body); err != nil {
		return fmt.Errorf("admin socket %s: %w", socket, err)
	}
	if e := resp.Trailer.Get("X-Screen-Error"); e != "" {
		return cli.Exit(2, fmt.Errorf("checkpointd stopped the batch: %s", e))
	}
	return nil
}

// openSearchStore opens the store read-only with the thresholds of
// --config and the threshold flags.
func openSearchStore(cmd *cobra.Command, configPath string, th thresholdFlags) (*watchlist.Store, error) {
	cfg, err := th.config(configPath)
	if err != nil {
		return nil, cli.Exit(2, err)
	}
	return openWatchlist(cmd, watchlist.Options{ReadOnly: true, MatchConfig: cfg})
}
