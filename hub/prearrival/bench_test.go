package prearrival

import (
	"context"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/checkpoint-edge/checkpoint/paxdata/paxdatatest"
	"github.com/checkpoint-edge/checkpoint/watchlist"
	"github.com/checkpoint-edge/checkpoint/watchlist/synth"
)

// benchPersons is the listed persons' count: 20,000 by default,
// CHECKPOINT_SCALE=N (up to 1,000,000) for more.
func benchPersons() int64 {
	if n, err := strconv.ParseInt(os.Getenv("CHECKPOINT_SCALE"), 10, 64); err == nil && n > 0 {
		return min(n, 1_000_000)
	}
	if os.Getenv("CHECKPOINT_SCALE") == "full" {
		return 1_000_000
	}
	if testing.Short() {
		return 5_000
	}
	return 20_000
}

// BenchmarkHubFlights submits 400-passenger PAXLST flights to the hub's
// service (parse, store, screen with every core, publish the port's
// channel) and reports flights per hour (budget: >= 1,000).
func BenchmarkHubFlights(b *testing.B) {
	q := newHQ(b)
	n := benchPersons()
	gen := synth.New(synth.Config{Docs: 50_000, Persons: n, Seed: 4})
	var cs []watchlist.Change
	for c, err := gen.Next(); err == nil; c, err = gen.Next() {
		cs = append(cs, c)
	}
	q.publishWatchlist(b, cs)
	svc, err := Open(q.config())
	if err != nil {
		b.Fatal(err)
	}
	defer svc.Close()
	t0 := time.Now()
	if _, err := svc.SyncWatchlist(context.Background()); err != nil {
		b.Fatal(err)
	}
	install := time.Since(t0)
	r := rand.New(rand.NewPCG(1, 1))
	msgs := make([][]byte, 8)
	for i := range msgs {
		pax := paxdatatest.Travellers(400, uint64(i+1))
		for _, at := range []int{20, 120, 220} {
			p := gen.Person(r.Int64N(n))
			pax[at] = paxdatatest.FromPerson(&p, r)
		}
		arr := q.clock().Add(time.Duration(2+i) * time.Hour)
		msgs[i] = paxdatatest.PAXLST(paxdatatest.Flight{Carrier: "XX", Number: strconv.Itoa(100 + i), Departure: "JFK", Arrival: "LHR",
			DepartureAt: arr.Add(-7 * time.Hour), ArrivalAt: arr}, pax, "B"+strconv.Itoa(i))
	}
	i := 0
	start, cpu0 := time.Now(), processCPU()
	for b.Loop() {
		rc, err := svc.Submit(context.Background(), msgs[i%len(msgs)], "bench")
		if err != nil || !rc.Messages[0].Screened {
			b.Fatalf("%v %+v", err, rc)
		}
		i++
	}
	per := time.Since(start) / time.Duration(i)
	cpu := (processCPU() - cpu0) / time.Duration(i)
	b.ReportMetric(float64(time.Hour)/float64(per), "flights/hour")
	// What two free cores would do: the machine is shared, so wall time
	// here includes other processes' work.
	b.ReportMetric(2*float64(time.Hour)/float64(cpu), "flights/hour-2cores-cpu")
	b.ReportMetric(cpu.Seconds(), "cpu-s/flight")
	b.ReportMetric(float64(n), "persons")
	b.ReportMetric(install.Seconds(), "install-s")
}

// processCPU is the process's user + system CPU time.
func processCPU() time.Duration {
	var ru unix.Rusage
	unix.Getrusage(unix.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
