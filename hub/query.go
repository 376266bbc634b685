package hub

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// cursor is the position after the last result of a page: unit_seq in
// arrival order; (created_at, unit, unit_seq) in time order.
type cursor struct {
	set  bool
	seq  uint64
	t    time.Time
	unit string
}

// Cursors are opaque to clients: "a.<unit_seq>" or
// "t.<unix nanoseconds>.<unit_seq>.<unit>".
func parseCursor(q Query) (cursor, error) {
	var c cursor
	if q.Cursor == "" {
		return c, nil
	}
	bad := fmt.Errorf("%w: bad cursor", ErrBadQuery)
	parts := strings.SplitN(q.Cursor, ".", 4)
	switch {
	case parts[0] == "a" && len(parts) == 2 && q.Order == OrderArrival:
		n, err := strconv.ParseUint(parts[1], 10, 64)
		if err != nil {
			return c, bad
		}
		c.seq = n
	case parts[0] == "t" && len(parts) == 4 && q.Order == OrderTime:
		ns, err1 := strconv.ParseInt(parts[1], 10, 64)
		n, err2 := strconv.ParseUint(parts[2], 10, 64)
		if err1 != nil || err2 != nil || parts[3] == "" {
			return c, bad
		}
		c.t, c.seq, c.unit = time.Unix(0, ns).UTC(), n, parts[3]
	default:
		return c, bad
	}
	c.set = true
	return c, nil
}

func nextCursor(order string, last Stored) string {
	if order == OrderArrival {
		return "a." + strconv.FormatUint(last.UnitSeq, 10)
	}
	return fmt.Sprintf("t.%d.%d.%s", qtime(last.CreatedAt).UnixNano(), last.UnitSeq, last.Unit)
}

// precedes reports whether the cursor is before (t, unit, seq) in time
// order, i.e. that row belongs to a later page. An unset cursor precedes
// everything.
func (c cursor) precedes(t time.Time, unit string, seq uint64) bool {
	if !c.set {
		return true
	}
	t = qtime(t)
	if !c.t.Equal(t) {
		return c.t.Before(t)
	}
	if c.unit != unit {
		return c.unit < unit
	}
	return c.seq < seq
}

// qtime is the precision of times in queries: PostgreSQL keeps
// microseconds, so both backends compare and page at microseconds.
func qtime(t time.Time) time.Time { return t.Truncate(time.Microsecond).UTC() }

// ParseSince reads a time for CLIs: RFC 3339, or a duration before now
// ("24h", "90m", "7d").
func ParseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		// Bounded so that the duration cannot overflow into the future.
		n, err := strconv.Atoi(d)
		if err == nil && n >= 0 && n <= 36500 {
			return now.Add(-time.Duration(n) * 24 * time.Hour), nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return time.Time{}, fmt.Errorf("%q: want RFC 3339 or a duration such as 24h or 7d", s)
	}
	return now.Add(-d), nil
}
