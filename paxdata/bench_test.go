package paxdata_test

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/paxdata"
	"github.com/checkpoint-edge/checkpoint/paxdata/paxdatatest"
	"github.com/checkpoint-edge/checkpoint/watchlist"
	"github.com/checkpoint-edge/checkpoint/watchlist/synth"
)

// benchPersons is the synthetic person list's size: 50,000 by default,
// CHECKPOINT_SCALE=1000000 (or full) for the budget's 1 M persons.
func benchPersons() int64 {
	switch v := os.Getenv("CHECKPOINT_SCALE"); v {
	case "":
		if testing.Short() {
			return 10_000
		}
		return 50_000
	case "full":
		return 1_000_000
	default:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return 50_000
		}
		return min(n, 1_000_000)
	}
}

var bench struct {
	once  sync.Once
	store *watchlist.Store
	gen   *synth.Generator
	n     int64
	took  time.Duration
	err   error
	dir   string
}

func benchStore(b *testing.B) (*watchlist.Store, *synth.Generator) {
	bench.once.Do(func() {
		bench.n = benchPersons()
		bench.dir, bench.err = os.MkdirTemp(os.Getenv("CHECKPOINT_BENCH_DIR"), "paxdata-bench-*")
		if bench.err != nil {
			return
		}
		kek := filepath.Join(bench.dir, "kek")
		if bench.err = seal.GenerateKeyFile(kek); bench.err != nil {
			return
		}
		// Persons, plus 100,000 stolen documents.
		bench.gen = synth.New(synth.Config{Docs: 100_000, Persons: bench.n, Seed: 2})
		s, err := watchlist.Open(filepath.Join(bench.dir, "w.db"), seal.FileKey{Path: kek}, watchlist.Options{})
		if err != nil {
			bench.err = err
			return
		}
		t0 := time.Now()
		bench.err = s.ReplaceAll(context.Background(), watchlist.Meta{WatchlistID: "national", Sequence: 1, IssuedAt: time.Now()}, bench.gen)
		bench.took = time.Since(t0)
		bench.store = s
	})
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	return bench.store, bench.gen
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bench.store != nil {
		bench.store.Close()
	}
	if bench.dir != "" {
		os.RemoveAll(bench.dir)
	}
	os.Exit(code)
}

// benchFlight is a 400-passenger PAXLST with five listed travellers (two
// persons, one under another spelling, and two stolen documents).
func benchFlight(gen *synth.Generator, seed uint64, worst bool) []byte {
	pax := paxdatatest.Travellers(400, seed)
	if worst {
		pax = paxdatatest.TravellersFromList(400, seed)
	}
	r := rand.New(rand.NewPCG(seed, 9))
	for i, at := range []int{17, 99, 211} {
		p := gen.Person(int64(r.IntN(int(bench.n))))
		pax[at] = paxdatatest.FromPerson(&p, r)
		if i == 1 {
			pax[at].GivenNames = paxdatatest.Misspell(pax[at].GivenNames)
		}
	}
	for _, at := range []int{250, 333} {
		d := gen.Document(int64(r.IntN(100_000)))
		pax[at].DocumentNumber, pax[at].IssuingState = d.Number, d.IssuingState
	}
	arr := time.Now().Add(6 * time.Hour).Truncate(time.Minute)
	return paxdatatest.PAXLST(paxdatatest.Flight{Carrier: "XX", Number: strconv.Itoa(100 + int(seed%900)), Departure: "JFK", Arrival: "LHR",
		DepartureAt: arr.Add(-7 * time.Hour), ArrivalAt: arr}, pax, "B"+strconv.FormatUint(seed, 10))
}

// BenchmarkParseScreenFlight parses and screens one 400-passenger flight on
// one core (budget: < 1 s against 1 M persons): "mixed" passengers (one in
// five from the list's name cultures), and the worst case where every
// passenger is (see paxdatatest).
func BenchmarkParseScreenFlight(b *testing.B) {
	b.Run("mixed", func(b *testing.B) { benchParseScreen(b, false) })
	b.Run("all-namesakes", func(b *testing.B) { benchParseScreen(b, true) })
}

func benchParseScreen(b *testing.B, worst bool) {
	s, gen := benchStore(b)
	flights := make([][]byte, 16)
	for i := range flights {
		flights[i] = benchFlight(gen, uint64(i+1), worst)
	}
	sc := &paxdata.Screener{Watchlist: s, ScreenedBy: "HQ"}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var lat, cpu []time.Duration
	flagged, i := 0, 0
	for b.Loop() {
		t0, c0 := time.Now(), threadCPU()
		res, err := paxdata.Parse(flights[i%len(flights)], paxdata.ParseOptions{})
		if err != nil || len(res.Manifests) != 1 {
			b.Fatalf("parse: %v %q", err, res.ErrorStrings())
		}
		r, err := sc.Screen(context.Background(), res.Manifests[0])
		if err != nil {
			b.Fatal(err)
		}
		lat, cpu = append(lat, time.Since(t0)), append(cpu, threadCPU()-c0)
		flagged += len(r.Flagged)
		i++
	}
	b.ReportMetric(float64(bench.n), "persons")
	b.ReportMetric(float64(flagged)/float64(i), "flagged/flight")
	b.ReportMetric(bench.took.Seconds(), "import-s")
	percentiles(b, lat, "")
	percentiles(b, cpu, "cpu-")
}

// BenchmarkParseOnly is the parser's share.
func BenchmarkParseOnly(b *testing.B) {
	_, gen := benchStore(b)
	f := benchFlight(gen, 1, false)
	b.SetBytes(int64(len(f)))
	for b.Loop() {
		if _, err := paxdata.Parse(f, paxdata.ParseOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// threadCPU is the CPU time of the calling thread (locked): what the
// work cost, whatever else the machine runs.
func threadCPU() time.Duration {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts)
	return time.Duration(ts.Nano())
}

func percentiles(b *testing.B, lat []time.Duration, prefix string) {
	if len(lat) == 0 {
		return
	}
	s := append([]time.Duration(nil), lat...)
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	b.ReportMetric(float64(s[len(s)/2].Microseconds())/1000, prefix+"p50-ms")
	b.ReportMetric(float64(s[min(len(s)-1, len(s)*95/100)].Microseconds())/1000, prefix+"p95-ms")
}
