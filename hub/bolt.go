package hub

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/checkpoint-edge/checkpoint/audit"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/internal/sealdb"
)

var (
	bucketMeta    = []byte("meta")
	bucketKeys    = []byte("keys")    // idempotency key -> unit NUL seq
	bucketUnits   = []byte("units")   // unit id -> UnitInfo JSON
	bucketResults = []byte("results") // unit id -> bucket of seq -> sealed Stored

	boltLayout = sealdb.Layout{
		Meta: bucketMeta, Format: "checkpoint-hub/1", DEKAD: []byte("checkpoint/hub/dek"),
		Buckets: [][]byte{bucketKeys, bucketUnits, bucketResults},
	}
)

// BoltOptions configure OpenBolt.
type BoltOptions struct {
	// Timeout bounds the wait for the file lock (default 5 s).
	Timeout time.Duration
	// NoSync disables fsync (benchmarks of the unit side only).
	NoSync bool
	Logger *slog.Logger
	// Now defaults to time.Now.
	Now func() time.Time
}

// boltStore is the embedded Store: one sealed bbolt file, one process.
// Analyst queries decrypt and scan, which is fine for the tests, the demo
// and small fleets; a national fleet uses PostgreSQL.
type boltStore struct {
	db     *bolt.DB
	sealer *seal.Sealer
	kp     seal.KeyProvider
	log    *slog.Logger
	now    func() time.Time

	mu       sync.Mutex
	closed   bool
	watchers map[int]func([]Stored)
	nextW    int
}

// OpenBolt opens or creates the bbolt store at path (0600), sealed with
// kp. It holds the file lock until Close.
func OpenBolt(path string, kp seal.KeyProvider, o BoltOptions) (Store, error) {
	if kp == nil {
		return nil, errors.New("hub: no key provider")
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	kek, err := kp.KEK()
	if err != nil {
		return nil, fmt.Errorf("hub: key %s: %w", kp, err)
	}
	defer seal.Wipe(kek)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: o.Timeout, NoSync: o.NoSync})
	if err != nil {
		return nil, fmt.Errorf("hub: open %s: %w", path, err)
	}
	var dek []byte
	err = db.Update(func(tx *bolt.Tx) (err error) {
		_, dek, err = sealdb.Init(tx, boltLayout, kek)
		return err
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("hub: %w", err)
	}
	defer seal.Wipe(dek)
	s, err := seal.NewSealer(dek)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("hub: %w", err)
	}
	return &boltStore{db: db, kp: kp, sealer: s, log: o.Logger, now: o.Now, watchers: map[int]func([]Stored){}}, nil
}

func (b *boltStore) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	return b.db.Close()
}

func (b *boltStore) RotateKEK(_ context.Context, newKP seal.KeyProvider) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	oldKEK, newKEK, err := rotationKEKs(b.kp, newKP)
	if err != nil {
		return err
	}
	defer seal.Wipe(oldKEK)
	defer seal.Wipe(newKEK)
	if err := b.db.Update(func(tx *bolt.Tx) error { return sealdb.Rotate(tx, boltLayout, oldKEK, newKEK) }); err != nil {
		return fmt.Errorf("hub: rotate key: %w", err)
	}
	b.kp = newKP
	return nil
}

func (b *boltStore) Ingest(ctx context.Context, req IngestRequest) (IngestResult, error) {
	res := IngestResult{Unit: req.Unit}
	if err := checkRequest(&req); err != nil {
		return res, err
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	now := b.now().UTC()
	err := b.db.Update(func(tx *bolt.Tx) error {
		res = IngestResult{Unit: req.Unit, Acked: make([]string, 0, len(req.Records))}
		keys, units := tx.Bucket(bucketKeys), tx.Bucket(bucketUnits)
		rb, err := tx.Bucket(bucketResults).CreateBucketIfNotExists([]byte(req.Unit))
		if err != nil {
			return err
		}
		info := UnitInfo{Unit: req.Unit, FirstContact: now}
		if v := units.Get([]byte(req.Unit)); v != nil {
			if err := json.Unmarshal(v, &info); err != nil {
				return fmt.Errorf("unit record: %w", err)
			}
		}
		seen := make(map[string]bool, len(req.Records))
		for _, r := range req.Records {
			res.Acked = append(res.Acked, r.Key)
			if seen[r.Key] || keys.Get([]byte(r.Key)) != nil {
				res.Duplicates++
				continue
			}
			seen[r.Key] = true
			seq, _ := rb.NextSequence()
			st := Stored{Record: r, Unit: req.Unit, UnitSeq: seq, ReceivedAt: now, Source: req.Source}
			v, err := sealStored(b.sealer, &st)
			if err != nil {
				return err
			}
			k := seqKey(seq)
			if err := rb.Put(k, v); err != nil {
				return err
			}
			if err := keys.Put([]byte(r.Key), append([]byte(req.Unit+"\x00"), k...)); err != nil {
				return err
			}
			if feedWorthy(&r, metaOf(&r)) {
				res.Feed = append(res.Feed, st)
			}
			res.New++
		}
		if req.Audit != nil {
			var ack audit.Ack
			info.Audit, ack, res.AuditFlag = judgeAnchor(info.Audit, req.Unit, req.Audit, req.UnitKey, now)
			res.Audit = &ack
		}
		info.LastContact = now
		info.Records += uint64(res.New)
		info.Duplicates += uint64(res.Duplicates)
		if req.Source == SourceImport {
			info.LastImport = now
		}
		v, err := json.Marshal(&info)
		if err != nil {
			return err
		}
		return units.Put([]byte(req.Unit), v)
	})
	if err != nil {
		if errors.Is(err, bolt.ErrDatabaseNotOpen) {
			return IngestResult{Unit: req.Unit}, ErrClosed
		}
		return IngestResult{Unit: req.Unit}, fmt.Errorf("%w: ingest: %w", ErrUnavailable, err)
	}
	if len(res.Feed) > 0 {
		b.notify(res.Feed)
	}
	return res, nil
}

func (b *boltStore) notify(feed []Stored) {
	b.mu.Lock()
	fns := make([]func([]Stored), 0, len(b.watchers))
	for _, fn := range b.watchers {
		fns = append(fns, fn)
	}
	b.mu.Unlock()
	for _, fn := range fns {
		fn(feed)
	}
}

func (b *boltStore) Watch(ctx context.Context, fn func([]Stored)) error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return ErrClosed
	}
	id := b.nextW
	b.nextW++
	b.watchers[id] = fn
	b.mu.Unlock()
	<-ctx.Done()
	b.mu.Lock()
	delete(b.watchers, id)
	b.mu.Unlock()
	return nil
}

func (b *boltStore) ResetAudit(_ context.Context, unit string) error {
	err := b.db.Update(func(tx *bolt.Tx) error {
		units := tx.Bucket(bucketUnits)
		v := units.Get([]byte(unit))
		if v == nil {
			return ErrUnknownUnit
		}
		var info UnitInfo
		if err := json.Unmarshal(v, &info); err != nil {
			return err
		}
		info.Audit.Reset, info.Audit.Flag, info.Audit.Detail, info.Audit.FlaggedAt = true, "", "", time.Time{}
		nv, err := json.Marshal(&info)
		if err != nil {
			return err
		}
		return units.Put([]byte(unit), nv)
	})
	return b.wrap(err)
}

// Lead: one process holds the bbolt file, so it always leads.
func (b *boltStore) Lead(context.Context, string) (<-chan struct{}, func(), bool, error) {
	return make(chan struct{}), func() {}, true, nil
}

func (b *boltStore) wrap(err error) error {
	switch {
	case err == nil, errors.Is(err, ErrUnknownUnit), errors.Is(err, ErrBadQuery):
		return err
	case errors.Is(err, bolt.ErrDatabaseNotOpen):
		return ErrClosed
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

func (b *boltStore) Units(context.Context) ([]UnitInfo, error) {
	var out []UnitInfo
	err := b.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketUnits).ForEach(func(_, v []byte) error {
			var u UnitInfo
			if err := json.Unmarshal(v, &u); err != nil {
				return err
			}
			out = append(out, u)
			return nil
		})
	})
	return out, b.wrap(err)
}

// match is a result that passed the filters, before it is decrypted.
type match struct {
	created time.Time
	unit    string
	seq     uint64
	st      Stored
}

func (b *boltStore) Results(ctx context.Context, q Query) (Page, error) {
	if err := q.normalize(); err != nil {
		return Page{}, err
	}
	cur, err := parseCursor(q)
	if err != nil {
		return Page{}, err
	}
	var page Page
	err = b.db.View(func(tx *bolt.Tx) error {
		all := tx.Bucket(bucketResults)
		units := []string{q.Unit}
		if q.Unit == "" {
			units = nil
			all.ForEach(func(k, _ []byte) error { units = append(units, string(k)); return nil })
		} else if all.Bucket([]byte(q.Unit)) == nil {
			return ErrUnknownUnit
		}
		var found []match
		for _, u := range units {
			rb := all.Bucket([]byte(u))
			if rb == nil {
				continue
			}
			c := rb.Cursor()
			start := seqKey(1)
			if q.Order == OrderArrival {
				start = seqKey(max(q.After, cur.seq) + 1)
			}
			for k, v := c.Seek(start); k != nil; k, v = c.Next() {
				if err := ctx.Err(); err != nil {
					return err
				}
				seq := binary.BigEndian.Uint64(k)
				st, err := openStored(b.sealer, u, seq, v)
				if err != nil {
					return err
				}
				if !q.matches(&st) {
					continue
				}
				if q.Order == OrderTime && !cur.precedes(st.CreatedAt, u, seq) {
					continue
				}
				found = append(found, match{created: st.CreatedAt, unit: u, seq: seq, st: st})
				if q.Order == OrderArrival && len(found) > q.Limit {
					break
				}
			}
		}
		if q.Order == OrderTime {
			sort.Slice(found, func(i, j int) bool { return timeLess(found[i], found[j]) })
		}
		for i, m := range found {
			if i == q.Limit {
				page.Next = nextCursor(q.Order, page.Results[len(page.Results)-1])
				break
			}
			page.Results = append(page.Results, m.st)
		}
		return nil
	})
	if err != nil {
		return Page{}, b.wrap(err)
	}
	return page, nil
}

func timeLess(a, b match) bool {
	if !qtime(a.created).Equal(qtime(b.created)) {
		return qtime(a.created).Before(qtime(b.created))
	}
	if a.unit != b.unit {
		return a.unit < b.unit
	}
	return a.seq < b.seq
}

// matches applies q's filters (other than order and cursor) to a record.
func (q *Query) matches(st *Stored) bool {
	if !q.Since.IsZero() && qtime(st.CreatedAt).Before(qtime(q.Since)) {
		return false
	}
	if !q.Until.IsZero() && !qtime(st.CreatedAt).Before(qtime(q.Until)) {
		return false
	}
	if q.Kind != "" && st.Kind != q.Kind {
		return false
	}
	if q.Decision == "" && q.Category == "" && q.Entry == "" && q.TxID == "" {
		return true
	}
	m := metaOf(&st.Record)
	if q.TxID != "" && m.TxID != q.TxID {
		return false
	}
	if q.Decision != "" && m.Decision != q.Decision {
		return false
	}
	if q.Category != "" && !slices.Contains(m.Categories, q.Category) {
		return false
	}
	if q.Entry != "" && !slices.Contains(m.Entries, q.Entry) {
		return false
	}
	return true
}

func (b *boltStore) EntryHits(ctx context.Context, q EntryQuery) ([]EntrySummary, error) {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	sums := map[string]*EntrySummary{}
	err := b.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketResults).ForEach(func(u, _ []byte) error {
			rb := tx.Bucket(bucketResults).Bucket(u)
			if rb == nil {
				return nil
			}
			return rb.ForEach(func(k, v []byte) error {
				if err := ctx.Err(); err != nil {
					return err
				}
				st, err := openStored(b.sealer, string(u), binary.BigEndian.Uint64(k), v)
				if err != nil {
					return err
				}
				if (!q.Since.IsZero() && st.CreatedAt.Before(q.Since)) || (!q.Until.IsZero() && !st.CreatedAt.Before(q.Until)) {
					return nil
				}
				m := metaOf(&st.Record)
				if m.Decision != "HIT" {
					return nil
				}
				for _, e := range m.Entries {
					if q.Entry != "" && e != q.Entry {
						continue
					}
					addSummary(sums, e, st.Unit, qtime(st.CreatedAt))
				}
				return nil
			})
		})
	})
	if err != nil {
		return nil, b.wrap(err)
	}
	return sortSummaries(sums, q.Limit), nil
}

func addSummary(sums map[string]*EntrySummary, entry, unit string, at time.Time) {
	s := sums[entry]
	if s == nil {
		s = &EntrySummary{Entry: entry, FirstSeen: at, LastSeen: at}
		sums[entry] = s
	}
	s.Hits++
	if !slices.Contains(s.Units, unit) {
		s.Units = append(s.Units, unit)
	}
	if at.Before(s.FirstSeen) {
		s.FirstSeen = at
	}
	if at.After(s.LastSeen) {
		s.LastSeen = at
	}
}

// sortSummaries orders by hits (most first), then entry.
func sortSummaries(sums map[string]*EntrySummary, limit int) []EntrySummary {
	out := make([]EntrySummary, 0, len(sums))
	for _, s := range sums {
		slices.Sort(s.Units)
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Hits != out[j].Hits {
			return out[i].Hits > out[j].Hits
		}
		return out[i].Entry < out[j].Entry
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// Compile-time check.
var _ Store = (*boltStore)(nil)
