package outbox

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/checkpoint-edge/checkpoint/internal/atomicfile"
	"github.com/checkpoint-edge/checkpoint/internal/backoff"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/internal/sealdb"
	"github.com/checkpoint-edge/checkpoint/sync/pki"
)

// Bucket names. Values in the class buckets are
// uvarint(len(key)) | idempotency key | sealed JSON Record, keyed by the
// big-endian sequence number; the clear-text idempotency key (random, no
// personal data) lets Ack and eviction work without decrypting.
var (
	bucketMeta    = []byte("meta")
	bucketHits    = []byte("hits")
	bucketRoutine = []byte("routine")
	bucketIndex   = []byte("index") // idempotency key -> class byte | seq
	keySeq        = []byte("seq")
	keyEvicted    = []byte("evicted")
	keyUnit       = []byte("unit")

	layout = sealdb.Layout{
		Meta: bucketMeta, Format: "checkpoint-outbox/1", DEKAD: []byte("checkpoint/outbox/dek"),
		Buckets: [][]byte{bucketHits, bucketRoutine, bucketIndex},
	}
)

// Clock is the time source; tests replace it to make backoff instant and
// observable.
type Clock = backoff.Clock

// Quota bounds routine records. Zero fields mean no bound.
type Quota struct {
	Items int
	Bytes int64
}

// Options configure Open.
type Options struct {
	// UnitID prefixes idempotency keys; it must match the unit's TLS
	// certificate (pki.ValidUnitID). It is recorded in the file on creation;
	// empty means "the recorded one" (tools such as checkpointctl), and a
	// different one is refused.
	UnitID string
	// RoutineQuota bounds routine records; beyond it the oldest are evicted.
	RoutineQuota Quota
	// Timeout bounds the wait for the file lock (default 5 s), so a second
	// process gets an error instead of hanging.
	Timeout time.Duration
	// Logger receives operational events without content; nil discards.
	Logger *slog.Logger
	// Clock defaults to the wall clock.
	Clock Clock
	// OnEvict, if set, is called (outside any lock) with the number of
	// routine records just evicted: the daemon raises its alarm there.
	OnEvict func(n int)
	// NoSync disables fsync. Only for benchmarks comparing costs: it voids
	// the durability guarantee.
	NoSync bool
}

// Outbox is the durable queue. It is safe for concurrent use.
type Outbox struct {
	db     *bolt.DB
	sealer *seal.Sealer
	kp     seal.KeyProvider // to re-read the KEK for RotateKEK
	opts   Options
	log    *slog.Logger
	clock  Clock
	wake   chan struct{}

	// wmu spans a write transaction and the counter update after it, so
	// that eviction in the next transaction sees exact counts.
	wmu sync.Mutex

	mu        sync.Mutex
	closed    bool
	hitsN     int
	routineN  int
	hitsB     int64
	routineB  int64
	evicted   uint64
	diskFull  bool
	lastError string
	link      LinkStatus
}

// Open opens or creates the outbox at path (mode 0600). The data key is
// created on first use and wrapped with kp's key-encryption key; a wrong KEK
// gives seal.ErrWrongKey.
func Open(path string, kp seal.KeyProvider, opts Options) (*Outbox, error) {
	if opts.UnitID != "" {
		if err := pki.ValidUnitID(opts.UnitID); err != nil {
			return nil, fmt.Errorf("outbox: %w", err)
		}
	}
	if kp == nil {
		return nil, errors.New("outbox: no key provider")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Second
	}
	if opts.Clock == nil {
		opts.Clock = backoff.SystemClock{}
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	kek, err := kp.KEK()
	if err != nil {
		return nil, fmt.Errorf("outbox: key %s: %w", kp, err)
	}
	defer seal.Wipe(kek)
	durable := atomicfile.SyncDirIfCreated(path)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.Timeout, NoSync: opts.NoSync, NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("%w: %s", ErrLocked, path)
	}
	if err != nil {
		return nil, fmt.Errorf("outbox: open %s: %w", path, diskErr(err))
	}
	if err := durable(); err != nil { // a new outbox's name survives a power cut
		db.Close()
		return nil, fmt.Errorf("outbox: open %s: %w", path, diskErr(err))
	}
	o := &Outbox{db: db, kp: kp, opts: opts, log: log, clock: opts.Clock, wake: make(chan struct{}, 1)}
	var dek []byte
	err = db.Update(func(tx *bolt.Tx) error {
		meta, d, err := sealdb.Init(tx, layout, kek)
		dek = d
		if err != nil {
			return err
		}
		switch u := meta.Get(keyUnit); {
		case u == nil && opts.UnitID == "":
			return ErrNoUnit
		case u == nil:
			if err := meta.Put(keyUnit, []byte(opts.UnitID)); err != nil {
				return err
			}
		case opts.UnitID == "":
			opts.UnitID = string(u)
		case string(u) != opts.UnitID:
			return fmt.Errorf("%w: file belongs to %q, opened as %q", ErrUnitMismatch, u, opts.UnitID)
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("outbox: %w", diskErr(err))
	}
	defer seal.Wipe(dek)
	o.opts.UnitID = opts.UnitID
	if o.sealer, err = seal.NewSealer(dek); err != nil {
		db.Close()
		return nil, fmt.Errorf("outbox: %w", err)
	}
	err = db.View(func(tx *bolt.Tx) error {
		o.evicted = getUint(tx.Bucket(bucketMeta), keyEvicted)
		count := func(name []byte, n *int, sz *int64) error {
			return tx.Bucket(name).ForEach(func(_, v []byte) error {
				*n++
				*sz += int64(len(v))
				return nil
			})
		}
		if err := count(bucketHits, &o.hitsN, &o.hitsB); err != nil {
			return err
		}
		return count(bucketRoutine, &o.routineN, &o.routineB)
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("outbox: %w", err)
	}
	log.Debug("outbox opened", "depth", o.hitsN+o.routineN, "hits", o.hitsN)
	return o, nil
}

// UnitID returns the unit id the outbox was opened with.
func (o *Outbox) UnitID() string { return o.opts.UnitID }

// Enqueue stores item durably and returns its sequence number and
// idempotency key. When it returns nil the item survives kill -9 and power
// loss.
func (o *Outbox) Enqueue(ctx context.Context, item Item) (Entry, error) {
	if err := ctx.Err(); err != nil {
		return Entry{}, err
	}
	if item.CreatedAt.IsZero() {
		item.CreatedAt = o.clock.Now()
	}
	rec := Record{
		Key:       o.opts.UnitID + ":" + randomHex(16),
		Kind:      item.Kind,
		Priority:  item.Priority,
		CreatedAt: item.CreatedAt.UTC(),
		Payload:   item.Payload,
	}
	if err := rec.Validate(); err != nil {
		return Entry{}, err
	}
	if o.isClosed() {
		return Entry{}, ErrClosed
	}
	class := classBucket(rec.Priority)
	var (
		evicted     int
		evictedSize int64
		valueSize   int64
	)
	o.wmu.Lock()
	err := o.db.Update(func(tx *bolt.Tx) error {
		evicted, evictedSize = 0, 0
		meta := tx.Bucket(bucketMeta)
		rec.Seq = getUint(meta, keySeq) + 1
		if err := putUint(meta, keySeq, rec.Seq); err != nil {
			return err
		}
		plain, err := marshal(&rec)
		if err != nil {
			return err
		}
		k := seqKey(rec.Seq)
		v := o.encode(class, k, rec.Key, plain)
		valueSize = int64(len(v))
		if err := tx.Bucket(class).Put(k, v); err != nil {
			return err
		}
		if err := tx.Bucket(bucketIndex).Put([]byte(rec.Key), indexValue(class, rec.Seq)); err != nil {
			return err
		}
		if rec.Priority == Routine {
			evicted, evictedSize, err = o.evict(tx, valueSize)
			if err != nil {
				return err
			}
			if evicted > 0 {
				return putUint(meta, keyEvicted, getUint(meta, keyEvicted)+uint64(evicted))
			}
		}
		return nil
	})
	if err == nil {
		o.mu.Lock()
		o.diskFull = false
		if rec.Priority == Hit {
			o.hitsN++
			o.hitsB += valueSize
		} else {
			o.routineN += 1 - evicted
			o.routineB += valueSize - evictedSize
			o.evicted += uint64(evicted)
		}
		o.mu.Unlock()
	}
	o.wmu.Unlock()
	if err != nil {
		err = diskErr(err)
		o.mu.Lock()
		o.diskFull = errors.Is(err, ErrDiskFull)
		o.lastError = err.Error()
		o.mu.Unlock()
		if errors.Is(err, bolt.ErrDatabaseNotOpen) {
			return Entry{}, ErrClosed
		}
		o.log.Error("outbox enqueue failed", "err", err)
		return Entry{}, fmt.Errorf("outbox: enqueue: %w", err)
	}
	if evicted > 0 {
		o.log.Warn("outbox routine quota exceeded: oldest routine records evicted", "evicted", evicted, "evicted_total", o.Status().Evicted)
		if o.opts.OnEvict != nil {
			o.opts.OnEvict(evicted)
		}
	}
	select {
	case o.wake <- struct{}{}:
	default:
	}
	return Entry{Seq: rec.Seq, IdempotencyKey: rec.Key}, nil
}

// evict deletes the oldest routine records until the quota holds, counting
// the record being added (already in the bucket).
func (o *Outbox) evict(tx *bolt.Tx, added int64) (n int, size int64, err error) {
	q := o.opts.RoutineQuota
	if q.Items <= 0 && q.Bytes <= 0 {
		return 0, 0, nil
	}
	o.mu.Lock()
	count, bytes := o.routineN+1, o.routineB+added
	o.mu.Unlock()
	b, idx := tx.Bucket(bucketRoutine), tx.Bucket(bucketIndex)
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.First() {
		over := (q.Items > 0 && count > q.Items) || (q.Bytes > 0 && bytes > q.Bytes)
		if !over || count <= 1 { // never evict the record being added
			break
		}
		key, _, err := splitValue(v)
		if err != nil {
			return n, size, err
		}
		sz := int64(len(v))
		if err := idx.Delete(key); err != nil {
			return n, size, err
		}
		if err := c.Delete(); err != nil {
			return n, size, err
		}
		n++
		size += sz
		count--
		bytes -= sz
	}
	return n, size, nil
}

// Peek returns up to maxItems records (and about maxBytes of payload; at
// least one record if any), hits first, each class in enqueue order. It does
// not remove them.
func (o *Outbox) Peek(maxItems int, maxBytes int64) ([]Record, error) {
	if o.isClosed() {
		return nil, ErrClosed
	}
	if maxItems <= 0 {
		maxItems = 1
	}
	var out []Record
	var total int64
	err := o.db.View(func(tx *bolt.Tx) error {
		for _, class := range [][]byte{bucketHits, bucketRoutine} {
			c := tx.Bucket(class).Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				if len(out) >= maxItems || (maxBytes > 0 && len(out) > 0 && total+int64(len(v)) > maxBytes) {
					return nil
				}
				r, err := o.decode(class, k, v)
				if err != nil {
					return err
				}
				out = append(out, r)
				total += int64(len(v))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("outbox: peek: %w", err)
	}
	return out, nil
}

// Ack deletes the records with the given idempotency keys (those the hub
// confirmed). Unknown keys are ignored; it returns how many were deleted.
func (o *Outbox) Ack(keys []string) (int, error) {
	if o.isClosed() {
		return 0, ErrClosed
	}
	var dHits, dRoutine int
	var bHits, bRoutine int64
	o.wmu.Lock()
	defer o.wmu.Unlock()
	err := o.db.Update(func(tx *bolt.Tx) error {
		dHits, dRoutine, bHits, bRoutine = 0, 0, 0, 0
		idx := tx.Bucket(bucketIndex)
		for _, key := range keys {
			iv := idx.Get([]byte(key))
			if len(iv) != 9 {
				continue
			}
			class := bucketRoutine
			if iv[0] == 'h' {
				class = bucketHits
			}
			b := tx.Bucket(class)
			k := iv[1:]
			v := b.Get(k)
			if v != nil {
				if iv[0] == 'h' {
					dHits++
					bHits += int64(len(v))
				} else {
					dRoutine++
					bRoutine += int64(len(v))
				}
				if err := b.Delete(k); err != nil {
					return err
				}
			}
			if err := idx.Delete([]byte(key)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		err = diskErr(err)
		return 0, fmt.Errorf("outbox: ack: %w", err)
	}
	o.mu.Lock()
	o.hitsN -= dHits
	o.routineN -= dRoutine
	o.hitsB -= bHits
	o.routineB -= bRoutine
	o.mu.Unlock()
	return dHits + dRoutine, nil
}

// Status reports queue depth, retention and link state.
func (o *Outbox) Status() Status {
	o.mu.Lock()
	s := Status{
		Unit:      o.opts.UnitID,
		Depth:     o.hitsN + o.routineN,
		Hits:      o.hitsN,
		Routine:   o.routineN,
		Bytes:     o.hitsB + o.routineB,
		Evicted:   o.evicted,
		DiskFull:  o.diskFull,
		LastError: o.lastError,
		Link:      o.link,
	}
	closed := o.closed
	o.mu.Unlock()
	if s.Depth > 0 && !closed {
		s.Oldest = o.oldest()
	}
	return s
}

// oldest is the earliest CreatedAt among the first record of each class.
func (o *Outbox) oldest() time.Time {
	var t time.Time
	o.db.View(func(tx *bolt.Tx) error {
		for _, class := range [][]byte{bucketHits, bucketRoutine} {
			k, v := tx.Bucket(class).Cursor().First()
			if k == nil {
				continue
			}
			if r, err := o.decode(class, k, v); err == nil && (t.IsZero() || r.CreatedAt.Before(t)) {
				t = r.CreatedAt
			}
		}
		return nil
	})
	return t
}

// Wake returns a channel that receives after an Enqueue; the Uploader uses
// it to send new hits without waiting for its poll interval.
func (o *Outbox) Wake() <-chan struct{} { return o.wake }

// Close releases the file. It is idempotent.
func (o *Outbox) Close() error {
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return nil
	}
	o.closed = true
	o.mu.Unlock()
	return o.db.Close()
}

// RotateKEK re-wraps the outbox's data key under newKP's key. Afterwards
// the file opens only with the new key; queued records stay as they are.
func (o *Outbox) RotateKEK(newKP seal.KeyProvider) error {
	if o.isClosed() {
		return ErrClosed
	}
	o.mu.Lock()
	oldKP := o.kp
	o.mu.Unlock()
	oldKEK, err := oldKP.KEK()
	if err != nil {
		return fmt.Errorf("outbox: key %s: %w", oldKP, err)
	}
	defer seal.Wipe(oldKEK)
	newKEK, err := newKP.KEK()
	if err != nil {
		return fmt.Errorf("outbox: new key %s: %w", newKP, err)
	}
	defer seal.Wipe(newKEK)
	if err := o.db.Update(func(tx *bolt.Tx) error { return sealdb.Rotate(tx, layout, oldKEK, newKEK) }); err != nil {
		return fmt.Errorf("outbox: rotate key: %w", diskErr(err))
	}
	o.mu.Lock()
	o.kp = newKP
	o.mu.Unlock()
	o.log.Info("outbox: key-encryption key rotated")
	return nil
}

func (o *Outbox) isClosed() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.closed
}

func (o *Outbox) setLink(f func(*LinkStatus)) {
	o.mu.Lock()
	f(&o.link)
	o.mu.Unlock()
}

// encode builds a stored value; associated data binds it to bucket and key.
func (o *Outbox) encode(class, k []byte, key string, plain []byte) []byte {
	v := binary.AppendUvarint(nil, uint64(len(key)))
	v = append(v, key...)
	return o.sealer.Seal(v, plain, ad(class, k))
}

func (o *Outbox) decode(class, k, v []byte) (Record, error) {
	key, sealed, err := splitValue(v)
	if err != nil {
		return Record{}, err
	}
	plain, err := o.sealer.Open(nil, sealed, ad(class, k))
	if err != nil {
		return Record{}, fmt.Errorf("%w: seq %d", ErrCorrupt, binary.BigEndian.Uint64(k))
	}
	var r Record
	if err := json.Unmarshal(plain, &r); err != nil || r.Key != string(key) {
		return Record{}, fmt.Errorf("%w: seq %d", ErrCorrupt, binary.BigEndian.Uint64(k))
	}
	return r, nil
}

func splitValue(v []byte) (key, sealed []byte, err error) {
	n, l := binary.Uvarint(v)
	if l <= 0 || n > MaxKeyLen || uint64(len(v)-l) < n {
		return nil, nil, ErrCorrupt
	}
	return v[l : l+int(n)], v[l+int(n):], nil
}

func ad(class, k []byte) []byte {
	a := make([]byte, 0, len(class)+1+len(k))
	a = append(a, class...)
	a = append(a, '/')
	return append(a, k...)
}

func classBucket(p Priority) []byte {
	if p == Hit {
		return bucketHits
	}
	return bucketRoutine
}

func indexValue(class []byte, seq uint64) []byte {
	v := make([]byte, 9)
	v[0] = class[0] // 'h' or 'r'
	binary.BigEndian.PutUint64(v[1:], seq)
	return v
}

func seqKey(seq uint64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, seq)
	return k
}

func getUint(b *bolt.Bucket, k []byte) uint64 {
	v := b.Get(k)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

func putUint(b *bolt.Bucket, k []byte, n uint64) error {
	return b.Put(k, seqKey(n))
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := io.ReadFull(rand.Reader, b); err != nil {
		panic("outbox: crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b)
}

// diskErr maps "no space" conditions to ErrDiskFull, keeping the cause.
// Some bbolt paths (file resize) format the errno with %s, so the message
// is checked too.
func diskErr(err error) error {
	if err == nil {
		return nil
	}
	full := errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || errors.Is(err, syscall.EFBIG)
	if !full {
		msg := err.Error()
		for _, errno := range []syscall.Errno{syscall.ENOSPC, syscall.EDQUOT, syscall.EFBIG} {
			if strings.Contains(msg, errno.Error()) {
				full = true
			}
		}
	}
	if full {
		return fmt.Errorf("%w (%w)", ErrDiskFull, err)
	}
	return err
}
