package watchlist

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/checkpoint-edge/checkpoint/internal/atomicfile"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/vision"
	"github.com/checkpoint-edge/checkpoint/watchlist/faceindex"
	"github.com/checkpoint-edge/checkpoint/watchlist/match"
)

// DefaultFaceMaxDistance is the 1:N threshold when Options give none: the
// calibrated one (vision.DefaultThresholds), not dlib's customary 0.6,
// which on our labelled photos accepts 93% of different-person pairs.
var DefaultFaceMaxDistance = vision.DefaultThresholds.Search1toN

// FaceDim is the dimension of dlib's face templates. A watchlist holds the
// templates of one model, of any dimension from vision.MinDim to
// vision.MaxDim (192 for MobileFaceNet); the index takes the dimension of
// the first template.
const FaceDim = vision.DescriptorLen

// Options tune a Store. The zero value is usable.
type Options struct {
	// Timeout bounds the wait for the file lock held by another process;
	// 0 means 5 s (bbolt would otherwise wait forever).
	Timeout time.Duration
	// Logger receives operational messages (counts, durations, generation
	// numbers; never record content). nil discards.
	Logger *slog.Logger
	// MatchConfig tunes person scoring; nil means match.DefaultConfig with
	// token frequencies from the installed watchlist.
	MatchConfig *match.Config
	// Face is how face searches band their candidates (see FacePolicy).
	// Its zero value, or a policy without a calibration, falls back to
	// FaceMaxDistance for both bands.
	Face FacePolicy
	// FaceMaxDistance is the 1:N threshold when Face cannot give one;
	// 0 means DefaultFaceMaxDistance.
	FaceMaxDistance float32
	// MaxCandidates caps the person records decrypted and scored per
	// search (the best-ranked by shared rare keys); 0 means 64.
	MaxCandidates int
	// PersonCache is how many decoded person candidates the installed
	// version keeps for later searches (batch and API/PNR screening meet
	// the same candidates again); 0 means 4096, negative none.
	PersonCache int
	// OnIntegrity is called (from the goroutine that found it) for every
	// value that fails authentication. It must not block.
	OnIntegrity func(*IntegrityError)
	// NoSync skips fsync on commit: benchmarks and tests only.
	NoSync bool
	// ReadOnly opens the file shared and read-only (checkpointctl info,
	// search while the daemon runs). The store must already exist.
	ReadOnly bool
	// SpillDir holds the temporary sorted runs of large imports (sealed
	// values and blind keys only); "" means the store's directory.
	SpillDir string
	// MemoryRecords is how many encoded entries ReplaceAll sorts in memory
	// before spilling to partition files; 0 means 2 million.
	MemoryRecords int
	// Progress, if set, is called from ReplaceAll and ApplyDelta with the
	// number of changes consumed so far (every 10,000).
	Progress func(n int64)
}

// Store is an open watchlist file.
type Store struct {
	db     *bolt.DB
	path   string
	opts   Options
	log    *slog.Logger
	sealer *seal.Sealer
	blind  *blinder
	dek    []byte

	writeMu sync.Mutex   // serialises ReplaceAll, ApplyDelta, RotateKEK
	mu      sync.RWMutex // guards cur and closed; held exclusively across a flip
	cur     *snapshot
	closed  bool

	integrity atomic.Int64
	alarms    chan *IntegrityError
}

// snapshot is one installed generation and its in-memory face index. Readers
// pin it for the duration of a query; a retired snapshot's index is closed
// (templates zeroed) when its last reader leaves.
type snapshot struct {
	version  uint64 // install counter of the transaction that made it current
	gen      uint64
	meta     Meta
	faces    *faceindex.Index // nil when the version has no templates
	faceRefs []blindKey       // faceindex Ref → person blind key
	persons  *personCache     // decoded person candidates (nil: no cache)
	bands    faceBands        // the face bands for this version's gallery size
	refs     atomic.Int64
	retired  atomic.Bool
	// keepFaces is set when the next snapshot (a delta that touched no
	// template) took over the face index: closing this one must not free it.
	keepFaces atomic.Bool
	once      sync.Once
}

func (sn *snapshot) close() {
	sn.once.Do(func() {
		sn.persons.clear()
		if !sn.keepFaces.Load() {
			if sn.faces != nil {
				sn.faces.Close()
			}
			clear(sn.faceRefs)
		}
	})
}

func (sn *snapshot) release() {
	if sn.refs.Add(-1) == 0 && sn.retired.Load() {
		sn.close()
	}
}

func (sn *snapshot) retire() {
	sn.retired.Store(true)
	if sn.refs.Load() == 0 {
		sn.close()
	}
}

// Bucket and key names. Generation buckets are "g" + 8-byte big-endian
// number; inside them the sub-buckets below.
var (
	bucketStore = []byte("store")
	keyDEK      = []byte("dek")
	keyStoreID  = []byte("id")
	keyCurrent  = []byte("current")
	keyFormat   = []byte("format")
	keyMeta     = []byte("meta")

	subDocs     = []byte("d") // blind(state,number)||tag(id) → sealed document
	subDocIDs   = []byte("i") // blind(id) → key in d
	subPersons  = []byte("p") // blind(id) → sealed person JSON (face vectors removed)
	subNameIdx  = []byte("q") // blind(index key)||blind(id) → empty
	subFaces    = []byte("f") // blind(id)||uint16 → sealed vector
	subTokenFrq = []byte("t") // blind(token) → uint32 persons with the token
)

var subBuckets = [][]byte{subDocs, subDocIDs, subPersons, subNameIdx, subFaces, subTokenFrq}

const formatVersion = "1"

func genName(gen uint64) []byte {
	b := make([]byte, 9)
	b[0] = 'g'
	binary.BigEndian.PutUint64(b[1:], gen)
	return b
}

func parseGen(name []byte) (uint64, bool) {
	if len(name) != 9 || name[0] != 'g' {
		return 0, false
	}
	return binary.BigEndian.Uint64(name[1:]), true
}

// ad is the associated data binding a sealed value to its place.
func ad(sub []byte, key []byte) []byte {
	b := make([]byte, 0, len(sub)+1+len(key))
	b = append(b, sub...)
	b = append(b, '/')
	return append(b, key...)
}

func metaAD(gen uint64) []byte { return append([]byte("meta/"), genName(gen)...) }

func dekAD(storeID []byte) []byte { return append([]byte("checkpoint/watchlist/dek/"), storeID...) }

// Open opens the store at path, creating it (mode 0600) with a fresh data
// key wrapped by kp's key when it does not exist. A key that does not unwrap
// the data key is ErrWrongKey. Generations left by an interrupted import are
// deleted.
func Open(path string, kp seal.KeyProvider, opts Options) (*Store, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Second
	}
	if opts.FaceMaxDistance <= 0 {
		opts.FaceMaxDistance = DefaultFaceMaxDistance
	}
	if opts.MaxCandidates <= 0 {
		opts.MaxCandidates = 64
	}
	if opts.PersonCache == 0 {
		opts.PersonCache = 4096
	}
	if opts.MemoryRecords <= 0 {
		opts.MemoryRecords = 2_000_000
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.ReadOnly {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("watchlist: open %s: %w", path, err)
		}
	}
	kek, err := kp.KEK()
	if err != nil {
		return nil, fmt.Errorf("watchlist: key %s: %w", kp, err)
	}
	defer seal.Wipe(kek)

	durable := atomicfile.SyncDirIfCreated(path)
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:        opts.Timeout,
		FreelistType:   bolt.FreelistMapType,
		NoFreelistSync: true,
		NoSync:         opts.NoSync,
		ReadOnly:       opts.ReadOnly,
		// Address space, not memory: a large initial map spares imports
		// the remaps (each copies every dirty node) of a growing file.
		InitialMmapSize: 4 << 30,
	})
	if err != nil {
		return nil, fmt.Errorf("watchlist: open %s: %w", path, err)
	}
	if err := durable(); err != nil { // a new store's name survives a power cut
		db.Close()
		return nil, fmt.Errorf("watchlist: open %s: %w", path, err)
	}
	if !opts.ReadOnly {
		// bbolt only applies the mode when it creates the file; an older
		// file copied in with a looser mode is tightened.
		if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(path, 0o600); err != nil {
				db.Close()
				return nil, fmt.Errorf("watchlist: chmod %s: %w", path, err)
			}
		}
	}
	s := &Store{db: db, path: path, opts: opts, log: log, alarms: make(chan *IntegrityError, 64)}
	if err := s.init(kek); err != nil {
		db.Close()
		s.wipe()
		return nil, err
	}
	return s, nil
}

func (s *Store) init(kek []byte) error {
	var wrapped, storeID []byte
	var current uint64
	load := func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketStore)
		if b == nil {
			return nil
		}
		if f := b.Get(keyFormat); f != nil && string(f) != formatVersion {
			return fmt.Errorf("%w: format %q, this build reads %q", ErrCorrupt, f, formatVersion)
		}
		wrapped = bytes.Clone(b.Get(keyDEK))
		storeID = bytes.Clone(b.Get(keyStoreID))
		if c := b.Get(keyCurrent); len(c) == 8 {
			current = binary.BigEndian.Uint64(c)
		}
		return nil
	}
	if err := s.db.View(load); err != nil {
		return err
	}
	if wrapped == nil {
		if s.opts.ReadOnly {
			return fmt.Errorf("%w: no data key in %s", ErrCorrupt, s.path)
		}
		storeID = make([]byte, 16)
		rand.Read(storeID)
		s.dek = seal.NewKey()
		w, err := seal.WrapKey(kek, s.dek, dekAD(storeID))
		if err != nil {
			return fmt.Errorf("watchlist: wrap data key: %w", err)
		}
		err = s.db.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists(bucketStore)
			if err != nil {
				return err
			}
			if b.Get(keyDEK) != nil {
				return errors.New("watchlist: store initialised concurrently")
			}
			for k, v := range map[string][]byte{string(keyDEK): w, string(keyStoreID): storeID, string(keyFormat): []byte(formatVersion)} {
				if err := b.Put([]byte(k), v); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("watchlist: initialise %s: %w", s.path, err)
		}
		s.log.Info("watchlist store created")
	} else {
		dek, err := seal.UnwrapKey(kek, wrapped, dekAD(storeID))
		if err != nil {
			return fmt.Errorf("watchlist: unwrap data key of %s: %w", s.path, err)
		}
		s.dek = dek
	}
	recKey := seal.DeriveKey(s.dek, "watchlist/record")
	defer seal.Wipe(recKey)
	sealer, err := seal.NewSealer(recKey)
	if err != nil {
		return err
	}
	s.sealer = sealer
	biKey := seal.DeriveKey(s.dek, "watchlist/blind-index")
	s.blind = newBlinder(biKey)
	seal.Wipe(biKey)

	if !s.opts.ReadOnly {
		if err := s.cleanup(current); err != nil {
			return err
		}
	}
	sn, err := s.loadSnapshot(current)
	if err != nil {
		return err
	}
	s.cur = sn
	return nil
}

// cleanup deletes every generation but the current one: leftovers of an
// import that crashed or of a flip whose old generation was not yet dropped.
func (s *Store) cleanup(current uint64) error {
	var stale [][]byte
	s.db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			if g, ok := parseGen(name); ok && g != current {
				stale = append(stale, bytes.Clone(name))
			}
			return nil
		})
	})
	// Spill directories of an interrupted import hold only sealed values
	// and blind keys, but they are dead weight: the file lock we hold means
	// no other import is running.
	spillParent := s.opts.SpillDir
	if spillParent == "" {
		spillParent = filepath.Dir(s.path)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(spillParent, ".watchlist-import-*")); len(leftovers) > 0 {
		for _, d := range leftovers {
			os.RemoveAll(d)
		}
		s.log.Info("watchlist: removed spill files of an interrupted import", "dirs", len(leftovers))
	}
	for _, name := range stale {
		t0 := time.Now()
		if err := s.db.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket(name) }); err != nil {
			return fmt.Errorf("watchlist: drop stale generation: %w", err)
		}
		g, _ := parseGen(name)
		s.log.Info("watchlist: dropped stale generation", "generation", g, "took", time.Since(t0))
	}
	return nil
}

// loadSnapshot reads a generation's meta and decrypts its face templates
// into a new index. gen 0 is the empty store.
func (s *Store) loadSnapshot(gen uint64) (*snapshot, error) {
	sn := &snapshot{gen: gen, persons: newPersonCache(s.opts.PersonCache)}
	err := s.db.View(func(tx *bolt.Tx) error {
		sn.version = readVersion(tx)
		if gen == 0 {
			return nil
		}
		g := tx.Bucket(genName(gen))
		if g == nil {
			return fmt.Errorf("%w: current generation %d missing", ErrCorrupt, gen)
		}
		m, err := s.readMeta(g, gen)
		if err != nil {
			return err
		}
		sn.meta = m
		sn.faces, sn.faceRefs, err = s.buildFaceIndex(g, m.FaceModelID, int(m.Faces))
		return err
	})
	if err != nil {
		return nil, err
	}
	return sn, nil
}

func (s *Store) readMeta(g *bolt.Bucket, gen uint64) (Meta, error) {
	var m Meta
	v := g.Get(keyMeta)
	if v == nil {
		return m, fmt.Errorf("%w: generation %d has no meta", ErrCorrupt, gen)
	}
	pt, err := s.sealer.Open(nil, v, metaAD(gen))
	if err != nil {
		ie := &IntegrityError{Bucket: "meta", Key: hex.EncodeToString(genName(gen)), Err: err}
		s.reportIntegrity(ie)
		return m, ie
	}
	if err := json.Unmarshal(pt, &m); err != nil {
		return m, fmt.Errorf("%w: meta: %v", ErrCorrupt, err)
	}
	return m, nil
}

func (s *Store) writeMeta(g *bolt.Bucket, gen uint64, m Meta) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return g.Put(keyMeta, s.sealer.Seal(nil, b, metaAD(gen)))
}

// buildFaceIndex decrypts every template of a generation (inside tx, so a
// delta can build the index of the state it is about to commit).
// n is the expected count (Meta.Faces), a capacity hint: Bucket.Stats does
// not see a write transaction's uncommitted changes.
func (s *Store) buildFaceIndex(g *bolt.Bucket, modelID string, n int) (*faceindex.Index, []blindKey, error) {
	fb := g.Bucket(subFaces)
	if fb == nil || modelID == "" {
		return nil, nil, nil
	}
	if k, _ := fb.Cursor().First(); k == nil {
		return nil, nil, nil
	}
	var idx *faceindex.Index
	refs := make([]blindKey, 0, n)
	buf := make([]byte, 0, vision.MaxDim*4)
	c := fb.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		pt, err := s.sealer.Open(buf[:0], v, ad(subFaces, k))
		if err != nil {
			s.reportIntegrity(&IntegrityError{Bucket: string(subFaces), Key: hex.EncodeToString(k), Err: err})
			continue // one damaged template must not blind the rest
		}
		vec, err := decodeVector(pt)
		if err == nil && idx == nil {
			// The first template sets the dimension.
			idx, err = faceindex.New(modelID, len(vec), faceindex.Options{Capacity: n})
		}
		if err == nil {
			err = idx.Add("", vec)
		}
		if err != nil {
			if idx != nil {
				idx.Close()
			}
			return nil, nil, fmt.Errorf("watchlist: face template: %w", err)
		}
		var r blindKey
		copy(r[:], k)
		refs = append(refs, r)
	}
	clear(buf[:cap(buf)])
	if idx == nil {
		return nil, nil, nil
	}
	return idx, refs, nil
}

// reportIntegrity counts a failed value and tells whoever listens.
func (s *Store) reportIntegrity(e *IntegrityError) {
	s.integrity.Add(1)
	s.log.Error("watchlist: integrity check failed", "bucket", e.Bucket, "key", e.Key)
	if s.opts.OnIntegrity != nil {
		s.opts.OnIntegrity(e)
	}
	select {
	case s.alarms <- e:
	default: // nobody reading: the counter still tells
	}
}

// IntegrityErrors is the number of values that failed authentication since
// Open. The daemon raises an alarm when it is not zero.
func (s *Store) IntegrityErrors() int64 { return s.integrity.Load() }

// Alarms delivers integrity failures as they are found (buffered; when
// nobody reads, failures are only counted).
func (s *Store) Alarms() <-chan *IntegrityError { return s.alarms }

// Meta is the installed version; a zero Sequence means the store is empty.
func (s *Store) Meta() Meta {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.cur == nil {
		return Meta{}
	}
	return s.cur.meta
}

// FaceIndexLocked reports whether the decrypted face templates are locked
// in RAM (mlock); false when there are none or the memlock limit is low.
func (s *Store) FaceIndexLocked() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.cur != nil && s.cur.faces != nil && s.cur.faces.Locked()
}

// Path is the store's file.
func (s *Store) Path() string { return s.path }

// acquire pins the current snapshot and opens a read transaction on it.
// Both are taken under the read lock so that a flip (which holds the write
// lock across its commit) is seen entirely or not at all.
//
// A writer commits before it swaps the snapshot (so readers never wait for
// a commit's fsync); a reader that begins its transaction in between sees a
// version counter newer than its snapshot's and retries.
func (s *Store) acquire() (*snapshot, *bolt.Tx, error) {
	for {
		s.mu.RLock()
		if s.closed {
			s.mu.RUnlock()
			return nil, nil, ErrClosed
		}
		sn := s.cur
		sn.refs.Add(1)
		s.mu.RUnlock()
		tx, err := s.db.Begin(false)
		if err != nil {
			sn.release()
			return nil, nil, fmt.Errorf("watchlist: read: %w", err)
		}
		if readVersion(tx) == sn.version {
			return sn, tx, nil
		}
		tx.Rollback()
		sn.release()
		runtime.Gosched()
	}
}

var keyVersion = []byte("version")

// readVersion is the install counter: bumped by every transaction that
// changes what is current.
func readVersion(tx *bolt.Tx) uint64 {
	if b := tx.Bucket(bucketStore); b != nil {
		if v := b.Get(keyVersion); len(v) == 8 {
			return binary.BigEndian.Uint64(v)
		}
	}
	return 0
}

func (s *Store) done(sn *snapshot, tx *bolt.Tx) {
	tx.Rollback()
	sn.release()
}

// install commits tx (bumping the install counter) and makes sn current;
// readers see both or neither (see acquire).
func (s *Store) install(tx *bolt.Tx, sn *snapshot) error {
	sn.version = readVersion(tx) + 1
	var vb [8]byte
	binary.BigEndian.PutUint64(vb[:], sn.version)
	if err := tx.Bucket(bucketStore).Put(keyVersion, vb[:]); err != nil {
		return fmt.Errorf("watchlist: commit: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("watchlist: commit: %w", err)
	}
	s.mu.Lock()
	old := s.cur
	s.cur = sn
	s.mu.Unlock()
	if old != nil && old != sn {
		old.retire()
	}
	return nil
}

// RotateKEK re-wraps the data key under newKP's key. Records are not
// re-encrypted: they never depended on the KEK.
func (s *Store) RotateKEK(newKP seal.KeyProvider) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if s.isClosed() {
		return ErrClosed
	}
	kek, err := newKP.KEK()
	if err != nil {
		return fmt.Errorf("watchlist: new key %s: %w", newKP, err)
	}
	defer seal.Wipe(kek)
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketStore)
		if b == nil {
			return fmt.Errorf("%w: no store bucket", ErrCorrupt)
		}
		w, err := seal.WrapKey(kek, s.dek, dekAD(b.Get(keyStoreID)))
		if err != nil {
			return err
		}
		s.log.Info("watchlist: key-encryption key rotated")
		return b.Put(keyDEK, w)
	})
}

func (s *Store) isClosed() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.closed
}

// Close closes the file and zeroes the keys and decrypted templates. It is
// idempotent.
func (s *Store) Close() error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	cur := s.cur
	s.mu.Unlock()
	err := s.db.Close()
	if cur != nil {
		cur.retire()
	}
	s.wipe()
	return err
}

func (s *Store) wipe() {
	seal.Wipe(s.dek)
}

// Stats are record counts of the installed version and the file size.
type Stats struct {
	Generation uint64 `json:"generation"`
	Documents  int64  `json:"documents"`
	Persons    int64  `json:"persons"`
	Faces      int64  `json:"faces"`
	FileBytes  int64  `json:"file_bytes"`
}

// Stats reports the installed version's counts (from its meta: walking a
// 100-million-record tree would take minutes) and the file size.
func (s *Store) Stats() (Stats, error) {
	sn, tx, err := s.acquire()
	if err != nil {
		return Stats{}, err
	}
	defer s.done(sn, tx)
	return Stats{Generation: sn.gen, Documents: sn.meta.Documents, Persons: sn.meta.Persons,
		Faces: sn.meta.Faces, FileBytes: tx.Size()}, nil
}

// entryCounts walks the installed generation and counts each bucket's
// entries (tests and diagnostics).
func (s *Store) entryCounts() (map[string]int, error) {
	sn, tx, err := s.acquire()
	if err != nil {
		return nil, err
	}
	defer s.done(sn, tx)
	out := map[string]int{}
	if g := tx.Bucket(genName(sn.gen)); g != nil {
		for _, sub := range subBuckets {
			if b := g.Bucket(sub); b != nil {
				out[string(sub)] = b.Stats().KeyN
			}
		}
	}
	return out, nil
}

// Age is how old the installed version's data is (since IssuedAt).
func (m Meta) Age(now time.Time) time.Duration {
	if m.IssuedAt.IsZero() {
		return 0
	}
	return now.Sub(m.IssuedAt)
}

// Stale reports whether the version must not be trusted as current: no
// version installed, past its ExpiresAt, or older than maxAge (0 = no age
// limit). It protects against a freeze attack that withholds updates.
func (m Meta) Stale(now time.Time, maxAge time.Duration) bool {
	if m.Sequence == 0 {
		return true
	}
	if !m.ExpiresAt.IsZero() && now.After(m.ExpiresAt) {
		return true
	}
	return maxAge > 0 && m.Age(now) > maxAge
}

// ChangeSource yields the changes of an import or bundle; Next returns
// io.EOF after the last.
type ChangeSource interface {
	Next() (Change, error)
}

// SliceSource is a ChangeSource over a slice (tests, small deltas).
type SliceSource struct {
	Changes []Change
	i       int
}

// Next implements ChangeSource.
func (s *SliceSource) Next() (Change, error) {
	if s.i >= len(s.Changes) {
		return Change{}, io.EOF
	}
	s.i++
	return s.Changes[s.i-1], nil
}

var _ ChangeSource = (*SliceSource)(nil)

func checkCtx(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	default:
		return nil
	}
}
