package unit

import (
	"time"

	"github.com/checkpoint-edge/checkpoint/paxdata"
	"github.com/checkpoint-edge/checkpoint/sync/bundle"
	"github.com/checkpoint-edge/checkpoint/sync/channel"
)

// paxState is the unit's pre-arrival screening: the pre-arrival alerts of
// the port channels it pulls.
type paxState struct {
	arrivals *paxdata.Arrivals
}

func init() {
	channelHooks = append(channelHooks, func(u *Unit, reg *channel.Registry) error {
		u.pax.arrivals = paxdata.NewArrivals(func() time.Time { return u.now() })
		return reg.Register(bundle.KindPrearrival, u.pax.arrivals)
	})
}

// ExpectedArrivals lists the pre-screened flights arriving from since,
// soonest first (the officer's "expected arrivals" panel).
func (u *Unit) ExpectedArrivals(since time.Time, limit int) []paxdata.ExpectedFlight {
	if u.pax.arrivals == nil {
		return nil
	}
	return u.pax.arrivals.Expected(since, limit)
}
