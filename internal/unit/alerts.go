package unit

import (
	"strings"

	"github.com/checkpoint-edge/checkpoint/alerts"
	"github.com/checkpoint-edge/checkpoint/lane"
	"github.com/checkpoint-edge/checkpoint/sync/channel"
)

// sharedAlerts are the officer-confirmed hits of other posts that
// headquarters shares on the "alerts" channel (pulled like any channel:
// channels.pull: [{kind: alerts, channel: national}]).
type sharedAlerts struct {
	book *alerts.Book
}

func init() {
	channelHooks = append(channelHooks, func(u *Unit, reg *channel.Registry) error {
		u.shared.book = alerts.NewBook(u.now)
		return reg.Register(alerts.Kind, u.shared.book)
	})
}

// sharedAlert is what the lane shows with a hit on watchlist entry
// kind:refID when another post confirmed a hit on it ("" if none).
func sharedAlert(b *alerts.Book, kind, refID string) (string, []lane.Sighting) {
	if b == nil || refID == "" {
		return "", nil
	}
	as := b.Lookup(kind + ":" + refID)
	if len(as) == 0 {
		return "", nil
	}
	lines := make([]string, 0, len(as))
	seen := make([]lane.Sighting, 0, len(as))
	for i := range as {
		lines = append(lines, as[i].Summary())
		seen = append(seen, lane.Sighting{Post: as[i].Post, Site: as[i].Site, SeenAt: as[i].SeenAt, Action: as[i].Action, Note: as[i].Note})
	}
	return strings.Join(lines, "; "), seen
}
