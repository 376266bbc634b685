package faceindex

import (
	"fmt"
	"math"
	"runtime"
	"sync"
)

// Options tune an Index. The zero value is usable.
type Options struct {
	// Capacity reserves room for this many templates up front, so that
	// building the index does not copy the slab while growing.
	Capacity int
	// Workers is the number of goroutines one Search may use; 0 means
	// runtime.GOMAXPROCS(0). Small indexes are always scanned by one.
	Workers int
	// MaxTemplates caps the index size; 0 means 1<<28.
	MaxTemplates int
	// ExactBelow is the index size under which Search scans the float32
	// templates exactly; at and above it, Search scans int8 codes and
	// re-ranks the Rerank nearest exactly. 0 means DefaultExactBelow;
	// negative means always exact.
	ExactBelow int
	// Rerank is the number of code-scan candidates re-ranked exactly;
	// 0 means DefaultRerank.
	Rerank int
}

// MaxK caps the k of Search: the top-k buffer is a sorted slice, cheap for
// the tens of candidates an officer can review, quadratic for huge k.
const MaxK = 1000

// parallelMin is the index size below which splitting a search costs more in
// goroutine start-up than it saves.
const parallelMin = 32 * 1024

// Result is one search hit.
type Result struct {
	ID       string  // id given to Add
	Ref      uint32  // insertion order, 0-based
	Distance float32 // Euclidean distance to the query
}

// Index is an exact 1:N index over templates of one face model.
type Index struct {
	mu      sync.RWMutex
	model   string
	dim     int
	workers int
	max     int
	s       *slab
	n       int
	ids     []string
	closed  bool

	q          quant // int8 codes for the approximate path, built lazily
	exactBelow int
	rerank     int
}

// New returns an empty index for templates of modelID with dim dimensions
// (128 for dlib's ResNet model).
func New(modelID string, dim int, opts Options) (*Index, error) {
	if modelID == "" {
		return nil, fmt.Errorf("%w: empty model id", ErrModelMismatch)
	}
	if dim <= 0 {
		return nil, fmt.Errorf("%w: %d", ErrDimension, dim)
	}
	x := &Index{model: modelID, dim: dim, workers: opts.Workers, max: opts.MaxTemplates,
		exactBelow: opts.ExactBelow, rerank: opts.Rerank}
	if x.exactBelow == 0 {
		x.exactBelow = DefaultExactBelow
	}
	if x.exactBelow < 0 {
		x.exactBelow = math.MaxInt
	}
	if x.rerank <= 0 {
		x.rerank = DefaultRerank
	}
	if x.max <= 0 {
		x.max = 1 << 28
	}
	if x.workers <= 0 {
		x.workers = runtime.GOMAXPROCS(0)
	}
	capacity := max(opts.Capacity, 64)
	s, err := newSlab(capacity * dim)
	if err != nil {
		return nil, fmt.Errorf("faceindex: allocate: %w", err)
	}
	x.s = s
	x.ids = make([]string, 0, capacity)
	return x, nil
}

// ModelID is the face model the index holds templates of.
func (x *Index) ModelID() string { return x.model }

// Dim is the template dimension.
func (x *Index) Dim() int { return x.dim }

// Len is the number of templates.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.n
}

// Locked reports whether all templates are locked in RAM (mlock succeeded).
// A false value is not an error: the box may have too low a memlock limit
// (LimitMEMLOCK= in the systemd unit); the store should report it in health.
func (x *Index) Locked() bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.s != nil && x.s.locked
}

// BytesPerTemplate is the memory the index uses per template, excluding the
// id strings' contents: the float32 template, its id's string header and,
// from ExactBelow templates on, its int8 codes.
func (x *Index) BytesPerTemplate() int {
	b := x.dim*4 + 16
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.n >= x.exactBelow {
		b += x.dim
	}
	return b
}

// Approximate reports whether Search takes the int8 path at the current size.
func (x *Index) Approximate() bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.n >= x.exactBelow
}

// AddTemplate adds a template after checking that it was computed by the
// index's model.
func (x *Index) AddTemplate(modelID, id string, vec []float32) error {
	if modelID != x.model {
		return fmt.Errorf("%w: template of %q added to an index of %q", ErrModelMismatch, modelID, x.model)
	}
	return x.Add(id, vec)
}

// Add copies vec into the index under id. The caller guarantees that vec
// was computed by ModelID's model (AddTemplate checks it). Ids need not be
// unique: a person with several templates may use the person id for each.
func (x *Index) Add(id string, vec []float32) error {
	if len(vec) != x.dim {
		return fmt.Errorf("%w: got %d, want %d", ErrDimension, len(vec), x.dim)
	}
	for _, v := range vec {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return ErrBadVector
		}
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return ErrClosed
	}
	if x.n >= x.max {
		return fmt.Errorf("%w: %d templates", ErrFull, x.max)
	}
	if (x.n+1)*x.dim > len(x.s.f) {
		if err := x.grow(); err != nil {
			return err
		}
	}
	copy(x.s.f[x.n*x.dim:], vec)
	x.ids = append(x.ids, id)
	x.n++
	return nil
}

// grow doubles the slab; the old one is zeroed before it is unmapped.
func (x *Index) grow() error {
	capacity := min(2*len(x.s.f)/x.dim, x.max)
	s, err := newSlab(capacity * x.dim)
	if err != nil {
		return fmt.Errorf("faceindex: grow: %w", err)
	}
	copy(s.f, x.s.f[:x.n*x.dim])
	x.s.free()
	x.s = s
	return nil
}

// Search returns up to k templates nearest to query whose distance is at
// most maxDistance, nearest first (ties in insertion order). modelID must be
// the model that computed query. k above MaxK is treated as MaxK. Below
// ExactBelow templates every template is compared exactly; from there on
// the int8 code scan picks the Rerank nearest candidates, which are
// compared exactly (distances returned are always exact float32 ones).
func (x *Index) Search(modelID string, query []float32, k int, maxDistance float32) ([]Result, error) {
	if modelID != x.model {
		return nil, fmt.Errorf("%w: query of %q against an index of %q", ErrModelMismatch, modelID, x.model)
	}
	if len(query) != x.dim {
		return nil, fmt.Errorf("%w: got %d, want %d", ErrDimension, len(query), x.dim)
	}
	for _, v := range query {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, ErrBadVector
		}
	}
	if math.IsNaN(float64(maxDistance)) || maxDistance < 0 {
		return nil, fmt.Errorf("%w: max distance %v", ErrBadQuery, maxDistance)
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.closed {
		return nil, ErrClosed
	}
	if k <= 0 || x.n == 0 {
		return nil, nil
	}
	k = min(k, x.n, MaxK)
	limit := maxDistance * maxDistance // +Inf stays +Inf
	f := x.s.f[:x.n*x.dim]
	var t *topK
	workers := min(x.workers, x.n/parallelMin)
	switch {
	case x.n >= x.exactBelow:
		var err error
		if t, err = x.approxSearch(query, k, limit, workers); err != nil {
			return nil, err
		}
	case workers <= 1:
		t = newTopK(k, limit)
		scan(t, query, f, x.dim, 0, x.n)
	default:
		t = x.parallel(query, f, k, limit, workers)
	}
	out := make([]Result, len(t.d))
	for i := range t.d {
		out[i] = Result{ID: x.ids[t.ref[i]], Ref: t.ref[i], Distance: float32(math.Sqrt(float64(t.d[i])))}
	}
	return out, nil
}

func (x *Index) parallel(query, f []float32, k int, limit float32, workers int) *topK {
	parts := make([]*topK, workers)
	var wg sync.WaitGroup
	chunk := (x.n + workers - 1) / workers
	for w := range workers {
		from, to := w*chunk, min((w+1)*chunk, x.n)
		parts[w] = newTopK(k, limit)
		wg.Go(func() { scan(parts[w], query, f, x.dim, from, to) })
	}
	wg.Wait()
	// Chunks are in ref order, so merging them in order keeps ties stable.
	t := newTopK(k, limit)
	for _, p := range parts {
		for i := range p.d {
			t.push(p.d[i], p.ref[i])
		}
	}
	return t
}

// Close zeroes the templates and releases their memory. It is idempotent;
// later calls to Add and Search return ErrClosed.
func (x *Index) Close() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return nil
	}
	x.closed = true
	x.q.free()
	x.s.free()
	x.s = nil
	clear(x.ids)
	x.ids = nil
	x.n = 0
	return nil
}
