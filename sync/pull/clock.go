package pull

import (
	"context"
	"time"

	"github.com/checkpoint-edge/checkpoint/internal/backoff"
)

// Clock is the time source for backoff, polling and rate limiting, so
// tests can replace it.
type Clock = backoff.Clock

// sleep waits d on clock c, or until ctx ends.
func sleep(ctx context.Context, c Clock, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-c.After(d):
		return nil
	}
}

// Backoff computes exponential delays with full jitter.
type Backoff struct {
	Min, Max time.Duration
	// Rand returns a number in [0,1); nil = math/rand/v2.
	Rand func() float64
}

// Delay is the wait before retry number attempt (0-based): doubling from
// Min up to Max, half of it random.
func (b Backoff) Delay(attempt int) time.Duration {
	return backoff.Policy{Initial: b.Min, Max: b.Max, Factor: 2}.Jittered(attempt+1, b.Rand)
}

func (b Backoff) rand() float64 {
	if b.Rand != nil {
		return b.Rand()
	}
	return randFloat()
}
