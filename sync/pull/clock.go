package pull

import (
	"context"
	"time"
)

// Clock is the time source for backoff, polling and rate limiting, so
// tests can replace it.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

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

// Delay is the wait before retry number attempt (0-based).
func (b Backoff) Delay(attempt int) time.Duration {
	d := b.Min
	for i := 0; i < attempt && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	// Half fixed, half random: retries from a fleet spread out, yet the
	// delay still grows.
	return d/2 + time.Duration(b.rand()*float64(d/2))
}

func (b Backoff) rand() float64 {
	if b.Rand != nil {
		return b.Rand()
	}
	return randFloat()
}
