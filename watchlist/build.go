package watchlist

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/checkpoint-edge/checkpoint/watchlist/faceindex"
)

// A full import writes bbolt in key order: blind keys are uniformly random,
// and bbolt inserts sequential keys into full pages an order of magnitude
// faster than random ones. Encoded entries are collected in an arena; past
// Options.MemoryRecords they are spread over 256 partition files by the
// first key byte, and each partition is sorted in memory and appended.
//
// Arena entry: sub (1) | key length (1) | value length (4, LE) | key | value.

const numPartitions = 256

// txEntries bounds the entries written per bbolt transaction, so a
// 100-million-record import holds a bounded set of dirty pages.
const txEntries = 1 << 20

type arena struct {
	buf  []byte
	offs []uint32
}

func (a *arena) add(sub byte, key, val []byte) {
	a.offs = append(a.offs, uint32(len(a.buf)))
	var h [6]byte
	h[0], h[1] = sub, byte(len(key))
	binary.LittleEndian.PutUint32(h[2:], uint32(len(val)))
	a.buf = append(a.buf, h[:]...)
	a.buf = append(a.buf, key...)
	a.buf = append(a.buf, val...)
}

func (a *arena) entry(i int) (sub byte, key, val []byte) {
	o := int(a.offs[i])
	sub, kl := a.buf[o], int(a.buf[o+1])
	vl := int(binary.LittleEndian.Uint32(a.buf[o+2:]))
	key = a.buf[o+6 : o+6+kl]
	return sub, key, a.buf[o+6+kl : o+6+kl+vl]
}

func (a *arena) sort() {
	slices.SortFunc(a.offs, func(x, y uint32) int {
		bx, by := a.buf[x:], a.buf[y:]
		if bx[0] != by[0] {
			return int(bx[0]) - int(by[0])
		}
		kx, ky := bx[6:6+int(bx[1])], by[6:6+int(by[1])]
		return bytes.Compare(kx, ky)
	})
}

func (a *arena) reset() { a.buf, a.offs = a.buf[:0], a.offs[:0] }

// parse rebuilds the offsets of an arena read back from a partition file.
func (a *arena) parse() error {
	a.offs = a.offs[:0]
	for o := 0; o < len(a.buf); {
		if len(a.buf)-o < 6 {
			return fmt.Errorf("%w: truncated spill file", ErrCorrupt)
		}
		n := 6 + int(a.buf[o+1]) + int(binary.LittleEndian.Uint32(a.buf[o+2:]))
		if len(a.buf)-o < n {
			return fmt.Errorf("%w: truncated spill file", ErrCorrupt)
		}
		a.offs = append(a.offs, uint32(o))
		o += n
	}
	return nil
}

// spill is the set of partition files of one import.
type spill struct {
	dir   string
	files [numPartitions]*os.File
	w     [numPartitions]*bufio.Writer
}

func newSpill(parent string) (*spill, error) {
	dir, err := os.MkdirTemp(parent, ".watchlist-import-*")
	if err != nil {
		return nil, fmt.Errorf("watchlist: spill: %w", err)
	}
	sp := &spill{dir: dir}
	for i := range sp.files {
		f, err := os.OpenFile(filepath.Join(dir, fmt.Sprintf("%02x", i)), os.O_CREATE|os.O_RDWR|os.O_TRUNC, 0o600)
		if err != nil {
			sp.remove()
			return nil, fmt.Errorf("watchlist: spill: %w", err)
		}
		sp.files[i] = f
		sp.w[i] = bufio.NewWriterSize(f, 64<<10)
	}
	return sp, nil
}

func (sp *spill) write(a *arena) error {
	for i := range a.offs {
		o := int(a.offs[i])
		n := 6 + int(a.buf[o+1]) + int(binary.LittleEndian.Uint32(a.buf[o+2:]))
		if _, err := sp.w[a.buf[o+6]].Write(a.buf[o : o+n]); err != nil {
			return fmt.Errorf("watchlist: spill: %w", err)
		}
	}
	return nil
}

func (sp *spill) flush() error {
	for _, w := range sp.w {
		if err := w.Flush(); err != nil {
			return fmt.Errorf("watchlist: spill: %w", err)
		}
	}
	return nil
}

func (sp *spill) load(i int, a *arena) error {
	f := sp.files[i]
	st, err := f.Stat()
	if err != nil {
		return err
	}
	a.buf = slices.Grow(a.buf[:0], int(st.Size()))[:st.Size()]
	if _, err := f.ReadAt(a.buf, 0); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("watchlist: spill: %w", err)
	}
	// The partition is consumed: give the disk space back early.
	f.Truncate(0)
	return a.parse()
}

func (sp *spill) remove() {
	for _, f := range sp.files {
		if f != nil {
			f.Close()
		}
	}
	os.RemoveAll(sp.dir)
}

// builder collects a full snapshot into a new generation.
type builder struct {
	s         *Store
	gen       uint64
	faceModel string
	mem       arena
	spill     *spill
	hash      StateHash
	docs      int64
	persons   int64
	faces     int64
	tokens    map[blindKey]uint32
	keyCounts map[[nameKeySize]byte]uint32
	index     *faceindex.Index
	refs      []blindKey
}

func (b *builder) add(sub []byte, key, val []byte) error {
	b.mem.add(sub[0], key, val)
	if len(b.mem.offs) >= b.s.opts.MemoryRecords || len(b.mem.buf) > 1<<30 {
		return b.spillMem()
	}
	return nil
}

func (b *builder) spillMem() error {
	if b.spill == nil {
		dir := b.s.opts.SpillDir
		if dir == "" {
			dir = filepath.Dir(b.s.path)
		}
		sp, err := newSpill(dir)
		if err != nil {
			return err
		}
		b.spill = sp
		b.s.log.Info("watchlist: import spills to sorted partitions", "entries", len(b.mem.offs))
	}
	err := b.spill.write(&b.mem)
	b.mem.reset()
	return err
}

// encodedChange is one snapshot record, encoded (sealed, blinded and
// digested) by a worker.
type encodedChange struct {
	n      int64 // 1-based position in the source, for errors
	id     string
	doc    *encodedDoc
	person *encodedPerson
	err    error
}

func (b *builder) encode(c *Change) encodedChange {
	ec := encodedChange{id: c.ID}
	if c.Op != OpPut {
		ec.err = fmt.Errorf("%w: %s %q in a full snapshot", ErrBadRecord, c.Op, c.ID)
		return ec
	}
	switch c.Kind {
	case KindDocument:
		e, err := b.s.encodeDocument(c.Document)
		ec.doc, ec.err = &e, err
	case KindPerson:
		e, err := b.s.encodePerson(c.Person, b.faceModel)
		ec.person, ec.err = &e, err
	default:
		ec.err = fmt.Errorf("%w: unknown kind %q", ErrBadRecord, c.Kind)
	}
	return ec
}

// collect adds an encoded record to the snapshot; one goroutine only.
func (b *builder) collect(ec *encodedChange) error {
	if ec.doc != nil {
		e := ec.doc
		b.hash.Add(e.digest)
		b.docs++
		if err := b.add(subDocs, e.key[:], e.sealed); err != nil {
			return err
		}
		return b.add(subDocIDs, e.idKey[:], e.key[:])
	}
	e := ec.person
	b.hash.Add(e.digest)
	b.persons++
	if err := b.add(subPersons, e.key[:], e.sealed); err != nil {
		return err
	}
	for _, nk := range e.nameKeys {
		if err := b.add(subNameIdx, append(nk[:], e.key[:]...), nil); err != nil {
			return err
		}
		b.keyCounts[nk]++
	}
	for _, t := range e.tokens {
		b.tokens[t]++
	}
	for _, f := range e.faces {
		if err := b.add(subFaces, f.key[:], f.sealed); err != nil {
			return err
		}
		if b.index == nil {
			idx, err := faceindex.New(b.faceModel, len(f.vec), faceindex.Options{Capacity: 1024})
			if err != nil {
				return fmt.Errorf("watchlist: face index: %w", err)
			}
			b.index = idx
		}
		if err := b.index.Add("", f.vec); err != nil {
			return fmt.Errorf("%w: person %q: %v", ErrBadRecord, ec.id, err)
		}
		b.refs = append(b.refs, e.key)
		b.faces++
	}
	return nil
}

// consume reads the source and encodes its changes on every core (sealing,
// HMACs and digests dominate an import), collecting them in one goroutine.
// Order does not matter: the state hash is a sum and the store sorts.
func (b *builder) consume(ctx context.Context, src ChangeSource) (int64, error) {
	const batchSize = 256
	type batch struct {
		changes []Change
		first   int64
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	jobs := make(chan batch, 4)
	results := make(chan []encodedChange, 4)
	var wg sync.WaitGroup
	for range max(runtime.GOMAXPROCS(0), 1) {
		wg.Go(func() {
			for bt := range jobs {
				out := make([]encodedChange, len(bt.changes))
				for i := range bt.changes {
					c := &bt.changes[i]
					if err := c.Validate(); err != nil {
						out[i] = encodedChange{err: err}
					} else {
						out[i] = b.encode(c)
					}
					out[i].n = bt.first + int64(i)
				}
				select {
				case results <- out:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	collected := make(chan error, 1)
	go func() {
		var first error
		for out := range results {
			if first != nil {
				continue
			}
			for i := range out {
				err := out[i].err
				if err == nil {
					err = b.collect(&out[i])
				}
				if err != nil {
					first = fmt.Errorf("change %d: %w", out[i].n, err)
					cancel(first)
					break
				}
			}
		}
		collected <- first
	}()

	var n int64
	var readErr error
	cur := batch{first: 1}
send:
	for {
		c, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			readErr = fmt.Errorf("watchlist: read change %d: %w", n+1, err)
			break
		}
		cur.changes = append(cur.changes, c)
		n++
		if len(cur.changes) == batchSize {
			select {
			case jobs <- cur:
			case <-ctx.Done():
				break send
			}
			cur = batch{first: n + 1, changes: make([]Change, 0, batchSize)}
		}
		if n%10000 == 0 && b.s.opts.Progress != nil {
			b.s.opts.Progress(n)
		}
	}
	if len(cur.changes) > 0 && readErr == nil {
		select {
		case jobs <- cur:
		case <-ctx.Done():
		}
	}
	close(jobs)
	wg.Wait()
	close(results)
	collectErr := <-collected
	switch {
	case collectErr != nil:
		return n, collectErr
	case readErr != nil:
		return n, readErr
	}
	if err := context.Cause(ctx); err != nil {
		return n, err
	}
	if b.s.opts.Progress != nil {
		b.s.opts.Progress(n)
	}
	return n, nil
}

// write appends the sorted arena to the generation's buckets, txEntries per
// transaction. Duplicate keys mean duplicate ids (an error), except in the
// name index where two name forms may yield the same key.
func (b *builder) write(ctx context.Context, a *arena) error {
	a.sort()
	var prevSub byte
	var prevKey []byte
	for start := 0; start < len(a.offs); start += txEntries {
		if err := checkCtx(ctx); err != nil {
			return err
		}
		end := min(start+txEntries, len(a.offs))
		err := b.s.db.Update(func(tx *bolt.Tx) error {
			g := tx.Bucket(genName(b.gen))
			if g == nil {
				return fmt.Errorf("%w: generation bucket vanished", ErrCorrupt)
			}
			var cur *bolt.Bucket
			var curSub byte
			for i := start; i < end; i++ {
				sub, key, val := a.entry(i)
				if sub == prevSub && bytes.Equal(key, prevKey) {
					if sub == subNameIdx[0] {
						continue
					}
					return fmt.Errorf("%w: duplicate id in snapshot (%s)", ErrBadRecord, bucketKind(sub))
				}
				prevSub, prevKey = sub, key
				if cur == nil || sub != curSub {
					cur = g.Bucket([]byte{sub})
					cur.FillPercent = 1.0 // keys arrive in order: fill pages
					curSub = sub
				}
				if err := cur.Put(key, val); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func bucketKind(sub byte) string {
	switch sub {
	case subDocs[0], subDocIDs[0]:
		return "document"
	case subPersons[0], subFaces[0]:
		return "person"
	}
	return string(sub)
}

func (b *builder) abort() {
	if b.spill != nil {
		b.spill.remove()
	}
	if b.index != nil {
		b.index.Close()
	}
	b.s.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(genName(b.gen)) != nil {
			return tx.DeleteBucket(genName(b.gen))
		}
		return nil
	})
}

// ReplaceAll installs a full snapshot: every change must be a put. The new
// version is built beside the installed one, checked against
// meta.StateHash when set (ErrStateMismatch) and made current in one final
// transaction; on any error the installed version is untouched. The counts,
// state hash and install time of meta are filled by the store.
func (s *Store) ReplaceAll(ctx context.Context, meta Meta, src ChangeSource) (err error) {
	return s.replaceAll(ctx, meta, src, false)
}

func (s *Store) replaceAll(ctx context.Context, meta Meta, src ChangeSource, replaceSigned bool) (err error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if s.isClosed() {
		return ErrClosed
	}
	if s.opts.ReadOnly {
		return fmt.Errorf("watchlist: store opened read-only")
	}
	t0 := time.Now()
	s.mu.RLock()
	cur := s.cur
	s.mu.RUnlock()
	if err := s.checkReplace(cur, meta, replaceSigned); err != nil {
		return err
	}
	b := &builder{s: s, gen: cur.gen + 1, faceModel: meta.FaceModelID, tokens: make(map[blindKey]uint32), keyCounts: make(map[[nameKeySize]byte]uint32)}
	err = s.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(genName(b.gen)) != nil {
			if err := tx.DeleteBucket(genName(b.gen)); err != nil {
				return err
			}
		}
		g, err := tx.CreateBucket(genName(b.gen))
		if err != nil {
			return err
		}
		for _, sub := range subBuckets {
			if _, err := g.CreateBucket(sub); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("watchlist: new generation: %w", err)
	}
	installed := false
	defer func() {
		if !installed {
			b.abort()
		}
	}()

	if _, err := b.consume(ctx, src); err != nil {
		return err
	}
	got := b.hash.String()
	if meta.StateHash != "" && meta.StateHash != got {
		return fmt.Errorf("%w: snapshot hashes to %s, announced %s", ErrStateMismatch, got, meta.StateHash)
	}
	var tv [4]byte
	for t, c := range b.tokens {
		binary.BigEndian.PutUint32(tv[:], c)
		if err := b.add(subTokenFrq, t[:], tv[:]); err != nil {
			return err
		}
	}
	for k, c := range b.keyCounts {
		binary.BigEndian.PutUint32(tv[:], c)
		if err := b.add(subKeyCount, k[:], tv[:]); err != nil {
			return err
		}
	}
	b.tokens, b.keyCounts = nil, nil
	encoded := time.Since(t0)
	if b.spill != nil {
		if err := b.spillMem(); err != nil {
			return err
		}
		if err := b.spill.flush(); err != nil {
			return err
		}
		for i := range numPartitions {
			if err := b.spill.load(i, &b.mem); err != nil {
				return err
			}
			if err := b.write(ctx, &b.mem); err != nil {
				return err
			}
		}
	} else if err := b.write(ctx, &b.mem); err != nil {
		return err
	}
	b.mem = arena{}

	meta.Documents, meta.Persons, meta.Faces = b.docs, b.persons, b.faces
	meta.StateHash = got
	meta.InstalledAt = time.Now().UTC()
	tx, err := s.db.Begin(true)
	if err != nil {
		return fmt.Errorf("watchlist: flip: %w", err)
	}
	defer tx.Rollback()
	if err := s.writeMeta(tx.Bucket(genName(b.gen)), b.gen, meta); err != nil {
		return fmt.Errorf("watchlist: flip: %w", err)
	}
	var gb [8]byte
	binary.BigEndian.PutUint64(gb[:], b.gen)
	if err := tx.Bucket(bucketStore).Put(keyCurrent, gb[:]); err != nil {
		return fmt.Errorf("watchlist: flip: %w", err)
	}
	if err := s.keepSignedMark(tx, cur, meta); err != nil {
		return fmt.Errorf("watchlist: flip: %w", err)
	}
	sn := &snapshot{gen: b.gen, meta: meta, faces: b.index, faceRefs: b.refs, persons: newPersonCache(s.opts.PersonCache)}
	if err := s.install(tx, sn); err != nil {
		return err
	}
	installed = true
	if b.spill != nil {
		b.spill.remove()
	}
	s.log.Info("watchlist: snapshot installed", "sequence", meta.Sequence, "generation", b.gen,
		"documents", b.docs, "persons", b.persons, "faces", b.faces,
		"encode", encoded, "took", time.Since(t0))

	// The old generation is dropped in its own transaction: a crash here
	// leaves it for Open to clean, and readers that pinned it before the
	// flip keep their consistent view until they finish.
	if cur.gen != 0 {
		if err := s.db.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket(genName(cur.gen)) }); err != nil {
			s.log.Warn("watchlist: old generation not dropped; Open will retry", "generation", cur.gen, "err", err)
		}
	}
	return nil
}
