package bundle

import (
	"time"

	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// Freshness is what status screens show about the installed version.
type Freshness struct {
	Sequence  uint64        `json:"sequence"`
	IssuedAt  time.Time     `json:"issued_at"`
	ExpiresAt time.Time     `json:"expires_at"`
	Age       time.Duration `json:"age_ns"`
	Stale     bool          `json:"stale"`
	// Reason says why the version is stale ("" when fresh).
	Reason string `json:"reason,omitempty"`
}

// CheckFreshness computes the watchlist age and whether it is STALE: none
// installed, past its expiry, or older than maxAge (0 = no age limit; the
// MIND practice is 24-48 h). A stale list still matches, but the officer
// and headquarters must see it: updates may be being withheld (freeze).
func CheckFreshness(m watchlist.Meta, now time.Time, maxAge time.Duration) Freshness {
	f := Freshness{Sequence: m.Sequence, IssuedAt: m.IssuedAt, ExpiresAt: m.ExpiresAt, Age: m.Age(now)}
	f.Stale = m.Stale(now, maxAge)
	switch {
	case m.Sequence == 0:
		f.Reason = "no watchlist installed"
	case !m.ExpiresAt.IsZero() && now.After(m.ExpiresAt):
		f.Reason = "watchlist expired"
	case f.Stale:
		f.Reason = "watchlist older than the maximum age"
	}
	return f
}
