package backoff

import (
	"math"
	"testing"
	"time"
)

func TestPolicy(t *testing.T) {
	def := Policy{Initial: 100 * time.Millisecond, Max: time.Second, Factor: 2}
	p := Policy{}.Or(def)
	for n, want := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		if got := p.Delay(n + 1); got != want*time.Millisecond {
			t.Errorf("Delay(%d) = %v, want %v", n+1, got, want*time.Millisecond)
		}
	}
	if got := (Policy{Initial: time.Millisecond}).Or(def); got.Initial != time.Millisecond || got.Max != def.Max {
		t.Errorf("Or kept %v", got)
	}
	for _, bad := range []Policy{{Initial: -1}, {Factor: 0.5}, {Factor: math.NaN()}, {Initial: 2 * time.Second, Max: time.Second}} {
		if bad.Validate() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	if def.Validate() != nil {
		t.Error("default rejected")
	}
}

func TestJittered(t *testing.T) {
	p := Policy{Initial: 100 * time.Millisecond, Max: time.Second, Factor: 2}
	cases := []struct {
		n    int
		rnd  float64
		want time.Duration
	}{
		{1, 0, 50 * time.Millisecond},         // half fixed
		{1, 0.999999, 100 * time.Millisecond}, // never above Delay
		{3, 0.5, 300 * time.Millisecond},      // 400 ms: 200 fixed + 100
		{9, 0, 500 * time.Millisecond},        // capped at Max
	}
	for _, c := range cases {
		got := p.Jittered(c.n, func() float64 { return c.rnd })
		if d := got - c.want; d < -time.Microsecond || d > time.Microsecond {
			t.Errorf("Jittered(%d, %v) = %v, want %v", c.n, c.rnd, got, c.want)
		}
	}
	// With the real source the waits spread out but stay in [Delay/2, Delay].
	seen := map[time.Duration]bool{}
	for range 100 {
		d := p.Jittered(2, nil)
		if d < 100*time.Millisecond || d > 200*time.Millisecond {
			t.Fatalf("Jittered(2) = %v, outside [100ms, 200ms]", d)
		}
		seen[d] = true
	}
	if len(seen) < 50 {
		t.Fatalf("only %d distinct waits in 100: not jittered", len(seen))
	}
}
