package faceindex

import "slices"

// sqDist is the squared Euclidean distance between two vectors of equal
// length. Four independent accumulators let the CPU overlap the
// floating-point adds; without them every add waits for the previous one.
// There is deliberately no early exit (see the package doc).
func sqDist(q, x []float32) float32 {
	n := len(q)
	x = x[:n]
	var a0, a1, a2, a3 float32
	i := 0
	for ; i+8 <= n; i += 8 {
		qq := q[i : i+8 : i+8]
		xx := x[i : i+8 : i+8]
		d0 := qq[0] - xx[0]
		d1 := qq[1] - xx[1]
		d2 := qq[2] - xx[2]
		d3 := qq[3] - xx[3]
		d4 := qq[4] - xx[4]
		d5 := qq[5] - xx[5]
		d6 := qq[6] - xx[6]
		d7 := qq[7] - xx[7]
		a0 += d0*d0 + d4*d4
		a1 += d1*d1 + d5*d5
		a2 += d2*d2 + d6*d6
		a3 += d3*d3 + d7*d7
	}
	for ; i < n; i++ {
		d := q[i] - x[i]
		a0 += d * d
	}
	return (a0 + a1) + (a2 + a3)
}

// topK keeps the k smallest (distance, ref) pairs seen, sorted ascending.
// k is small (tens), so insertion into a sorted slice beats a heap: almost
// every candidate is rejected by the single comparison with the worst.
type topK struct {
	k     int
	limit float32 // squared distance a candidate must not exceed
	d     []float32
	ref   []uint32
}

func newTopK(k int, limit float32) *topK {
	return &topK{k: k, limit: limit, d: make([]float32, 0, k), ref: make([]uint32, 0, k)}
}

// bound is the squared distance a new candidate must beat (or equal, while
// the buffer is not full).
func (t *topK) bound() float32 {
	if len(t.d) == t.k {
		return t.d[t.k-1]
	}
	return t.limit
}

// push offers a candidate. Equal distances keep the earlier ref first, so
// results are deterministic.
func (t *topK) push(d float32, ref uint32) {
	if len(t.d) == t.k {
		if d >= t.d[t.k-1] {
			return
		}
		t.d = t.d[:t.k-1]
		t.ref = t.ref[:t.k-1]
	} else if d > t.limit {
		return
	}
	i := len(t.d)
	for i > 0 && (t.d[i-1] > d || (t.d[i-1] == d && t.ref[i-1] > ref)) {
		i--
	}
	t.d = slices.Insert(t.d, i, d)
	t.ref = slices.Insert(t.ref, i, ref)
}

// scan offers templates [from, to) of the slab to t.
func scan(t *topK, q, f []float32, dim, from, to int) {
	bound := t.bound()
	full := len(t.d) == t.k
	for r := from; r < to; r++ {
		d := sqDist(q, f[r*dim:r*dim+dim])
		if d < bound || (!full && d <= bound) {
			t.push(d, uint32(r))
			bound = t.bound()
			full = len(t.d) == t.k
		}
	}
}
