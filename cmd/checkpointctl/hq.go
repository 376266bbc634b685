package main

import (
	"context"
	"errors"
	"fmt"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/checkpoint-edge/checkpoint/hub"
	"github.com/checkpoint-edge/checkpoint/internal/cli"
	"github.com/checkpoint-edge/checkpoint/sync/pki"
)

func init() { rootCmd.AddCommand(newHQCmd()) }

// hqFlags reach headquarters with an operator certificate.
type hqFlags struct {
	hubs          []string
	cert, key, ca string
	timeout       time.Duration
	unit, since   string
	until, kind   string
	decision, cat string
	entry, order  string
	cursor        string
	limit         int
	all, flagged  bool
	count         int
}

func (f *hqFlags) client() (*hub.Client, error) {
	if len(f.hubs) == 0 {
		return nil, cli.Exit(2, errors.New("give --hub https://hq.example:8443 (repeat it for several replicas)"))
	}
	tlsCfg, err := pki.ClientConfig(f.cert, f.key, f.ca)
	if err != nil {
		return nil, cli.Exit(2, fmt.Errorf("operator certificate: %w", err))
	}
	c, err := hub.NewClient(f.hubs, tlsCfg)
	if err != nil {
		return nil, cli.Exit(2, err)
	}
	return c, nil
}

// clientAndRange is client plus the parsed --since and --until.
func (f *hqFlags) clientAndRange() (*hub.Client, time.Time, time.Time, error) {
	since, until, err := hub.ParseRange(f.since, f.until, time.Now())
	if err != nil {
		return nil, since, until, cli.Exit(2, err)
	}
	cl, err := f.client()
	return cl, since, until, err
}

func newHQCmd() *cobra.Command {
	f := &hqFlags{}
	c := &cobra.Command{
		Use:   "hq",
		Short: "Headquarters: query results, follow the live hit feed, review units (operator certificate)",
		Long: `Talks to the hub's API over mutual TLS with an operator certificate
(checkpointctl keys tls operator NAME). Several --hub URLs are tried in turn.
Tables show metadata only; --json prints whole records, payload included.`,
	}
	pf := c.PersistentFlags()
	pf.StringSliceVar(&f.hubs, "hub", nil, "hub URL (repeatable: replicas tried in turn)")
	pf.StringVar(&f.cert, "cert", "operator.pem", "operator certificate")
	pf.StringVar(&f.key, "key-file", "operator.key", "operator private key")
	pf.StringVar(&f.ca, "ca", "ca.pem", "fleet CA (verifies the hub)")
	pf.DurationVar(&f.timeout, "timeout", 30*time.Second, "per request (not the feed)")

	results := &cobra.Command{
		Use:   "results",
		Short: "Results by unit, time range, decision, category or watchlist entry, page by page",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, since, until, err := f.clientAndRange()
			if err != nil {
				return err
			}
			defer cl.Close()
			q := hub.Query{Unit: f.unit, Since: since, Until: until, Kind: f.kind, Decision: strings.ToUpper(f.decision),
				Category: f.cat, Entry: f.entry, Order: f.order, Limit: f.limit, Cursor: f.cursor}
			fetch := func(ctx context.Context, q hub.Query) (hub.Page, error) {
				ctx, cancel := context.WithTimeout(ctx, f.timeout)
				defer cancel()
				return cl.Results(ctx, q)
			}
			err = hub.PrintPages(cmd.Context(), cmd.OutOrStdout(), q, f.all, jsonOutput(cmd), fetch)
			if errors.Is(err, hub.ErrBadQuery) {
				return cli.Exit(2, err)
			}
			return err
		},
	}
	rf := results.Flags()
	rf.StringVar(&f.unit, "unit", "", "one unit")
	rf.StringVar(&f.since, "since", "", "from (RFC 3339, or 24h, 7d before now)")
	rf.StringVar(&f.until, "until", "", "before (RFC 3339, or a duration before now)")
	rf.StringVar(&f.kind, "kind", "", "result or officer_decision")
	rf.StringVar(&f.decision, "decision", "", "CLEAR, REFER or HIT")
	rf.StringVar(&f.cat, "category", "", "hit category")
	rf.StringVar(&f.entry, "entry", "", "watchlist entry, kind:ref_id")
	rf.StringVar(&f.order, "order", "", "arrival (one unit) or time")
	rf.StringVar(&f.cursor, "cursor", "", "continue after a previous page")
	rf.IntVar(&f.limit, "limit", 100, "results per page")
	rf.BoolVar(&f.all, "all", false, "every page")

	entries := &cobra.Command{
		Use:   "entries",
		Short: "Hits per watchlist entry: where has this person or document been seen?",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, since, until, err := f.clientAndRange()
			if err != nil {
				return err
			}
			defer cl.Close()
			ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
			defer cancel()
			sums, err := cl.EntryHits(ctx, hub.EntryQuery{Entry: f.entry, Since: since, Until: until, Limit: f.limit})
			if err != nil {
				return err
			}
			return hub.PrintEntries(cmd.OutOrStdout(), sums, jsonOutput(cmd))
		},
	}
	ef := entries.Flags()
	ef.StringVar(&f.entry, "entry", "", "one watchlist entry, kind:ref_id")
	ef.StringVar(&f.since, "since", "", "from (RFC 3339, or 24h, 7d before now)")
	ef.StringVar(&f.until, "until", "", "before")
	ef.IntVar(&f.limit, "limit", 100, "entries listed (most hits first)")

	units := &cobra.Command{
		Use:   "units",
		Short: "Units, their last contact and audit anchors; exit 1 with --flagged when any is flagged",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := f.client()
			if err != nil {
				return err
			}
			defer cl.Close()
			ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
			defer cancel()
			us, err := cl.Units(ctx)
			if err != nil {
				return err
			}
			flagged := 0
			var shown []hub.UnitInfo
			for _, u := range us {
				if u.Audit.Flag != "" {
					flagged++
				}
				if !f.flagged || u.Audit.Flag != "" {
					shown = append(shown, u)
				}
			}
			if err := hub.PrintUnits(cmd.OutOrStdout(), shown, jsonOutput(cmd)); err != nil {
				return err
			}
			if f.flagged && flagged > 0 {
				return cli.Exit(1, fmt.Errorf("%d unit(s) flagged: their audit log does not extend the head headquarters anchored", flagged))
			}
			return nil
		},
	}
	units.Flags().BoolVar(&f.flagged, "flagged", false, "only units whose audit anchoring failed")

	feed := &cobra.Command{
		Use:   "feed",
		Short: "Follow the live hit feed (every HIT and officer decision, from any replica)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := f.client()
			if err != nil {
				return err
			}
			defer cl.Close()
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			seen := 0
			out := cmd.OutOrStdout()
			for ctx.Err() == nil {
				err := cl.Stream(ctx, func(e hub.FeedEvent) {
					if jsonOutput(cmd) {
						cli.WriteJSONLine(out, e)
					} else {
						what := e.Decision
						if e.Kind == "officer_decision" {
							what = "officer " + e.Verdict + " " + e.TxID
						}
						fmt.Fprintf(out, "%s  %-16s %-8s %s  %s\n", e.CreatedAt.UTC().Format(time.RFC3339), e.Unit, what,
							strings.Join(e.Categories, ","), strings.Join(e.Entries, ","))
					}
					seen++
					if f.count > 0 && seen >= f.count {
						cancel()
					}
				})
				if ctx.Err() != nil {
					break
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "feed interrupted (%v); reconnecting\n", err)
				select {
				case <-ctx.Done():
				case <-time.After(2 * time.Second):
				}
			}
			return nil
		},
	}
	feed.Flags().IntVar(&f.count, "count", 0, "exit after this many events (0: follow until interrupted)")

	reset := &cobra.Command{
		Use:   "audit-reset UNIT",
		Short: "After investigating a flagged unit: clear its flag; its next audit head becomes the anchor",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := f.client()
			if err != nil {
				return err
			}
			defer cl.Close()
			ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
			defer cancel()
			if err := cl.ResetAudit(ctx, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "unit %s: audit flag cleared; its next signed head will be adopted as the anchor\n", args[0])
			return nil
		},
	}
	c.AddCommand(results, entries, units, feed, reset)
	return c
}
