// Package backoff is the retry policy shared by the device and sync packages:
// capped exponential backoff, and a clock that tests replace to drive it
// without sleeping.
package backoff

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Policy is exponential backoff with a cap: the n-th consecutive failed
// attempt waits min(Initial·Factor^(n-1), Max). Zero fields take the
// defaults given to Or.
type Policy struct {
	Initial time.Duration `yaml:"initial" json:"initial"`
	Max     time.Duration `yaml:"max" json:"max"`
	Factor  float64       `yaml:"factor" json:"factor"`
}

// Or fills p's zero fields from def.
func (p Policy) Or(def Policy) Policy {
	if p.Initial == 0 {
		p.Initial = def.Initial
	}
	if p.Max == 0 {
		p.Max = def.Max
	}
	if p.Factor == 0 {
		p.Factor = def.Factor
	}
	return p
}

// Validate rejects negative durations, factors below 1 and an initial
// delay above the cap.
func (p Policy) Validate() error {
	switch {
	case p.Initial < 0 || p.Max < 0:
		return fmt.Errorf("backoff durations must not be negative")
	case p.Factor != 0 && (p.Factor < 1 || math.IsNaN(p.Factor) || math.IsInf(p.Factor, 0)):
		return fmt.Errorf("backoff factor %v must be >= 1", p.Factor)
	case p.Max != 0 && p.Initial > p.Max:
		return fmt.Errorf("backoff initial %v exceeds max %v", p.Initial, p.Max)
	}
	return nil
}

// Delay is the wait before the attempt following the n-th consecutive
// failure (n >= 1). p must be complete (see Or).
func (p Policy) Delay(n int) time.Duration {
	d := float64(p.Initial)
	for i := 1; i < n && d < float64(p.Max); i++ {
		d *= p.Factor
	}
	if d > float64(p.Max) {
		return p.Max
	}
	return time.Duration(d)
}

// Jittered is Delay(n) with "equal jitter": half of it fixed, half drawn
// by rnd (a number in [0,1); nil = math/rand/v2). A fleet that lost its
// link together then retries spread out, while the wait still grows.
func (p Policy) Jittered(n int, rnd func() float64) time.Duration {
	if rnd == nil {
		rnd = rand.Float64
	}
	d := p.Delay(n)
	return d/2 + time.Duration(rnd()*float64(d-d/2))
}

// Clock is a time source, replaceable in tests.
type Clock interface {
	Now() time.Time
	// After behaves like time.After.
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// After returns time.After(d).
func (SystemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
