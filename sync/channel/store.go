package channel

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"sort"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/internal/sealdb"
	"github.com/checkpoint-edge/checkpoint/sync/bundle"
)

// Buckets. state: "<kind>/<channel>" -> sealed State. records: one nested
// bucket per "<kind>/<channel>", big-endian record number -> sealed
// bundle.Record.
var (
	bucketMeta    = []byte("meta")
	bucketState   = []byte("state")
	bucketRecords = []byte("records")

	layout = sealdb.Layout{
		Meta: bucketMeta, Format: "checkpoint-channels/1", DEKAD: []byte("checkpoint/channels/dek"),
		Buckets: [][]byte{bucketState, bucketRecords},
	}
)

// State is what a unit knows about one installed channel. It carries no
// record content.
type State struct {
	Kind        string    `json:"kind"`
	Channel     string    `json:"channel"`
	Sequence    uint64    `json:"sequence"`
	IssuedAt    time.Time `json:"issued_at"`
	ExpiresAt   time.Time `json:"expires_at"`
	InstalledAt time.Time `json:"installed_at"`
	Authority   string    `json:"authority,omitempty"`
	KeyID       string    `json:"key_id"`
	// Records counts the records stored now (expired ones are purged).
	Records int `json:"records"`
	// Purged counts records dropped at their expiry since the install.
	Purged int `json:"purged,omitempty"`
	// Digest is the SHA-256 of the stored records, checked by Verify.
	Digest string `json:"digest"`
}

// Expired reports whether the channel's bundle is past its expiry: its
// records are no longer handed out.
func (s State) Expired(now time.Time) bool { return !now.Before(s.ExpiresAt) }

func (s State) key() string { return bundle.ChannelPath(s.Kind, s.Channel) }

// Options configure Open.
type Options struct {
	// Timeout bounds the wait for the file lock (default 5 s).
	Timeout time.Duration
	// Logger receives kinds, channels, sequences and counts; nil discards.
	Logger *slog.Logger
	// NoSync disables fsync (benchmarks only: it voids crash safety).
	NoSync bool
}

// Store is the unit's encrypted channel store. It is safe for concurrent
// use.
type Store struct {
	db     *bolt.DB
	sealer *seal.Sealer
	kp     seal.KeyProvider // for RotateKEK
	log    *slog.Logger
	path   string

	mu     sync.Mutex
	closed bool
}

// Open opens or creates the store at path (mode 0600). The data key is
// created on first use and wrapped by kp's key-encryption key; a wrong
// KEK is seal.ErrWrongKey.
func Open(path string, kp seal.KeyProvider, opts Options) (*Store, error) {
	if kp == nil {
		return nil, errors.New("channel: no key provider")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Second
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	db, sealer, err := sealdb.Open(path, kp, layout, &bolt.Options{Timeout: opts.Timeout, NoSync: opts.NoSync})
	if errors.Is(err, sealdb.ErrLocked) {
		return nil, fmt.Errorf("%w: %s", ErrLocked, path)
	}
	if err != nil {
		return nil, fmt.Errorf("channel: %w", err)
	}
	s := &Store{db: db, sealer: sealer, kp: kp, log: log, path: path}
	return s, nil
}

// RotateKEK re-wraps the store's data key under newKP's key (checkpointctl
// keys rotate watchlist rotates this file too when it shares the
// watchlist's key).
func (s *Store) RotateKEK(newKP seal.KeyProvider) error {
	if err := sealdb.RotateKEK(s.db, layout, s.kp, newKP); err != nil {
		return fmt.Errorf("channel: rotate key: %w", err)
	}
	s.kp = newKP
	return nil
}

// Path is the store's file.
func (s *Store) Path() string { return s.path }

// Close closes the file; it is idempotent.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.db.Close()
}

func (s *Store) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func stateAD(key string) []byte { return []byte("checkpoint/channels/state/" + key) }

// recordAD binds a sealed record to its channel, the installed sequence
// and its position: records cannot be moved between channels, replayed
// from an older version or reordered without failing authentication.
func recordAD(key string, seq uint64, n uint32) []byte {
	ad := make([]byte, 0, len(key)+40)
	ad = append(ad, "checkpoint/channels/record/"...)
	ad = append(ad, key...)
	ad = append(ad, 0)
	ad = binary.BigEndian.AppendUint64(ad, seq)
	return binary.BigEndian.AppendUint32(ad, n)
}

func recordKey(n uint32) []byte { return binary.BigEndian.AppendUint32(nil, n) }

func (s *Store) getState(tx *bolt.Tx, key string) (State, bool, error) {
	v := tx.Bucket(bucketState).Get([]byte(key))
	if v == nil {
		return State{}, false, nil
	}
	b, err := s.sealer.Open(nil, v, stateAD(key))
	if err != nil {
		return State{}, false, fmt.Errorf("%w: state of %s", ErrIntegrity, key)
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil || st.key() != key {
		return State{}, false, fmt.Errorf("%w: state of %s", ErrIntegrity, key)
	}
	return st, true, nil
}

func (s *Store) putState(tx *bolt.Tx, st State) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketState).Put([]byte(st.key()), s.sealer.Seal(nil, b, stateAD(st.key())))
}

// State returns the installed state of a channel; ok is false when
// nothing was ever installed.
func (s *Store) State(kind, channel string) (st State, ok bool, err error) {
	if s.isClosed() {
		return State{}, false, ErrClosed
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		st, ok, err = s.getState(tx, bundle.ChannelPath(kind, channel))
		return err
	})
	return st, ok, err
}

// States lists every installed channel, by kind then channel.
func (s *Store) States() ([]State, error) {
	if s.isClosed() {
		return nil, ErrClosed
	}
	var out []State
	err := s.db.View(func(tx *bolt.Tx) (err error) {
		out, err = s.statesTx(tx)
		return err
	})
	return out, err
}

// Records returns the channel's records that have not expired at now,
// with the channel's state. Once the channel's bundle has expired it
// returns no records. A record that fails authentication is ErrIntegrity
// and nothing is returned.
func (s *Store) Records(kind, channel string, now time.Time) ([]bundle.Record, State, error) {
	if s.isClosed() {
		return nil, State{}, ErrClosed
	}
	var out []bundle.Record
	var st State
	err := s.db.View(func(tx *bolt.Tx) error {
		var ok bool
		var err error
		st, ok, err = s.getState(tx, bundle.ChannelPath(kind, channel))
		if err != nil || !ok || st.Expired(now) {
			return err
		}
		return s.forEach(tx, st, func(_ uint32, r *bundle.Record) error {
			if !r.Expired(now) {
				out = append(out, *r)
			}
			return nil
		})
	})
	if err != nil {
		return nil, State{}, err
	}
	return out, st, nil
}

// forEach opens every stored record of st in order.
func (s *Store) forEach(tx *bolt.Tx, st State, fn func(n uint32, r *bundle.Record) error) error {
	b := tx.Bucket(bucketRecords).Bucket([]byte(st.key()))
	if b == nil {
		if st.Records != 0 {
			return fmt.Errorf("%w: records of %s missing", ErrIntegrity, st.key())
		}
		return nil
	}
	count := 0
	err := b.ForEach(func(k, v []byte) error {
		if len(k) != 4 {
			return fmt.Errorf("%w: bad record key in %s", ErrIntegrity, st.key())
		}
		n := binary.BigEndian.Uint32(k)
		plain, err := s.sealer.Open(nil, v, recordAD(st.key(), st.Sequence, n))
		if err != nil {
			return fmt.Errorf("%w: record %d of %s", ErrIntegrity, n, st.key())
		}
		var r bundle.Record
		if err := json.Unmarshal(plain, &r); err != nil {
			return fmt.Errorf("%w: record %d of %s", ErrIntegrity, n, st.key())
		}
		count++
		return fn(n, &r)
	})
	if err == nil && count != st.Records {
		err = fmt.Errorf("%w: %s holds %d records, state says %d", ErrIntegrity, st.key(), count, st.Records)
	}
	return err
}

// digester accumulates State.Digest: SHA-256 over each stored record's
// JSON and a newline, in record order.
type digester struct{ h hash.Hash }

func newDigester() digester { return digester{sha256.New()} }

func (d digester) add(r *bundle.Record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	d.addJSON(b)
	return nil
}

func (d digester) addJSON(b []byte) {
	d.h.Write(b)
	d.h.Write([]byte{'\n'})
}

func (d digester) sum() string { return hex.EncodeToString(d.h.Sum(nil)) }

// Replace installs st and recs as the channel's whole content in one
// transaction, after checking that st.Sequence is newer than the installed
// sequence (bundle.ErrRollback). st.Records and st.Digest are set here.
func (s *Store) Replace(ctx context.Context, st State, recs []bundle.Record) error {
	if s.isClosed() {
		return ErrClosed
	}
	if !bundle.ValidKind(st.Kind) || !bundle.ValidChannel(st.Channel) || st.Sequence == 0 {
		return fmt.Errorf("channel: bad state %q sequence %d", st.key(), st.Sequence)
	}
	key := st.key()
	return s.db.Update(func(tx *bolt.Tx) error {
		old, ok, err := s.getState(tx, key)
		if err != nil {
			return err
		}
		if ok && st.Sequence <= old.Sequence {
			return fmt.Errorf("%w: %s sequence %d, installed %d", bundle.ErrRollback, key, st.Sequence, old.Sequence)
		}
		root := tx.Bucket(bucketRecords)
		if root.Bucket([]byte(key)) != nil {
			if err := root.DeleteBucket([]byte(key)); err != nil {
				return err
			}
		}
		b, err := root.CreateBucket([]byte(key))
		if err != nil {
			return err
		}
		b.FillPercent = 1 // appended in key order
		d := newDigester()
		for i := range recs {
			if i%1024 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			plain, err := json.Marshal(&recs[i])
			if err != nil {
				return err
			}
			n := uint32(i)
			if err := b.Put(recordKey(n), s.sealer.Seal(nil, plain, recordAD(key, st.Sequence, n))); err != nil {
				return err
			}
			d.addJSON(plain)
		}
		st.Records, st.Purged, st.Digest = len(recs), 0, d.sum()
		return s.putState(tx, st)
	})
}

// Purged reports what Purge dropped from one channel.
type Purged struct {
	State   State `json:"state"`
	Removed int   `json:"removed"`
	// Expired is set when the whole channel expired (every record gone).
	Expired bool `json:"expired"`
}

// Purge deletes, in one transaction, every record past its own expiry and
// every record of a channel whose bundle has expired. A channel's state
// stays (its sequence keeps rollback protection).
func (s *Store) Purge(now time.Time) ([]Purged, error) {
	if s.isClosed() {
		return nil, ErrClosed
	}
	var out []Purged
	err := s.db.Update(func(tx *bolt.Tx) error {
		states, err := s.statesTx(tx)
		if err != nil {
			return err
		}
		for _, st := range states {
			if st.Records == 0 {
				continue
			}
			channelExpired := st.Expired(now)
			var drop []uint32
			d := newDigester()
			err := s.forEach(tx, st, func(n uint32, r *bundle.Record) error {
				if channelExpired || r.Expired(now) {
					drop = append(drop, n)
					return nil
				}
				return d.add(r)
			})
			if err != nil {
				return err
			}
			if len(drop) == 0 {
				continue
			}
			b := tx.Bucket(bucketRecords).Bucket([]byte(st.key()))
			for _, n := range drop {
				if err := b.Delete(recordKey(n)); err != nil {
					return err
				}
			}
			st.Records -= len(drop)
			st.Purged += len(drop)
			st.Digest = d.sum()
			if err := s.putState(tx, st); err != nil {
				return err
			}
			out = append(out, Purged{State: st, Removed: len(drop), Expired: channelExpired})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, p := range out {
		s.log.Info("channel records expired", "kind", p.State.Kind, "channel", p.State.Channel,
			"sequence", p.State.Sequence, "removed", p.Removed, "channel_expired", p.Expired)
	}
	return out, nil
}

func (s *Store) statesTx(tx *bolt.Tx) ([]State, error) {
	var out []State
	err := tx.Bucket(bucketState).ForEach(func(k, _ []byte) error {
		st, _, err := s.getState(tx, string(k))
		if err == nil {
			out = append(out, st)
		}
		return err
	})
	sort.Slice(out, func(i, j int) bool { return out[i].key() < out[j].key() })
	return out, err
}

// Verify opens every stored record and checks that each channel's
// records hash to its state's digest: ErrIntegrity names the first
// channel that does not.
func (s *Store) Verify() error {
	if s.isClosed() {
		return ErrClosed
	}
	return s.db.View(func(tx *bolt.Tx) error {
		states, err := s.statesTx(tx)
		if err != nil {
			return err
		}
		for _, st := range states {
			d := newDigester()
			if err := s.forEach(tx, st, func(_ uint32, r *bundle.Record) error { return d.add(r) }); err != nil {
				return err
			}
			if d.sum() != st.Digest {
				return fmt.Errorf("%w: records of %s do not hash to the installed state", ErrIntegrity, st.key())
			}
		}
		return nil
	})
}
