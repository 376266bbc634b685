// Package backofftest is the test double for backoff.Clock: a clock whose
// waits fire at once, so retry loops run without sleeping and tests can
// check the waits that were asked for.
package backofftest

import (
	"sync"
	"time"
)

// Clock fires every After at once, advancing its own time by the wait, and
// records each wait. It implements backoff.Clock.
type Clock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
}

// New returns a Clock that starts at start.
func New(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's time: start plus every wait so far.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After records d, advances the clock by it and fires at once.
func (c *Clock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, d)
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

// Waits returns a copy of the waits asked for, in order.
func (c *Clock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}
