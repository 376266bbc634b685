package backofftest

import (
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/internal/backoff"
)

var _ backoff.Clock = (*Clock)(nil)

func TestClock(t *testing.T) {
	start := time.Unix(1_800_000_000, 0)
	c := New(start)
	for _, d := range []time.Duration{time.Second, 3 * time.Second} {
		select {
		case at := <-c.After(d):
			if !at.Equal(c.Now()) {
				t.Fatalf("fired at %v, clock at %v", at, c.Now())
			}
		default:
			t.Fatalf("After(%v) did not fire at once", d)
		}
	}
	if got := c.Now().Sub(start); got != 4*time.Second {
		t.Fatalf("clock advanced %v, want 4s", got)
	}
	w := c.Waits()
	if len(w) != 2 || w[0] != time.Second || w[1] != 3*time.Second {
		t.Fatalf("waits %v", w)
	}
	w[0] = 0
	if c.Waits()[0] != time.Second {
		t.Fatal("Waits returned the clock's own slice")
	}
}
