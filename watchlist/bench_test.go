package watchlist_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/watchlist"
	"github.com/checkpoint-edge/checkpoint/watchlist/match"
	"github.com/checkpoint-edge/checkpoint/watchlist/synth"
)

// Benchmarks run at CI scale by default (and with -short); at national
// scale with CHECKPOINT_SCALE=full (make bench-scale); CHECKPOINT_SCALE=N
// sets the document count directly (e.g. 10000000).
func scale(short, full int64) int64 {
	v := os.Getenv("CHECKPOINT_SCALE")
	switch {
	case v == "full":
		return full
	case v != "":
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
			return min(n, full)
		}
	}
	return short
}

// benchDir holds the benchmark stores; created by the first benchmark that
// builds one and removed when the test binary ends.
var (
	benchDirOnce sync.Once
	benchDir     string
)

func benchRoot(b *testing.B) string {
	benchDirOnce.Do(func() {
		dir, err := os.MkdirTemp(os.Getenv("CHECKPOINT_BENCH_DIR"), "watchlist-bench-*")
		if err != nil {
			b.Fatal(err)
		}
		benchDir = dir
	})
	return benchDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

// built is a store built once per process and shared by benchmarks.
type built struct {
	once sync.Once
	path string
	kp   seal.KeyProvider
	gen  *synth.Generator
	n    int64
	took time.Duration
	cpu  time.Duration // process CPU time of the import (all cores)
	// openTook and openRSS are the first Open's duration and the anonymous
	// memory it added (decrypted face index).
	openTook time.Duration
	openRSS  int64
	size     int64
	err      error
	storeMu  sync.Mutex
	store    *watchlist.Store
}

func (bs *built) build(b *testing.B, name string, cfg synth.Config) {
	bs.once.Do(func() {
		root := benchRoot(b)
		if keep := os.Getenv("CHECKPOINT_BENCH_KEEP"); keep != "" {
			// A kept store is reused by later runs of the same scale and
			// seed (a 1 M-person import takes minutes on a busy machine).
			root = keep
		}
		dir := filepath.Join(root, fmt.Sprintf("%s-%d-%d-%d-%d", name, cfg.Docs, cfg.Persons, cfg.Faces, cfg.Seed))
		os.MkdirAll(dir, 0o700)
		bs.path = filepath.Join(dir, "watchlist.db")
		kp := seal.FileKey{Path: filepath.Join(dir, "kek")}
		bs.kp = kp
		bs.gen = synth.New(cfg)
		bs.n = bs.gen.Total()
		if _, err := os.Stat(filepath.Join(dir, "complete")); err == nil {
			b.Logf("reusing the store in %s", dir)
			st, _ := os.Stat(bs.path)
			if st != nil {
				bs.size = st.Size()
			}
			return
		}
		os.Remove(bs.path)
		os.Remove(kp.Path)
		if bs.err = seal.GenerateKeyFile(kp.Path); bs.err != nil {
			return
		}
		var log *slog.Logger
		if os.Getenv("CHECKPOINT_BENCH_LOG") != "" {
			log = slog.New(slog.NewTextHandler(os.Stderr, nil))
		}
		s, err := watchlist.Open(bs.path, kp, watchlist.Options{Logger: log})
		if err != nil {
			bs.err = err
			return
		}
		t0, c0 := time.Now(), processCPU()
		bs.err = s.ReplaceAll(context.Background(), watchlist.Meta{WatchlistID: name, Sequence: 1, FaceModelID: cfg.FaceModelID, IssuedAt: time.Now()}, bs.gen)
		bs.took, bs.cpu = time.Since(t0), processCPU()-c0
		s.Close()
		st, _ := os.Stat(bs.path)
		if st != nil {
			bs.size = st.Size()
		}
		if bs.err == nil {
			os.WriteFile(filepath.Join(dir, "complete"), nil, 0o600)
		}
	})
	if bs.err != nil {
		b.Fatal(bs.err)
	}
}

func (bs *built) open(b *testing.B) *watchlist.Store {
	bs.storeMu.Lock()
	defer bs.storeMu.Unlock()
	if bs.store == nil {
		debug.FreeOSMemory() // heap freed by the import would hide the index
		before, t0 := rssBytes(), time.Now()
		s, err := watchlist.Open(bs.path, bs.kp, watchlist.Options{})
		if err != nil {
			b.Fatal(err)
		}
		bs.openTook = time.Since(t0)
		debug.FreeOSMemory()
		bs.openRSS = rssBytes() - before
		bs.store = s
	}
	return bs.store
}

// processCPU is the CPU time of the whole process (user + system).
func processCPU() time.Duration {
	var ru unix.Rusage
	unix.Getrusage(unix.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// threadCPU is the calling thread's CPU time: on a shared, loaded machine
// it shows what an operation costs when wall-clock latency is inflated by
// waiting for a core.
func threadCPU() time.Duration {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts)
	return time.Duration(ts.Nano())
}

func percentiles(b *testing.B, lat []time.Duration, unit string) { percentilesNamed(b, lat, unit, "") }

func percentilesNamed(b *testing.B, lat []time.Duration, unit, prefix string) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	div := float64(time.Microsecond)
	if unit == "ms" {
		div = float64(time.Millisecond)
	}
	b.ReportMetric(float64(lat[len(lat)/2])/div, prefix+"p50-"+unit)
	b.ReportMetric(float64(lat[len(lat)*99/100])/div, prefix+"p99-"+unit)
	b.ReportMetric(0, "ns/op") // latency percentiles say it better than the mean
}

var docStore built

func buildDocs(b *testing.B) {
	docStore.build(b, "docs", synth.Config{Docs: scale(100_000, 100_000_000), Seed: 1})
}

// BenchmarkDocumentImport reports the import of the document store (done
// once; run with -benchtime 1x).
func BenchmarkDocumentImport(b *testing.B) {
	buildDocs(b)
	for b.Loop() {
	}
	b.ReportMetric(float64(docStore.n), "records")
	b.ReportMetric(float64(docStore.n)/docStore.took.Seconds(), "records/s")
	b.ReportMetric(float64(docStore.n)/docStore.cpu.Seconds(), "records/cpu-s")
	b.ReportMetric(float64(docStore.size)/float64(docStore.n), "file-bytes/record")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkDocumentLookup measures LookupDocument over a sample of 100k
// queries, half listed numbers and half unlisted (each miss also tries the
// OCR variants of the number).
func BenchmarkDocumentLookup(b *testing.B) {
	buildDocs(b)
	s := docStore.open(b)
	r := rand.New(rand.NewPCG(9, 9))
	const sample = 100_000
	type q struct{ state, number, typ string }
	qs := make([]q, sample)
	for i := range qs {
		d := docStore.gen.Document(r.Int64N(docStore.n))
		if i%2 == 1 {
			d.Number = fmt.Sprintf("Q%08d", r.IntN(1e8)) // unlisted
		}
		qs[i] = q{d.IssuingState, d.Number, d.DocumentType}
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	lat := make([]time.Duration, 0, b.N)
	cpu := make([]time.Duration, 0, b.N)
	hits := 0
	i := 0
	for b.Loop() {
		x := qs[i%sample]
		t0, c0 := time.Now(), threadCPU()
		h, err := s.LookupDocument(x.state, x.number, x.typ)
		lat, cpu = append(lat, time.Since(t0)), append(cpu, threadCPU()-c0)
		if err != nil {
			b.Fatal(err)
		}
		if len(h) > 0 {
			hits++
		}
		i++
	}
	b.ReportMetric(float64(docStore.n), "records")
	b.ReportMetric(float64(hits)/float64(i), "hit-rate")
	percentiles(b, lat, "us")
	percentilesNamed(b, cpu, "us", "cpu-")
}

var personStore built

func buildPersons(b *testing.B) {
	personStore.build(b, "persons", synth.Config{Persons: scale(50_000, 1_000_000), Seed: 2})
}

func BenchmarkPersonImport(b *testing.B) {
	buildPersons(b)
	for b.Loop() {
	}
	b.ReportMetric(float64(personStore.n), "records")
	b.ReportMetric(float64(personStore.n)/personStore.took.Seconds(), "records/s")
	b.ReportMetric(float64(personStore.n)/personStore.cpu.Seconds(), "records/cpu-s")
	b.ReportMetric(float64(personStore.size)/float64(personStore.n), "file-bytes/record")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkPersonSearch: fuzzy name + DOB queries built from listed
// persons as an MRZ would show them (recommended transliteration,
// sometimes another spelling of the name or a truncated last given name)
// with one of their listed dates of birth (a full date inside a partial
// date, a range or an approximate year). hit-rate is the fraction of
// queries that find their listed person at the HIT or POSSIBLE level;
// top10-rate the fraction where it is also among the 10 strongest, which
// is what a desk shows (the synthetic list holds thousands of exact
// namesakes, dozens of them born the same year).
func BenchmarkPersonSearch(b *testing.B) {
	buildPersons(b)
	s := personStore.open(b)
	r := rand.New(rand.NewPCG(5, 5))
	const sample = 2000
	qs := make([]match.PersonQuery, sample)
	want := make([]string, sample)
	for i := range qs {
		p := personStore.gen.Person(r.Int64N(personStore.n))
		name := p.Name
		if len(p.Aliases) > 0 && p.Aliases[0].Quality != watchlist.QualityWeak && r.IntN(3) == 0 {
			name = p.Aliases[0]
		}
		watchlist.FillMRZ(&watchlist.PersonAlert{Name: name})
		fn := match.ParseMRZName(strings.ToUpper(name.Surname) + "<<" + strings.ReplaceAll(name.GivenNames, " ", "<"))
		if len(name.MRZ) > 0 {
			fn = match.ParseMRZName(name.MRZ[0])
		}
		qs[i] = match.PersonQuery{Surname: fn.Surname, GivenNames: fn.GivenNames, Birth: travellerDate(r, &p), Nationality: p.Nationality, Sex: p.Sex}
		want[i] = p.ID
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	lat := make([]time.Duration, 0, b.N)
	cpu := make([]time.Duration, 0, b.N)
	i, found, top10 := 0, 0, 0
	for b.Loop() {
		t0, c0 := time.Now(), threadCPU()
		h, err := s.SearchPerson(qs[i%sample], 100)
		lat, cpu = append(lat, time.Since(t0)), append(cpu, threadCPU()-c0)
		if err != nil {
			b.Fatal(err)
		}
		for j, x := range h {
			if x.Alert.ID == want[i%sample] && x.Score.Level != "" {
				found++
				if j < 10 {
					top10++
				}
				break
			}
		}
		i++
	}
	b.ReportMetric(float64(personStore.n), "records")
	b.ReportMetric(float64(found)/float64(i), "hit-rate")
	b.ReportMetric(float64(top10)/float64(i), "top10-rate")
	percentiles(b, lat, "ms")
	percentilesNamed(b, cpu, "ms", "cpu-")
}

// travellerDate is a full date of birth inside one of the person's listed
// dates, as a document would show it.
func travellerDate(r *rand.Rand, p *watchlist.PersonAlert) match.Date {
	ds := p.BirthDates()
	if len(ds) == 0 {
		return match.Date{Year: 1950 + r.IntN(55), Month: 1 + r.IntN(12), Day: 1 + r.IntN(28)}
	}
	d := ds[r.IntN(len(ds))]
	var out match.Date
	switch {
	case d.From != 0:
		out.Year = d.From + r.IntN(d.To-d.From+1)
	case d.Approx != 0:
		y, _ := strconv.Atoi(d.Date)
		out.Year = y - d.Approx + r.IntN(2*d.Approx+1)
	default:
		out, _ = match.ParseDate(d.Date)
	}
	if out.Month == 0 {
		out.Month = 1 + r.IntN(12)
	}
	if out.Day == 0 {
		out.Day = 1 + r.IntN(28)
	}
	return out
}

var faceStore built

func buildFaces(b *testing.B) {
	n := scale(100_000, 1_000_000)
	faceStore.build(b, "faces", synth.Config{Persons: n, Faces: n, Seed: 3, FaceModelID: "dlib-resnet-v1"})
}

// rssBytes is the process's anonymous resident memory (heap and the face
// slab), leaving out the file pages bbolt's mmap happens to have touched.
func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "RssAnon:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkFaceOpen measures opening a store with N face templates:
// decrypting them into the in-memory index, and the resident memory it
// adds.
func BenchmarkFaceOpen(b *testing.B) {
	buildFaces(b)
	var took time.Duration
	var rss int64
	for b.Loop() {
		debug.FreeOSMemory()
		before := rssBytes()
		t0 := time.Now()
		s, err := watchlist.Open(faceStore.path, faceStore.kp, watchlist.Options{})
		if err != nil {
			b.Fatal(err)
		}
		took = time.Since(t0)
		debug.FreeOSMemory()
		rss = rssBytes() - before
		if s.Meta().Faces != faceStore.n {
			b.Fatalf("faces = %d", s.Meta().Faces)
		}
		s.Close()
	}
	b.ReportMetric(float64(faceStore.n), "templates")
	b.ReportMetric(took.Seconds()*1000, "open-ms")
	b.ReportMetric(float64(rss)/(1<<20), "rss-MiB")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkFaceSearch is the store-level 1:N top-10 (index scan plus
// decrypting the hit persons).
func BenchmarkFaceSearch(b *testing.B) {
	buildFaces(b)
	s := faceStore.open(b)
	r := rand.New(rand.NewPCG(7, 7))
	lat := make([]time.Duration, 0, b.N)
	for b.Loop() {
		i := r.Int64N(faceStore.n)
		v := faceStore.gen.FaceVector(i)
		v[1] += 0.02
		t0 := time.Now()
		h, err := s.SearchFace(v, "dlib-resnet-v1", 10)
		lat = append(lat, time.Since(t0))
		if err != nil || len(h) == 0 {
			b.Fatalf("face %d: %v %v", i, h, err)
		}
	}
	b.ReportMetric(float64(faceStore.n), "templates")
	b.ReportMetric(faceStore.openTook.Seconds()*1000, "open-ms")
	b.ReportMetric(float64(faceStore.openRSS)/(1<<20), "open-rss-MiB")
	percentiles(b, lat, "ms")
}
