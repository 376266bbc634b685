package unit

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/checkpoint-edge/checkpoint/internal/atomicfile"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/internal/sealdb"
	"github.com/checkpoint-edge/checkpoint/lane"
)

// The officer's work queue on disk: every HIT and REFER awaiting a verdict,
// so that a restart (power cut, crash, upgrade) puts them back on the
// officer's screen. <state_dir>/pending.db is a sealed bbolt file under the
// outbox's key (outbox.key): record id → sealed {seq, transaction}, the
// transaction without face images (lane.Storable). Writes are fsync'd like
// the outbox's.
//
// A store that cannot be read does not stop the lane, and never crashes
// it: a file that does not open (wrong key, damaged, unknown format) is
// moved aside (pending.db.unreadable-<time>, kept for a technician) and
// the unit starts with an empty queue; records that fail authentication
// are left out of the queue (and left in the file). Either raises the
// "pending_store" alarm on the officer's page. The results themselves are
// in the outbox and the audit log either way. A file held by another
// process is an error, as for the outbox.
const (
	pendingFile   = "pending.db"
	pendingFormat = "checkpoint-pending/1"
	alarmPending  = "pending_store"
)

var (
	bucketPending = []byte("pending")
	pendingLayout = sealdb.Layout{Meta: []byte("meta"), Format: pendingFormat, DEKAD: []byte("checkpoint/pending/dek"),
		Buckets: [][]byte{bucketPending}}
)

// PendingPath is the work queue's file for a state directory.
func PendingPath(stateDir string) string { return filepath.Join(stateDir, pendingFile) }

// PendingStore is the unit's lane.PendingStore. It is safe for concurrent
// use.
type PendingStore struct {
	db     *bolt.DB
	sealer *seal.Sealer
	path   string
	kp     seal.KeyProvider
	// onErr is told of a failed write (an alarm); no personal data.
	onErr func(error)
	// skipped counts records Load could not read.
	mu      sync.Mutex
	skipped int
}

type pendingRecord struct {
	Seq uint64           `json:"seq"`
	Tx  lane.Transaction `json:"tx"`
}

// OpenPendingStore opens (or creates, 0600) the work queue at path.
func OpenPendingStore(path string, kp seal.KeyProvider) (*PendingStore, error) {
	db, s, err := sealdb.Open(path, kp, pendingLayout, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("work queue: %w", err)
	}
	return &PendingStore{db: db, sealer: s, path: path, kp: kp}, nil
}

func pendingAD(id string) []byte { return []byte("checkpoint/pending/tx/" + id) }

// Save stores tx (lane.Storable is applied again: no image reaches disk).
func (s *PendingStore) Save(tx lane.Transaction) error {
	tx = lane.Storable(tx)
	err := s.db.Update(func(btx *bolt.Tx) error {
		b := btx.Bucket(bucketPending)
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		if old := b.Get([]byte(tx.ID)); old != nil {
			if r, err := s.open(tx.ID, old); err == nil {
				seq = r.Seq // a replaced transaction keeps its place
			}
		}
		v, err := json.Marshal(pendingRecord{Seq: seq, Tx: tx})
		if err != nil {
			return err
		}
		return b.Put([]byte(tx.ID), s.sealer.Seal(nil, v, pendingAD(tx.ID)))
	})
	return s.failed(err)
}

// Remove forgets a transaction.
func (s *PendingStore) Remove(id string) error {
	return s.failed(s.db.Update(func(btx *bolt.Tx) error { return btx.Bucket(bucketPending).Delete([]byte(id)) }))
}

func (s *PendingStore) failed(err error) error {
	if err != nil && s.onErr != nil {
		s.onErr(err)
	}
	return err
}

func (s *PendingStore) open(id string, v []byte) (pendingRecord, error) {
	var r pendingRecord
	b, err := s.sealer.Open(nil, v, pendingAD(id))
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("%w: undecodable record", seal.ErrIntegrity)
	}
	if r.Tx.ID != id || r.Tx.State != lane.StateDecided || r.Tx.Officer != nil ||
		(r.Tx.Decision != lane.Hit && r.Tx.Decision != lane.Refer) {
		return r, fmt.Errorf("%w: not a transaction awaiting a verdict", seal.ErrIntegrity)
	}
	return r, nil
}

// Load returns the stored transactions in the order they were saved.
// Records that fail authentication are skipped and counted (Skipped).
func (s *PendingStore) Load() ([]lane.Transaction, error) {
	var recs []pendingRecord
	skipped := 0
	err := s.db.View(func(btx *bolt.Tx) error {
		return btx.Bucket(bucketPending).ForEach(func(k, v []byte) error {
			r, err := s.open(string(k), v)
			if err != nil {
				skipped++
				return nil
			}
			recs = append(recs, r)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.skipped = skipped
	s.mu.Unlock()
	slices.SortFunc(recs, func(a, b pendingRecord) int { return cmp.Compare(a.Seq, b.Seq) })
	out := make([]lane.Transaction, len(recs))
	for i, r := range recs {
		out[i] = r.Tx
	}
	return out, nil
}

// Skipped is how many records the last Load could not read.
func (s *PendingStore) Skipped() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.skipped
}

// RotateKEK re-wraps the file's data key under newKP's key (checkpointctl
// keys rotate outbox rotates this file too: it shares the outbox's key).
func (s *PendingStore) RotateKEK(newKP seal.KeyProvider) error {
	if err := sealdb.RotateKEK(s.db, pendingLayout, s.kp, newKP); err != nil {
		return fmt.Errorf("work queue: rotate key: %w", err)
	}
	s.kp = newKP
	return nil
}

// Close closes the file.
func (s *PendingStore) Close() error { return s.db.Close() }

// openPending opens the work queue for the lane. An unreadable file is
// moved aside and replaced by an empty one, with an alarm; a file held by
// another process (or a state directory that cannot be written) is an
// error.
func (u *Unit) openPending(kp seal.KeyProvider) (*PendingStore, error) {
	path := PendingPath(u.cfg.StateDir)
	st, err := OpenPendingStore(path, kp)
	if errors.Is(err, sealdb.ErrLocked) {
		return nil, err
	}
	if err != nil {
		aside := fmt.Sprintf("%s.unreadable-%s", path, u.now().UTC().Format("20060102T150405"))
		u.log.Error("work queue unreadable: moved aside, the officer's queue starts empty", "path", path, "moved_to", aside, "err", err)
		if rerr := os.Rename(path, aside); rerr != nil {
			return nil, fmt.Errorf("%w (and it cannot be moved aside: %v)", err, rerr)
		}
		if derr := atomicfile.SyncDir(filepath.Dir(path)); derr != nil {
			return nil, derr
		}
		u.alarms.Store(alarmPending, "Work queue from before the restart unreadable (kept as "+filepath.Base(aside)+"): pending verdicts may be missing")
		u.recordError("work queue", err)
		if st, err = OpenPendingStore(path, kp); err != nil {
			return nil, err
		}
	}
	st.onErr = func(err error) {
		u.alarms.Store(alarmPending, "Work queue could not be saved: pending verdicts may not survive a restart")
		u.recordError("work queue", err)
	}
	return st, nil
}

// pendingLoaded raises the alarm for records the lane could not get back.
func (u *Unit) pendingLoaded(st *PendingStore) {
	if n := st.Skipped(); n > 0 {
		u.log.Error("work queue: records failed authentication and were not loaded", "records", n, "path", st.path)
		u.alarms.Store(alarmPending, fmt.Sprintf("Work queue: %d pending verdicts from before the restart could not be read", n))
	}
}

var _ lane.PendingStore = (*PendingStore)(nil)
