package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
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
	now := time.Now()
	since, err1 := hub.ParseSince(f.since, now)
	until, err2 := hub.ParseSince(f.until, now)
	if err := errors.Join(err1, err2); err != nil {
		return cli.Exit(2, err)
	}
	switch cmd {
	case "units":
		units, err := st.Units(ctx)
		if err != nil {
			return err
		}
		return PrintUnits(out, units, f.json)
	case "entries":
		sums, err := st.EntryHits(ctx, hub.EntryQuery{Entry: f.entry, Since: since, Until: until, Limit: f.limit})
		if err != nil {
			return err
		}
		return PrintEntries(out, sums, f.json)
	}
	q := hub.Query{Unit: f.unit, Since: since, Until: until, Kind: f.kind, Decision: strings.ToUpper(f.decision),
		Category: f.category, Entry: f.entry, Order: f.order, Limit: f.limit, Cursor: f.cursor}
	for {
		page, err := st.Results(ctx, q)
		if errors.Is(err, hub.ErrBadQuery) {
			return cli.Exit(2, err)
		}
		if err != nil {
			return err
		}
		if err := PrintResults(out, page.Results, f.json); err != nil {
			return err
		}
		if page.Next == "" {
			return nil
		}
		if !f.all {
			if !f.json {
				fmt.Fprintf(out, "more: --cursor %s\n", page.Next)
			}
			return nil
		}
		q.Cursor = page.Next
	}
}

// PrintResults writes records as JSON lines, or a table of their metadata
// (never the payload: names and numbers stay off terminals unless asked).
func PrintResults(w io.Writer, rs []hub.Stored, asJSON bool) error {
	for _, r := range rs {
		if asJSON {
			if err := cli.WriteJSONLine(w, r); err != nil {
				return err
			}
			continue
		}
		e := hub.NewFeedEvent(r)
		what := e.Decision
		if r.Kind == "officer_decision" {
			what = "verdict:" + e.Verdict
		}
		if _, err := fmt.Fprintf(w, "%s  %-16s %8d  %-16s %-16s %s  %s\n", r.CreatedAt.UTC().Format(time.RFC3339), r.Unit, r.UnitSeq,
			r.Kind, what, strings.Join(e.Categories, ","), strings.Join(e.Entries, ",")); err != nil {
			return err
		}
	}
	return nil
}

// PrintEntries writes hits per watchlist entry.
func PrintEntries(w io.Writer, sums []hub.EntrySummary, asJSON bool) error {
	for _, s := range sums {
		if asJSON {
			if err := cli.WriteJSONLine(w, s); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintf(w, "%-32s %6d hits  first %s  last %s  at %s\n", s.Entry, s.Hits,
			s.FirstSeen.UTC().Format(time.RFC3339), s.LastSeen.UTC().Format(time.RFC3339), strings.Join(s.Units, ","))
	}
	return nil
}

// PrintUnits writes the units and their audit anchors.
func PrintUnits(w io.Writer, units []hub.UnitInfo, asJSON bool) error {
	for _, u := range units {
		if asJSON {
			if err := cli.WriteJSONLine(w, u); err != nil {
				return err
			}
			continue
		}
		flag := "ok"
		if u.Audit.Flag != "" {
			flag = "FLAGGED " + u.Audit.Flag + " (" + u.Audit.Detail + ")"
		}
		fmt.Fprintf(w, "%-16s last contact %s  %d records  audit anchored at %d: %s\n", u.Unit,
			u.LastContact.UTC().Format(time.RFC3339), u.Records, u.Audit.Head.Seq, flag)
	}
	return nil
}
