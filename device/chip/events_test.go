package chip_test

import (
	"context"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/device/chip"
	"github.com/checkpoint-edge/checkpoint/device/chip/pcsc"
)

// cycleLatencies puts a card on the reader and takes it off n times. For
// each insertion and removal it returns the time from pcscd's knowing of
// it (an independent client waiting on pcscd, notified at once) to the
// reader's event: the latency the reader adds. pcscd's own detection (it
// polls the vpcd driver every 400 ms) comes before both and is not the
// reader's. Events must come complete and in order.
func cycleLatencies(t testing.TB, d *daemon, r *chip.PCSC, n int) []time.Duration {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	obs, err := pcsc.Dial(ctx, d.Socket)
	if err != nil {
		t.Fatal(err)
	}
	flips := make(chan time.Time, 2*n+4)
	go func() {
		defer obs.Close()
		known, err := obs.Readers(ctx)
		if err != nil {
			return
		}
		for ctx.Err() == nil {
			next, _, err := obs.WaitChange(ctx, known, time.Minute)
			if err != nil {
				return
			}
			at := time.Now()
			if len(next) > 0 && len(known) > 0 && next[0].Present() != known[0].Present() {
				flips <- at
			}
			known = next
		}
	}()
	time.Sleep(100 * time.Millisecond) // the observer registered
	next := func(kind string) time.Duration {
		timeout := time.After(15 * time.Second)
		for {
			select {
			case ev, ok := <-r.Events():
				if !ok {
					t.Fatal("events closed")
				}
				if ev.Kind == chip.ReaderAdded {
					continue
				}
				if ev.Kind != kind {
					t.Fatalf("event %s, want %s", ev.Kind, kind)
				}
				seen := time.Now()
				select {
				case at := <-flips:
					return seen.Sub(at)
				case <-timeout:
					t.Fatalf("the observer missed the %s", kind)
				}
			case <-timeout:
				t.Fatalf("no %s event", kind)
			}
		}
	}
	var out []time.Duration
	for i := 0; i < n; i++ {
		card := insert(t, d.Port, echo)
		out = append(out, next(chip.CardInserted))
		// Spread the next change over the reader's poll cycle.
		time.Sleep(time.Duration(37*i%100) * time.Millisecond)
		card.remove()
		out = append(out, next(chip.CardRemoved))
		time.Sleep(time.Duration(53*i%100) * time.Millisecond)
	}
	return out
}

func pct(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

// TestCardEventsWithoutPolling: with pcscd's wait-for-change call the
// reader sees every insertion and removal, in order, while reading the
// readers' state only when pcscd signals a change (or once per MaxWait);
// the old 100 ms polling read it ten times a second. The event latencies
// of both are logged (the figures of BenchmarkCardEventLatency).
func TestCardEventsWithoutPolling(t *testing.T) {
	n := 3
	if v, _ := strconv.Atoi(os.Getenv("CHECKPOINT_EVENT_CYCLES")); v > 0 {
		n = v
	}
	for _, mode := range []struct {
		name string
		cfg  chip.Config
	}{
		{"poll every 100ms", chip.Config{PollOnly: true, Poll: 100 * time.Millisecond}},
		{"wait for changes", chip.Config{MaxWait: 5 * time.Second}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			d := startDaemon(t)
			cfg := mode.cfg
			cfg.Socket, cfg.Reader = d.Socket, d.Reader
			r := runReader(t, cfg)
			waitFor(t, "reader", func() bool { return r.State().Healthy() })
			lat := cycleLatencies(t, d, r, n)
			st := r.State()
			if st.Insertions != uint64(n) || st.Removals != uint64(n) || st.CardPresent {
				t.Fatalf("counters %+v after %d cycles", st, n)
			}
			// Idle for a second: what does the reader ask pcscd?
			before := r.State().StateReads
			time.Sleep(time.Second)
			idle := r.State().StateReads - before
			t.Logf("%s: latency after pcscd p50 %v, max %v over %d events; %d state reads in 1 s idle",
				mode.name, pct(lat, 0.5).Round(100*time.Microsecond), pct(lat, 1).Round(100*time.Microsecond), len(lat), idle)
			if mode.cfg.PollOnly {
				if idle < 3 {
					t.Errorf("polling read the state %d times in a second", idle)
				}
			} else {
				if idle > 1 {
					t.Errorf("waiting read the state %d times in an idle second, want at most 1", idle)
				}
				// Notified with the observer, not at the next poll: well
				// under a 100 ms poll period even on a busy machine.
				if p := pct(lat, 0.5); p > 50*time.Millisecond {
					t.Errorf("waiting reader p50 latency %v after pcscd", p)
				}
			}
		})
	}
}

// BenchmarkCardEventLatency measures the latency the reader adds to a
// card's arrival or departure (from pcscd knowing it to the reader's
// event), polling every 100 ms (before) and waiting on pcscd (after),
// side by side.
func BenchmarkCardEventLatency(b *testing.B) {
	for _, mode := range []struct {
		name string
		cfg  chip.Config
	}{
		{"poll-100ms", chip.Config{PollOnly: true, Poll: 100 * time.Millisecond}},
		{"wait", chip.Config{}},
	} {
		b.Run(mode.name, func(b *testing.B) {
			d := startDaemon(b)
			cfg := mode.cfg
			cfg.Socket, cfg.Reader = d.Socket, d.Reader
			r := runReader(b, cfg)
			for !r.State().Healthy() {
				time.Sleep(10 * time.Millisecond)
			}
			b.ResetTimer()
			lat := cycleLatencies(b, d, r, b.N)
			b.StopTimer()
			b.ReportMetric(float64(pct(lat, 0.5).Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(pct(lat, 0.95).Microseconds())/1000, "p95-ms")
			b.ReportMetric(float64(pct(lat, 1).Microseconds())/1000, "max-ms")
		})
	}
}
