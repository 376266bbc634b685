package hub

import (
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

// Limits bound what any one certificate can make the hub do (issue 17,
// finding 6: a stolen unit key must not fill headquarters' disk or
// memory). Zero fields take DefaultLimits' values.
type Limits struct {
	// MaxBatchBytes and MaxBatchItems bound one POST /v1/results (413).
	MaxBatchBytes int64
	MaxBatchItems int
	// MaxImportBytes bounds one POST /v1/imports (413); imports are
	// spooled to disk still encrypted, never held in memory.
	MaxImportBytes int64
	// Per unit: records and bytes per second (token buckets with these
	// bursts), and bytes per day. Beyond them: 429 with Retry-After.
	UnitRecordsPerSecond float64
	UnitRecordsBurst     float64
	UnitBytesPerSecond   float64
	UnitBytesBurst       float64
	UnitBytesPerDay      float64
	// UnitConcurrency bounds a unit's requests in flight (a unit uploads
	// one batch at a time; 2 leaves room for a retry after a timeout).
	UnitConcurrency int
	// MaxInflightBytes bounds request bodies being read and decoded at
	// once, across all units (503 with Retry-After beyond).
	MaxInflightBytes int64
	// MaxImports bounds imports in progress.
	MaxImports int
	// MaxIngests bounds POST /v1/results being handled at once by this
	// replica (503 with Retry-After beyond): when the database is slow,
	// refusing at once beats queueing requests whose units will have
	// given up (and resent) by the time their turn comes.
	MaxIngests int
	// Server timeouts: headers, a whole results request, a response.
	// Bundle downloads and imports extend theirs while they make
	// progress; the live feed has none (it writes a heartbeat instead).
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
}

// DefaultLimits are generous for a desk (a few results a minute, a
// backlog of days drained at thousands per second) and small for a thief.
func DefaultLimits() Limits {
	return Limits{
		MaxBatchBytes:        16 << 20,
		MaxBatchItems:        10000,
		MaxImportBytes:       1 << 30,
		UnitRecordsPerSecond: 5000,
		UnitRecordsBurst:     50000,
		UnitBytesPerSecond:   4 << 20,
		UnitBytesBurst:       64 << 20,
		UnitBytesPerDay:      2 << 30,
		UnitConcurrency:      2,
		MaxInflightBytes:     256 << 20,
		MaxImports:           2,
		MaxIngests:           64,
		ReadHeaderTimeout:    10 * time.Second,
		ReadTimeout:          2 * time.Minute,
		WriteTimeout:         2 * time.Minute,
		IdleTimeout:          2 * time.Minute,
	}
}

func (l Limits) orDefault() Limits {
	d := DefaultLimits()
	set := func(p *float64, v float64) {
		if *p <= 0 {
			*p = v
		}
	}
	if l.MaxBatchBytes <= 0 {
		l.MaxBatchBytes = d.MaxBatchBytes
	}
	if l.MaxBatchItems <= 0 {
		l.MaxBatchItems = d.MaxBatchItems
	}
	if l.MaxImportBytes <= 0 {
		l.MaxImportBytes = d.MaxImportBytes
	}
	set(&l.UnitRecordsPerSecond, d.UnitRecordsPerSecond)
	set(&l.UnitRecordsBurst, d.UnitRecordsBurst)
	set(&l.UnitBytesPerSecond, d.UnitBytesPerSecond)
	set(&l.UnitBytesBurst, d.UnitBytesBurst)
	set(&l.UnitBytesPerDay, d.UnitBytesPerDay)
	if l.UnitConcurrency <= 0 {
		l.UnitConcurrency = d.UnitConcurrency
	}
	if l.MaxInflightBytes <= 0 {
		l.MaxInflightBytes = d.MaxInflightBytes
	}
	if l.MaxImports <= 0 {
		l.MaxImports = d.MaxImports
	}
	if l.MaxIngests <= 0 {
		l.MaxIngests = d.MaxIngests
	}
	dur := func(p *time.Duration, v time.Duration) {
		if *p <= 0 {
			*p = v
		}
	}
	dur(&l.ReadHeaderTimeout, d.ReadHeaderTimeout)
	dur(&l.ReadTimeout, d.ReadTimeout)
	dur(&l.WriteTimeout, d.WriteTimeout)
	dur(&l.IdleTimeout, d.IdleTimeout)
	return l
}

// bucket is a token bucket that may go into debt: a request is admitted
// while the balance is positive and charged what it really used once its
// body is read, so the size need not be known in advance and a large
// batch delays the unit's next one instead of being refused after it was
// read.
type bucket struct {
	tokens, rate, burst float64
	last                time.Time
}

func newBucket(rate, burst float64, now time.Time) bucket {
	return bucket{tokens: burst, rate: rate, burst: burst, last: now}
}

func (b *bucket) refill(now time.Time) {
	if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens = math.Min(b.burst, b.tokens+dt*b.rate)
		b.last = now
	}
}

// wait is how long until the balance is positive again (0: now).
func (b *bucket) wait(now time.Time) time.Duration {
	b.refill(now)
	if b.tokens > 0 {
		return 0
	}
	return time.Duration((-b.tokens + 1) / b.rate * float64(time.Second))
}

func (b *bucket) take(n float64, now time.Time) {
	b.refill(now)
	b.tokens -= n
}

type unitLimit struct {
	records, bytes, daily bucket
	inflight              int
	used                  time.Time
}

// limiter holds the per-unit buckets and the global in-flight budget.
type limiter struct {
	l   Limits
	now func() time.Time

	mu       sync.Mutex
	units    map[string]*unitLimit
	inflight int64
	ingests  int
	imports  int
	sweep    time.Time
}

func newLimiter(l Limits, now func() time.Time) *limiter {
	return &limiter{l: l, now: now, units: map[string]*unitLimit{}}
}

// refusal says why a request is not admitted and when to come back.
type refusal struct {
	code       int // 429 or 503
	reason     string
	retryAfter time.Duration
}

// admit reserves room for a request of unit with a body of size bytes
// (-1: unknown). On success the returned release must be called once the
// request is done.
func (lm *limiter) admit(unit string, size int64) (release func(), r *refusal) {
	now := lm.now()
	lm.mu.Lock()
	defer lm.mu.Unlock()
	lm.gc(now)
	u := lm.units[unit]
	if u == nil {
		u = &unitLimit{
			records: newBucket(lm.l.UnitRecordsPerSecond, lm.l.UnitRecordsBurst, now),
			bytes:   newBucket(lm.l.UnitBytesPerSecond, lm.l.UnitBytesBurst, now),
			daily:   newBucket(lm.l.UnitBytesPerDay/86400, lm.l.UnitBytesPerDay, now),
		}
		lm.units[unit] = u
	}
	u.used = now
	if u.inflight >= lm.l.UnitConcurrency {
		return nil, &refusal{429, "unit_concurrency", time.Second}
	}
	if d := u.daily.wait(now); d > 0 {
		return nil, &refusal{429, "unit_daily_quota", d}
	}
	if d := max(u.records.wait(now), u.bytes.wait(now)); d > 0 {
		return nil, &refusal{429, "unit_rate", d}
	}
	reserve := lm.l.MaxBatchBytes
	if size >= 0 && size < reserve {
		reserve = size
	}
	if lm.inflight+reserve > lm.l.MaxInflightBytes || lm.ingests >= lm.l.MaxIngests {
		return nil, &refusal{503, "busy", time.Second + time.Duration(rand.Int64N(int64(2*time.Second)))}
	}
	lm.inflight += reserve
	lm.ingests++
	u.inflight++
	return func() {
		lm.mu.Lock()
		lm.inflight -= reserve
		lm.ingests--
		u.inflight--
		lm.mu.Unlock()
	}, nil
}

// charge bills a unit for what a request really carried.
func (lm *limiter) charge(unit string, records int, bytes int64) {
	now := lm.now()
	lm.mu.Lock()
	defer lm.mu.Unlock()
	if u := lm.units[unit]; u != nil {
		u.records.take(float64(records), now)
		u.bytes.take(float64(bytes), now)
		u.daily.take(float64(bytes), now)
	}
}

// admitImport reserves one of the import slots.
func (lm *limiter) admitImport() (func(), *refusal) {
	lm.mu.Lock()
	defer lm.mu.Unlock()
	if lm.imports >= lm.l.MaxImports {
		return nil, &refusal{503, "imports_busy", 5 * time.Second}
	}
	lm.imports++
	return func() {
		lm.mu.Lock()
		lm.imports--
		lm.mu.Unlock()
	}, nil
}

// gc forgets units idle for a day (their buckets would be full again), so
// the map stays the size of the active fleet.
func (lm *limiter) gc(now time.Time) {
	if now.Sub(lm.sweep) < time.Hour {
		return
	}
	lm.sweep = now
	for k, u := range lm.units {
		if u.inflight == 0 && now.Sub(u.used) > 24*time.Hour {
			delete(lm.units, k)
		}
	}
}
