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
