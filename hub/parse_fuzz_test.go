package hub

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzParseQuery: any query string of GET /v1/results is refused cleanly
// (ErrBadQuery) or yields a query that normalizes, and a cursor either
// parses for its order or is refused.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{
		"unit=desk-1&after=3&limit=5", "since=2030-01-01T00:00:00Z&until=2030-01-02T00:00:00Z&decision=HIT&category=x&entry=person:P1",
		"cursor=t.1700000000000000000.5.desk-1", "cursor=a.7&unit=u", "order=arrival", "limit=99999999999999999999", "since=24h", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		r := &http.Request{URL: &url.URL{RawQuery: raw}}
		q, err := parseQuery(r)
		if err != nil {
			return
		}
		if err := q.normalize(); err != nil {
			return
		}
		if q.Limit < 1 || q.Limit > MaxPage || (q.Order != OrderArrival && q.Order != OrderTime) {
			t.Fatalf("normalized query out of range: %+v", q)
		}
		c, err := parseCursor(q)
		if err == nil && c.set && q.Order == OrderTime && c.unit == "" {
			t.Fatalf("time cursor without a unit: %+v", c)
		}
	})
}

// FuzzParseSince: the CLIs' time argument never panics and never gives a
// time after now for a duration.
func FuzzParseSince(f *testing.F) {
	for _, s := range []string{"24h", "7d", "90m", "2030-01-01T00:00:00Z", "-1h", "1e9h", "d", "99999999999d"} {
		f.Add(s)
	}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseSince(s, now)
		if err != nil || s == "" {
			return
		}
		if _, perr := time.Parse(time.RFC3339Nano, s); perr != nil && got.After(now) {
			t.Fatalf("%q: %v is after now", s, got)
		}
	})
}

// FuzzReadSSE: the operator client's event-stream reader never panics and
// hands over only events that decode.
func FuzzReadSSE(f *testing.F) {
	f.Add(": checkpoint hit feed\nretry: 2000\n\nid: u.1\nevent: hit\ndata: {\"unit\":\"u\",\"unit_seq\":1}\n\n")
	f.Add("event: lagged\ndata: {}\n\n")
	f.Add("event: officer_decision\ndata: {\"unit\":\ndata: \"u\"}\n\n")
	f.Fuzz(func(t *testing.T, s string) {
		readSSE(strings.NewReader(s), func(e FeedEvent) {
			if e.UnitSeq > 0 && e.Unit == "" && strings.Count(s, "unit_seq") == 0 {
				t.Fatalf("event from nowhere: %+v", e)
			}
		})
	})
}
