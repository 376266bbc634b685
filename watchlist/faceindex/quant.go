package faceindex

import (
	"container/heap"
	"math"
	"slices"
	"sync"
)

// The approximate path: every template also lives as int8 codes (one
// global scale, so distances between codes are Euclidean distances in
// units of the scale, squared). A search scans all codes — a quarter of
// the bytes of the float32 scan, and SIMD where the CPU has AVX2 — keeps
// the Rerank nearest, and re-ranks those by exact float32 distance. The
// exact result is found as long as the true k nearest are among the
// Rerank nearest by code distance; the quantisation error (a step of
// max|v|/127 per value) is far smaller than the spread of distances that
// separates the k-th neighbour from the Rerank-th (see the recall tests).

// Defaults of Options.
const (
	DefaultExactBelow = 50_000
	DefaultRerank     = 256
)

// l2Int8Generic is the portable kernel.
func l2Int8Generic(q []int16, x []int8, rows int, out []int32) {
	dim := len(q)
	for r := 0; r < rows; r++ {
		row := x[r*dim : r*dim+dim : r*dim+dim]
		var a0, a1, a2, a3 int32
		i := 0
		for ; i+4 <= dim; i += 4 {
			d0 := int32(q[i]) - int32(row[i])
			d1 := int32(q[i+1]) - int32(row[i+1])
			d2 := int32(q[i+2]) - int32(row[i+2])
			d3 := int32(q[i+3]) - int32(row[i+3])
			a0 += d0 * d0
			a1 += d1 * d1
			a2 += d2 * d2
			a3 += d3 * d3
		}
		for ; i < dim; i++ {
			d := int32(q[i]) - int32(row[i])
			a0 += d * d
		}
		out[r] = a0 + a1 + a2 + a3
	}
}

// quant is the int8 copy of an index's templates.
type quant struct {
	mu    sync.Mutex // serialises (re)quantisation; searches read under Index.mu
	s     *slab
	codes []int8
	n     int     // rows quantised
	scale float32 // code = round(v·scale)
}

func code(v, scale float32) int8 {
	c := math.Round(float64(v * scale))
	return int8(max(-127, min(127, c)))
}

// sync brings the codes up to the index's n rows. A new row outside the
// current range (|v|·scale > 127) triggers a full requantisation with a
// new scale, so no code is ever clipped. Called with the index read-locked
// (no Add runs concurrently).
func (x *Index) syncQuant() error {
	q := &x.q
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n == x.n && q.s != nil {
		return nil
	}
	f := x.s.f
	need := q.scale == 0
	var maxAbs float32
	for _, v := range f[q.n*x.dim : x.n*x.dim] {
		maxAbs = max(maxAbs, float32(math.Abs(float64(v))))
	}
	if q.scale > 0 && maxAbs*q.scale > 127 {
		need = true
	}
	if need {
		for _, v := range f[:x.n*x.dim] {
			maxAbs = max(maxAbs, float32(math.Abs(float64(v))))
		}
		q.scale = 127 / max(maxAbs, 1e-6)
		q.n = 0
	}
	if q.s == nil || len(q.codes) < x.n*x.dim {
		s, err := newSlab((cap(x.ids)*x.dim + 3) / 4)
		if err != nil {
			return err
		}
		if q.s != nil {
			copy(s.int8s(), q.codes[:q.n*x.dim])
			q.s.free()
		}
		q.s, q.codes = s, s.int8s()
	}
	for i := q.n * x.dim; i < x.n*x.dim; i++ {
		q.codes[i] = code(f[i], q.scale)
	}
	q.n = x.n
	return nil
}

func (q *quant) free() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.s != nil {
		q.s.free()
	}
	q.s, q.codes, q.n, q.scale = nil, nil, 0, 0
}

// cand is a candidate of the code scan.
type cand struct {
	d   int32
	ref uint32
}

// maxHeap keeps the R smallest code distances; its root is the largest.
type maxHeap []cand

func (h maxHeap) Len() int { return len(h) }
func (h maxHeap) Less(i, j int) bool {
	return h[i].d > h[j].d || (h[i].d == h[j].d && h[i].ref > h[j].ref)
}
func (h maxHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *maxHeap) Push(v any)   { *h = append(*h, v.(cand)) }
func (h *maxHeap) Pop() any {
	old := *h
	v := old[len(old)-1]
	*h = old[:len(old)-1]
	return v
}

// batchRows is how many code distances the kernel computes per call.
const batchRows = 512

// scanCodes offers rows [from, to) to a heap of the r nearest codes.
func scanCodes(q16 []int16, codes []int8, from, to, r int) maxHeap {
	dim := len(q16)
	h := make(maxHeap, 0, r)
	out := make([]int32, batchRows)
	for start := from; start < to; start += batchRows {
		rows := min(batchRows, to-start)
		l2Int8Batch(q16, codes[start*dim:(start+rows)*dim], rows, out)
		for i, d := range out[:rows] {
			if len(h) < r {
				heap.Push(&h, cand{d, uint32(start + i)})
				continue
			}
			if d < h[0].d {
				h[0] = cand{d, uint32(start + i)}
				heap.Fix(&h, 0)
			}
		}
	}
	return h
}

// approxSearch is Search's approximate path: code scan, then exact
// re-ranking of the Rerank nearest codes.
func (x *Index) approxSearch(query []float32, k int, limit float32, workers int) (*topK, error) {
	if err := x.syncQuant(); err != nil {
		return nil, err
	}
	q16 := make([]int16, x.dim)
	for i, v := range query {
		q16[i] = int16(code(v, x.q.scale))
	}
	r := max(x.rerank, k)
	var cands []cand
	if workers <= 1 {
		cands = scanCodes(q16, x.q.codes, 0, x.n, r)
	} else {
		parts := make([]maxHeap, workers)
		var wg sync.WaitGroup
		chunk := (x.n + workers - 1) / workers
		for w := range workers {
			from, to := w*chunk, min((w+1)*chunk, x.n)
			wg.Go(func() { parts[w] = scanCodes(q16, x.q.codes, from, to, r) })
		}
		wg.Wait()
		for _, p := range parts {
			cands = append(cands, p...)
		}
	}
	t := newTopK(k, limit)
	f := x.s.f
	// Re-rank in ref order so that ties keep insertion order, as the
	// exact path does.
	refs := make([]uint32, len(cands))
	for i, c := range cands {
		refs[i] = c.ref
	}
	slices.Sort(refs)
	for _, ref := range refs {
		r := int(ref)
		t.push(sqDist(query, f[r*x.dim:r*x.dim+x.dim]), ref)
	}
	return t, nil
}
