package faceindex

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestKernelsAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	for _, dim := range []int{32, 128, 192, 512, 100} {
		const rows = 700
		q := make([]int16, dim)
		x := make([]int8, rows*dim)
		for i := range q {
			q[i] = int16(r.IntN(255) - 127)
		}
		for i := range x {
			x[i] = int8(r.IntN(255) - 127)
		}
		// Extremes: the largest possible difference in every dimension.
		for i := 0; i < dim; i++ {
			q[i], x[i] = 127, -127
		}
		want := make([]int32, rows)
		l2Int8Generic(q, x, rows, want)
		if want[0] != int32(dim)*254*254 {
			t.Fatalf("dim %d: extreme row %d", dim, want[0])
		}
		got := make([]int32, rows)
		l2Int8Batch(q, x, rows, got)
		if !slices.Equal(got, want) {
			t.Errorf("dim %d (avx2 %v): kernels disagree", dim, haveAVX2 && dim%32 == 0)
		}
	}
}

// exactIndex builds an exact twin of x for comparison.
func twins(t *testing.T, dim, n int, r *rand.Rand, normalize bool, opts Options) (approx, exact *Index) {
	t.Helper()
	a, err := New("m", dim, Options{Capacity: n, ExactBelow: 1, Rerank: opts.Rerank, Workers: opts.Workers})
	if err != nil {
		t.Fatal(err)
	}
	e, err := New("m", dim, Options{Capacity: n, ExactBelow: -1, Workers: opts.Workers})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); e.Close() })
	for i := 0; i < n; i++ {
		v := randomUnit(r, dim)
		if !normalize {
			for j := range v {
				v[j] *= 1.4 // dlib-like norms
			}
		}
		id := fmt.Sprint("p", i)
		if err := a.Add(id, v); err != nil {
			t.Fatal(err)
		}
		if err := e.Add(id, v); err != nil {
			t.Fatal(err)
		}
	}
	return a, e
}

// TestApproximateRecall: the int8 scan with exact re-ranking returns what
// the exact scan returns (recall@10 = 100%, same distances), for random
// queries (the hardest case: every distance is nearly the same) and for
// queries with a planted near neighbour, on one and on two workers.
func TestApproximateRecall(t *testing.T) {
	n := 200_000
	if testing.Short() || raceEnabled {
		n = 60_000
	}
	for _, tc := range []struct {
		name      string
		dim       int
		normalize bool
		workers   int
	}{{"dlib 128-D", 128, false, 1}, {"mobilefacenet 192-D, 2 workers", 192, true, 2}} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(tc.dim), 1))
			a, e := twins(t, tc.dim, n, r, tc.normalize, Options{Workers: tc.workers})
			if !a.Approximate() || e.Approximate() {
				t.Fatal("paths not as configured")
			}
			for qi := 0; qi < 40; qi++ {
				q := randomUnit(r, tc.dim)
				if qi%2 == 1 {
					q = nearCopy(r, e.s.f[r.IntN(n)*tc.dim:][:tc.dim], 0.3)
				}
				want, err := e.Search("m", q, 10, 99)
				if err != nil {
					t.Fatal(err)
				}
				got, err := a.Search("m", q, 10, 99)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(want) {
					t.Fatalf("query %d: %d results, want %d", qi, len(got), len(want))
				}
				for j := range want {
					if got[j] != want[j] {
						t.Fatalf("query %d rank %d: %+v, exact %+v", qi, j, got[j], want[j])
					}
				}
			}
			// A bound tighter than every distance still filters.
			if res, _ := a.Search("m", randomUnit(r, tc.dim), 10, 0.01); len(res) != 0 {
				t.Errorf("max distance ignored: %v", res)
			}
		})
	}
}

// TestQuantisationFollowsAdds: templates added after a search are coded
// on the next one; a template outside the coded range rescales all codes.
func TestQuantisationFollowsAdds(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	a, e := twins(t, 128, 5000, r, true, Options{})
	check := func(label string, q []float32) {
		t.Helper()
		want, _ := e.Search("m", q, 5, 99)
		got, err := a.Search("m", q, 5, 99)
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("%s: %v %v, want %v", label, got, err, want)
		}
	}
	check("first", randomUnit(r, 128))
	scale := a.q.scale
	big := randomUnit(r, 128)
	for i := range big {
		big[i] *= 3
	}
	a.Add("big", big)
	e.Add("big", big)
	check("after a larger template", big)
	if a.q.scale >= scale || a.q.n != a.Len() {
		t.Errorf("scale %v → %v, %d of %d coded", scale, a.q.scale, a.q.n, a.Len())
	}
	small := randomUnit(r, 128)
	a.Add("small", small)
	e.Add("small", small)
	check("after a template in range", small)
	if b := a.BytesPerTemplate(); b != 128*4+16+128 {
		t.Errorf("bytes per template %d", b)
	}
}
