package hub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/checkpoint-edge/checkpoint/internal/cli"
)

// The printers below are shared by checkpoint-hub (on the database
// machine) and checkpointctl hq (over the API).

// PrintResults writes records as JSON lines, or a table of their metadata
// (never the payload: names and numbers stay off terminals unless asked).
func PrintResults(w io.Writer, rs []Stored, asJSON bool) error {
	for _, r := range rs {
		if asJSON {
			if err := cli.WriteJSONLine(w, r); err != nil {
				return err
			}
			continue
		}
		e := NewFeedEvent(r)
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
func PrintEntries(w io.Writer, sums []EntrySummary, asJSON bool) error {
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
func PrintUnits(w io.Writer, units []UnitInfo, asJSON bool) error {
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

// ParseRange reads a CLI's --since and --until (see ParseSince).
func ParseRange(since, until string, now time.Time) (time.Time, time.Time, error) {
	s, err1 := ParseSince(since, now)
	u, err2 := ParseSince(until, now)
	return s, u, errors.Join(err1, err2)
}

// PrintPages runs q through fetch (a Store's or a Client's Results) and
// prints the results: every page with all, else one page and the cursor
// of the next. A bad query is ErrBadQuery.
func PrintPages(ctx context.Context, w io.Writer, q Query, all, asJSON bool, fetch func(context.Context, Query) (Page, error)) error {
	for {
		page, err := fetch(ctx, q)
		if err != nil {
			return err
		}
		if err := PrintResults(w, page.Results, asJSON); err != nil {
			return err
		}
		if page.Next == "" {
			return nil
		}
		if !all {
			if !asJSON {
				fmt.Fprintf(w, "more: --cursor %s\n", page.Next)
			}
			return nil
		}
		q.Cursor = page.Next
	}
}
