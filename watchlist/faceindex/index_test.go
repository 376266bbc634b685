package faceindex

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

const dlibDim = 128

// randomUnit returns a random unit vector, the shape of a dlib embedding.
func randomUnit(r *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	var n float64
	for i := range v {
		x := r.NormFloat64()
		v[i] = float32(x)
		n += x * x
	}
	n = math.Sqrt(n)
	for i := range v {
		v[i] = float32(float64(v[i]) / n)
	}
	return v
}

// nearCopy perturbs v by Gaussian noise of the given total size.
func nearCopy(r *rand.Rand, v []float32, size float64) []float32 {
	out := slices.Clone(v)
	s := size / math.Sqrt(float64(len(v)))
	for i := range out {
		out[i] += float32(r.NormFloat64() * s)
	}
	return out
}

// naive is the reference: exact distances in float64, full sort.
func naive(vecs [][]float32, q []float32, k int, maxDist float64) []Result {
	var all []Result
	for i, v := range vecs {
		var s float64
		for j := range v {
			d := float64(q[j]) - float64(v[j])
			s += d * d
		}
		d := math.Sqrt(s)
		if d <= maxDist {
			all = append(all, Result{ID: fmt.Sprint("t", i), Ref: uint32(i), Distance: float32(d)})
		}
	}
	slices.SortStableFunc(all, func(a, b Result) int {
		switch {
		case a.Distance < b.Distance:
			return -1
		case a.Distance > b.Distance:
			return 1
		}
		return 0
	})
	return all[:min(k, len(all))]
}

func build(t testing.TB, r *rand.Rand, n int, opts Options) (*Index, [][]float32) {
	t.Helper()
	x, err := New("dlib-resnet-v1", dlibDim, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	vecs := make([][]float32, n)
	for i := range vecs {
		vecs[i] = randomUnit(r, dlibDim)
		if err := x.Add(fmt.Sprint("t", i), vecs[i]); err != nil {
			t.Fatal(err)
		}
	}
	return x, vecs
}

func TestSearchMatchesNaive(t *testing.T) {
	cases := []struct {
		name    string
		n       int
		workers int
		k       int
		maxDist float32
		planted int // near-duplicates planted per query
	}{
		{"small single worker", 500, 1, 5, float32(math.Inf(1)), 3},
		{"top-10 unbounded", 40000, 1, 10, float32(math.Inf(1)), 4},
		{"top-10 parallel", 70000, 4, 10, float32(math.Inf(1)), 4},
		{"dlib threshold", 70000, 2, 10, 0.6, 3},
		{"threshold cuts below k", 3000, 1, 10, 0.3, 2},
		{"k larger than index", 20, 1, 50, float32(math.Inf(1)), 1},
		{"no template close enough", 2000, 1, 10, 0.2, 0},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(i), 42))
			x, vecs := build(t, r, tc.n, Options{Workers: tc.workers})
			for qi := 0; qi < 5; qi++ {
				q := randomUnit(r, dlibDim)
				// Plant near-duplicates at random positions, replacing
				// templates in both the index and the reference.
				for p := 0; p < tc.planted; p++ {
					ref := r.IntN(tc.n)
					vecs[ref] = nearCopy(r, q, 0.05+0.1*float64(p))
					copy(x.s.f[ref*dlibDim:], vecs[ref])
				}
				// The test wrote templates behind Add's back: drop the
				// int8 codes so that they are rebuilt from the new values.
				x.q.free()
				got, err := x.Search("dlib-resnet-v1", q, tc.k, tc.maxDist)
				if err != nil {
					t.Fatal(err)
				}
				want := naive(vecs, q, tc.k, float64(tc.maxDist))
				if len(got) != len(want) {
					t.Fatalf("query %d: got %d results, want %d", qi, len(got), len(want))
				}
				for j := range want {
					if got[j].Ref != want[j].Ref || got[j].ID != want[j].ID {
						// A float32/float64 near-tie may swap order; the
						// distance must then agree.
						if math.Abs(float64(got[j].Distance-want[j].Distance)) > 1e-5 {
							t.Fatalf("query %d rank %d: got %v, want %v", qi, j, got[j], want[j])
						}
					}
					if math.Abs(float64(got[j].Distance-want[j].Distance)) > 1e-5 {
						t.Fatalf("query %d rank %d: distance %v, want %v", qi, j, got[j].Distance, want[j].Distance)
					}
					if j > 0 && got[j].Distance < got[j-1].Distance {
						t.Fatalf("query %d: results not ascending: %v", qi, got)
					}
					if got[j].Distance > tc.maxDist {
						t.Fatalf("query %d: %v beyond max distance %v", qi, got[j], tc.maxDist)
					}
				}
				if tc.planted > 0 && tc.maxDist >= 0.6 && (len(got) == 0 || got[0].Distance > 0.06) {
					t.Fatalf("query %d: planted near-duplicate not found first: %v", qi, got)
				}
			}
		})
	}
}

func TestTiesKeepInsertionOrder(t *testing.T) {
	x, err := New("m", 4, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	v := []float32{1, 0, 0, 0}
	for _, id := range []string{"a", "b", "c", "d"} {
		if err := x.Add(id, v); err != nil {
			t.Fatal(err)
		}
	}
	got, err := x.Search("m", v, 3, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range got {
		ids = append(ids, r.ID)
		if r.Distance != 0 {
			t.Fatalf("distance %v, want 0", r.Distance)
		}
	}
	if !slices.Equal(ids, []string{"a", "b", "c"}) {
		t.Fatalf("got %v, want [a b c]", ids)
	}
}

func TestErrors(t *testing.T) {
	if _, err := New("", 128, Options{}); !errors.Is(err, ErrModelMismatch) {
		t.Errorf("New with empty model: %v", err)
	}
	if _, err := New("m", 0, Options{}); !errors.Is(err, ErrDimension) {
		t.Errorf("New with dim 0: %v", err)
	}
	x, err := New("dlib-a", 3, Options{MaxTemplates: 2})
	if err != nil {
		t.Fatal(err)
	}
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"add short vector", x.Add("a", []float32{1, 2}), ErrDimension},
		{"add NaN", x.Add("a", []float32{1, nan, 0}), ErrBadVector},
		{"add Inf", x.Add("a", []float32{1, inf, 0}), ErrBadVector},
		{"add other model", x.AddTemplate("dlib-b", "a", []float32{1, 0, 0}), ErrModelMismatch},
		{"add ok", x.AddTemplate("dlib-a", "a", []float32{1, 0, 0}), nil},
		{"add ok 2", x.Add("b", []float32{0, 1, 0}), nil},
		{"add beyond max", x.Add("c", []float32{0, 0, 1}), ErrFull},
		{"search other model", second(x.Search("dlib-b", []float32{1, 0, 0}, 1, 1)), ErrModelMismatch},
		{"search wrong dim", second(x.Search("dlib-a", []float32{1, 0}, 1, 1)), ErrDimension},
		{"search NaN query", second(x.Search("dlib-a", []float32{nan, 0, 0}, 1, 1)), ErrBadVector},
		{"search negative max", second(x.Search("dlib-a", []float32{1, 0, 0}, 1, -1)), ErrBadQuery},
		{"search NaN max", second(x.Search("dlib-a", []float32{1, 0, 0}, 1, nan)), ErrBadQuery},
	}
	for _, tc := range cases {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	if x.Len() != 2 {
		t.Errorf("Len after failed adds = %d, want 2 (bad input must not be stored)", x.Len())
	}
	if got, err := x.Search("dlib-a", []float32{1, 0, 0}, 1<<30, 10); err != nil || len(got) != 2 {
		t.Errorf("huge k: %v, %v", got, err)
	}
	if got, err := x.Search("dlib-a", []float32{1, 0, 0}, 0, 1); err != nil || got != nil {
		t.Errorf("k=0: %v, %v", got, err)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if err := x.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := x.Search("dlib-a", []float32{1, 0, 0}, 1, 1); !errors.Is(err, ErrClosed) {
		t.Errorf("search after close: %v", err)
	}
	if err := x.Add("z", []float32{1, 0, 0}); !errors.Is(err, ErrClosed) {
		t.Errorf("add after close: %v", err)
	}
	if x.Len() != 0 || x.Locked() {
		t.Errorf("after close: Len %d Locked %v", x.Len(), x.Locked())
	}
}

func second[T any](_ T, err error) error { return err }

func TestGrowKeepsTemplates(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	x, vecs := build(t, r, 1000, Options{Capacity: 1}) // forces several grows
	if x.Len() != 1000 {
		t.Fatalf("Len = %d", x.Len())
	}
	for _, i := range []int{0, 1, 63, 64, 500, 999} {
		got, err := x.Search("dlib-resnet-v1", vecs[i], 1, 1e-6)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Ref != uint32(i) || got[0].ID != fmt.Sprint("t", i) {
			t.Fatalf("template %d not found after grow: %v", i, got)
		}
	}
}

func TestCloseReleasesAndWipes(t *testing.T) {
	s, err := newSlab(8)
	if err != nil {
		t.Fatal(err)
	}
	copy(s.f, []float32{1, 2, 3, 4, 5, 6, 7, 8})
	s.wipe()
	if slices.ContainsFunc(s.f, func(v float32) bool { return v != 0 }) {
		t.Fatalf("wipe left %v", s.f)
	}
	s.free()
	s.free() // idempotent

	x, err := New("m", 4, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Add("a", []float32{1, 2, 3, 4}); err != nil {
		t.Fatal(err)
	}
	old := x.s
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if old.f != nil || x.s != nil || x.ids != nil {
		t.Fatal("templates or ids still referenced after Close")
	}
}

func TestLockedSmallIndex(t *testing.T) {
	x, err := New("m", dlibDim, Options{Capacity: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	// 100 templates take 51 kB: where the memlock limit allows a megabyte
	// the slab must be locked; below that, Locked just reports false.
	if memlockLimit() >= 1<<20 && !x.Locked() {
		t.Fatalf("Locked() = false with RLIMIT_MEMLOCK %d", memlockLimit())
	}
	t.Logf("Locked() = %v, RLIMIT_MEMLOCK %d", x.Locked(), memlockLimit())
}

func TestConcurrentSearchAndAdd(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	x, vecs := build(t, r, 2000, Options{Workers: 2})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Go(func() {
			for i := 0; i < 20; i++ {
				ref := (g*20 + i) % len(vecs)
				got, err := x.Search("dlib-resnet-v1", vecs[ref], 1, 1e-6)
				if err != nil || len(got) != 1 || got[0].Ref != uint32(ref) {
					t.Errorf("search %d: %v %v", ref, got, err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		rr := rand.New(rand.NewPCG(4, 4))
		for i := 0; i < 500; i++ {
			if err := x.Add("late", randomUnit(rr, dlibDim)); err != nil {
				t.Error(err)
				return
			}
		}
	})
	wg.Wait()
	if x.Len() != 2500 {
		t.Fatalf("Len = %d, want 2500", x.Len())
	}
}
