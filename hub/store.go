package hub

import (
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"filippo.io/age"
	bolt "go.etcd.io/bbolt"

	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/internal/sealdb"
	"github.com/checkpoint-edge/checkpoint/sync/outbox"
	"github.com/checkpoint-edge/checkpoint/sync/pki"
)

var (
	bucketMeta    = []byte("meta")
	bucketKeys    = []byte("keys")    // idempotency key -> unit NUL seq
	bucketUnits   = []byte("units")   // unit id -> UnitInfo JSON
	bucketResults = []byte("results") // unit id -> bucket of seq -> sealed Stored

	layout = sealdb.Layout{
		Meta: bucketMeta, Format: "checkpoint-hub/1", DEKAD: []byte("checkpoint/hub/dek"),
		Buckets: [][]byte{bucketKeys, bucketUnits, bucketResults},
	}
)

// Source says how a record reached the hub.
const (
	SourceUpload = "upload"
	SourceImport = "import"
)

// Stored is a record as the hub keeps it.
type Stored struct {
	outbox.Record
	Unit       string    `json:"unit"`
	UnitSeq    uint64    `json:"unit_seq"`
	ReceivedAt time.Time `json:"received_at"`
	Source     string    `json:"source"`
}

// UnitInfo is what the hub knows about a unit (no personal data).
type UnitInfo struct {
	Unit         string    `json:"unit"`
	FirstContact time.Time `json:"first_contact"`
	LastContact  time.Time `json:"last_contact"`
	Records      uint64    `json:"records"`
	Duplicates   uint64    `json:"duplicates"`
	LastImport   time.Time `json:"last_import,omitzero"`
}

// IngestResult reports one batch or import.
type IngestResult struct {
	Unit       string   `json:"unit"`
	Acked      []string `json:"acked"`
	New        int      `json:"new"`
	Duplicates int      `json:"duplicates"`
}

// Options configure Open.
type Options struct {
	// BundleDir is served under /v1/bundles/; empty disables it.
	BundleDir string
	// Identities decrypt hand-carried exports (POST /v1/imports).
	Identities []age.Identity
	// Roots verify the certificates that sign exports (the fleet CA).
	Roots *x509.CertPool
	// Operators are the certificate ids (pki.UnitIDFromCert) allowed to
	// list units and read every unit's results; a unit reads only its own.
	Operators []string
	// Timeout bounds the wait for the database lock (default 5 s).
	Timeout time.Duration
	Logger  *slog.Logger
	// Now defaults to time.Now.
	Now func() time.Time
	// NoSync disables fsync (benchmarks of the unit side only).
	NoSync bool
}

// Hub is the headquarters store and HTTP handler.
type Hub struct {
	db     *bolt.DB
	sealer *seal.Sealer
	kp     seal.KeyProvider // re-read by RotateKEK
	opts   Options
	log    *slog.Logger
	now    func() time.Time
	etags  etagCache

	mu     sync.Mutex
	closed bool
}

// Open opens or creates the hub database at path (0600), sealed with kp.
func Open(path string, kp seal.KeyProvider, opts Options) (*Hub, error) {
	if kp == nil {
		return nil, errors.New("hub: no key provider")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	kek, err := kp.KEK()
	if err != nil {
		return nil, fmt.Errorf("hub: key %s: %w", kp, err)
	}
	defer seal.Wipe(kek)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.Timeout, NoSync: opts.NoSync})
	if err != nil {
		return nil, fmt.Errorf("hub: open %s: %w", path, err)
	}
	var dek []byte
	err = db.Update(func(tx *bolt.Tx) (err error) {
		_, dek, err = sealdb.Init(tx, layout, kek)
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
	return &Hub{db: db, kp: kp, sealer: s, opts: opts, log: log, now: opts.Now}, nil
}

// Close releases the database. It is idempotent.
func (h *Hub) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	h.closed = true
	return h.db.Close()
}

// RotateKEK re-wraps the results database's data key under newKP's key;
// stored results are not re-encrypted.
func (h *Hub) RotateKEK(newKP seal.KeyProvider) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return ErrClosed
	}
	oldKEK, err := h.kp.KEK()
	if err != nil {
		return fmt.Errorf("hub: key %s: %w", h.kp, err)
	}
	defer seal.Wipe(oldKEK)
	newKEK, err := newKP.KEK()
	if err != nil {
		return fmt.Errorf("hub: new key %s: %w", newKP, err)
	}
	defer seal.Wipe(newKEK)
	if err := h.db.Update(func(tx *bolt.Tx) error { return sealdb.Rotate(tx, layout, oldKEK, newKEK) }); err != nil {
		return fmt.Errorf("hub: rotate key: %w", err)
	}
	h.kp = newKP
	h.log.Info("hub: key-encryption key rotated")
	return nil
}

// Ingest stores the records of unit that it does not hold yet, in order,
// and commits before returning. Every record's key must start with
// "<unit>:" so that one unit cannot overwrite or shadow another's records.
func (h *Hub) Ingest(unit string, recs []outbox.Record, source string) (IngestResult, error) {
	res := IngestResult{Unit: unit}
	if err := pki.ValidUnitID(unit); err != nil {
		return res, fmt.Errorf("%w: %w", ErrBadBatch, err)
	}
	for i := range recs {
		if err := recs[i].Validate(); err != nil {
			return res, fmt.Errorf("%w: record %d: %w", ErrBadBatch, i, err)
		}
		if !strings.HasPrefix(recs[i].Key, unit+":") {
			return res, fmt.Errorf("%w: record %d: key does not belong to unit %s", ErrBadBatch, i, unit)
		}
	}
	now := h.now().UTC()
	err := h.db.Update(func(tx *bolt.Tx) error {
		res.Acked, res.New, res.Duplicates = res.Acked[:0], 0, 0
		keys, units := tx.Bucket(bucketKeys), tx.Bucket(bucketUnits)
		rb, err := tx.Bucket(bucketResults).CreateBucketIfNotExists([]byte(unit))
		if err != nil {
			return err
		}
		info := UnitInfo{Unit: unit, FirstContact: now}
		if v := units.Get([]byte(unit)); v != nil {
			if err := json.Unmarshal(v, &info); err != nil {
				return fmt.Errorf("unit record: %w", err)
			}
		}
		seen := make(map[string]bool, len(recs))
		for _, r := range recs {
			res.Acked = append(res.Acked, r.Key)
			if seen[r.Key] || keys.Get([]byte(r.Key)) != nil {
				res.Duplicates++
				continue
			}
			seen[r.Key] = true
			seq, _ := rb.NextSequence()
			st := Stored{Record: r, Unit: unit, UnitSeq: seq, ReceivedAt: now, Source: source}
			plain, err := json.Marshal(&st)
			if err != nil {
				return err
			}
			k := seqKey(seq)
			if err := rb.Put(k, h.sealer.Seal(nil, plain, resultAD(unit, k))); err != nil {
				return err
			}
			if err := keys.Put([]byte(r.Key), append([]byte(unit+"\x00"), k...)); err != nil {
				return err
			}
			res.New++
		}
		info.LastContact = now
		info.Records += uint64(res.New)
		info.Duplicates += uint64(res.Duplicates)
		if source == SourceImport {
			info.LastImport = now
		}
		v, err := json.Marshal(&info)
		if err != nil {
			return err
		}
		return units.Put([]byte(unit), v)
	})
	if err != nil {
		if errors.Is(err, bolt.ErrDatabaseNotOpen) {
			return res, ErrClosed
		}
		return res, fmt.Errorf("hub: ingest: %w", err)
	}
	h.log.Info("results ingested", "unit", unit, "source", source, "new", res.New, "duplicates", res.Duplicates)
	return res, nil
}

// Import verifies and ingests a hand-carried export (see outbox.Export).
func (h *Hub) Import(r io.Reader) (IngestResult, error) {
	if len(h.opts.Identities) == 0 {
		return IngestResult{}, ErrNoIdentity
	}
	if h.opts.Roots == nil {
		return IngestResult{}, errors.New("hub: no CA configured to verify imports")
	}
	ex, err := outbox.ReadExport(r, h.opts.Identities, h.opts.Roots)
	if err != nil {
		return IngestResult{}, err
	}
	return h.Ingest(ex.Unit, ex.Records, SourceImport)
}

// Results returns up to limit records of unit with UnitSeq > after, in
// arrival order.
func (h *Hub) Results(unit string, after uint64, limit int) ([]Stored, error) {
	if limit <= 0 {
		limit = 1000
	}
	var out []Stored
	err := h.db.View(func(tx *bolt.Tx) error {
		rb := tx.Bucket(bucketResults).Bucket([]byte(unit))
		if rb == nil {
			return ErrUnknownUnit
		}
		c := rb.Cursor()
		for k, v := c.Seek(seqKey(after + 1)); k != nil && len(out) < limit; k, v = c.Next() {
			plain, err := h.sealer.Open(nil, v, resultAD(unit, k))
			if err != nil {
				return fmt.Errorf("unit %s seq %d: %w", unit, binary.BigEndian.Uint64(k), err)
			}
			var st Stored
			if err := json.Unmarshal(plain, &st); err != nil {
				return err
			}
			out = append(out, st)
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, bolt.ErrDatabaseNotOpen) {
			return nil, ErrClosed
		}
		return nil, fmt.Errorf("hub: results: %w", err)
	}
	return out, nil
}

// Units lists every unit the hub has heard from.
func (h *Hub) Units() ([]UnitInfo, error) {
	var out []UnitInfo
	err := h.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketUnits).ForEach(func(_, v []byte) error {
			var u UnitInfo
			if err := json.Unmarshal(v, &u); err != nil {
				return err
			}
			out = append(out, u)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("hub: units: %w", err)
	}
	return out, nil
}

func resultAD(unit string, k []byte) []byte {
	return append([]byte("results/"+unit+"/"), k...)
}

func seqKey(seq uint64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, seq)
	return k
}
