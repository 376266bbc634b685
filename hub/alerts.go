package hub

import "context"

// AlertPublisher turns officer-confirmed hits into short-lived alerts for
// the other posts, by policy per category, published as signed bundles.
type AlertPublisher struct{}

func (a *AlertPublisher) run(ctx context.Context, h *Hub) { <-ctx.Done() }
