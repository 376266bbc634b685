package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/checkpoint-edge/checkpoint/hub"
	"github.com/checkpoint-edge/checkpoint/internal/cli"
)

// queryFlags are the analyst commands' filters (results, entries, units).
type queryFlags struct {
	unit, since, until, kind, decision, category, entry, order, cursor string
	limit                                                              int
	all, json                                                          bool
}

func (q *queryFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&q.unit, "unit", "", "results: one unit")
	fs.StringVar(&q.since, "since", "", "results, entries: from this time (RFC 3339, or 24h, 7d before now)")
	fs.StringVar(&q.until, "until", "", "results, entries: before this time")
	fs.StringVar(&q.kind, "kind", "", "results: result or officer_decision")
	fs.StringVar(&q.decision, "decision", "", "results: CLEAR, REFER or HIT")
	fs.StringVar(&q.category, "category", "", "results: a hit category (e.g. foreign_terrorist_fighter)")
	fs.StringVar(&q.entry, "entry", "", "results, entries: a watchlist entry (kind:ref_id, e.g. person:P-17)")
	fs.StringVar(&q.order, "order", "", "results: arrival (one unit) or time")
	fs.StringVar(&q.cursor, "cursor", "", "results: continue after a previous page")
	fs.IntVar(&q.limit, "limit", 100, "results per page, entries listed")
	fs.BoolVar(&q.all, "all", false, "results: every page")
	fs.BoolVar(&q.json, "json", false, "JSON lines (whole records, payload included) instead of a table of metadata")
}

// query runs results, entries or units straight against the store (the
// database machine; analysts elsewhere use checkpointctl hq over HTTPS).
func query(ctx context.Context, cmd string, c config, out io.Writer, log *slog.Logger) error {
	st, err := openStore(ctx, c, log, false)
	if err != nil {
		return err
	}
	defer st.Close()
	f := c.query
	since, until, err := hub.ParseRange(f.since, f.until, time.Now())
	if err != nil {
		return cli.Exit(2, err)
	}
	switch cmd {
	case "units":
		units, err := st.Units(ctx)
		if err != nil {
			return err
		}
		return hub.PrintUnits(out, units, f.json)
	case "entries":
		sums, err := st.EntryHits(ctx, hub.EntryQuery{Entry: f.entry, Since: since, Until: until, Limit: f.limit})
		if err != nil {
			return err
		}
		return hub.PrintEntries(out, sums, f.json)
	}
	q := hub.Query{Unit: f.unit, Since: since, Until: until, Kind: f.kind, Decision: strings.ToUpper(f.decision),
		Category: f.category, Entry: f.entry, Order: f.order, Limit: f.limit, Cursor: f.cursor}
	err = hub.PrintPages(ctx, out, q, f.all, f.json, st.Results)
	if errors.Is(err, hub.ErrBadQuery) {
		return cli.Exit(2, err)
	}
	return err
}
