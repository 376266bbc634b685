// Package paxstore keeps airline passenger data (API and PNR messages and
// their screening reports) encrypted at rest, with retention enforced: it
// is the store of the unit's inbox screening and of headquarters.
//
// A bbolt file, 0600, like the outbox: a random data key wrapped by the
// key-encryption key (internal/sealdb); each entry's manifest and report
// are sealed (XChaCha20-Poly1305, bound to the entry id). The index holds
// only what retention and publication need and no personal data: flight,
// ports, arrival, message kind, when it was received, whether it was
// depersonalised.
//
// Retention (Retention, Enforce): API data is deleted a day after the
// flight's arrival (many states keep API for 24 hours); PNR data is
// depersonalised six months after it was received (names, dates of birth,
// document numbers and booking references masked, as the EU PNR Directive
// asks) and deleted after five years. Every deletion and depersonalisation
// is returned to the caller, who audits it.
package paxstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/internal/sealdb"
	"github.com/checkpoint-edge/checkpoint/paxdata"
)

var (
	bucketMeta    = []byte("meta")
	bucketIndex   = []byte("index")   // id -> Meta JSON (no personal data)
	bucketSealed  = []byte("sealed")  // id -> sealed Sealed JSON
	bucketByArriv = []byte("arrival") // arrival port NUL arrival RFC3339 NUL id -> nil

	layout = sealdb.Layout{
		Meta: bucketMeta, Format: "checkpoint-paxdata/1", DEKAD: []byte("checkpoint/paxdata/dek"),
		Buckets: [][]byte{bucketIndex, bucketSealed, bucketByArriv},
	}
)

// Errors.
var (
	// ErrNotFound is returned when no entry has the id.
	ErrNotFound = errors.New("paxstore: no such entry")
	// ErrLocked is returned when another process holds the file.
	ErrLocked = errors.New("paxstore: store is locked by another process")
	// ErrIntegrity is returned when a sealed entry fails authentication.
	ErrIntegrity = errors.New("paxstore: entry failed authentication")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("paxstore: store closed")
)

// Meta is what the index keeps of an entry: no personal data.
type Meta struct {
	ID         string    `json:"id"`
	Message    string    `json:"message"` // PAXLST, PNRGOV
	Reference  string    `json:"reference"`
	Sender     string    `json:"sender,omitempty"`
	Source     string    `json:"source"` // "upload:<cert id>", "inbox", "cli"
	Flight     string    `json:"flight"`
	Departure  string    `json:"departure"`
	Arrival    string    `json:"arrival"`
	ArrivalAt  time.Time `json:"arrival_at"`
	ReceivedAt time.Time `json:"received_at"`
	Travellers int       `json:"travellers"`
	Flagged    int       `json:"flagged"`
	// Depersonalised is when the personal data was masked (zero: not).
	Depersonalised time.Time `json:"depersonalised,omitzero"`
}

// Entry is a stored message: its manifest (may be nil when only the report
// is kept) and its screening report (nil until screened).
type Entry struct {
	Meta
	Manifest *paxdata.Manifest `json:"manifest,omitempty"`
	Report   *paxdata.Report   `json:"report,omitempty"`
}

type sealed struct {
	Manifest *paxdata.Manifest `json:"manifest,omitempty"`
	Report   *paxdata.Report   `json:"report,omitempty"`
}

// Retention says how long passenger data is kept.
type Retention struct {
	// API deletes API (PAXLST) entries this long after the flight's
	// arrival (0 = 24 h).
	API time.Duration
	// PNRDepersonalise masks PNR (PNRGOV) entries this long after they
	// were received (0 = 6 months); PNRDelete deletes them (0 = 5 years).
	PNRDepersonalise time.Duration
	PNRDelete        time.Duration
}

// Defaults of Retention.
const (
	DefaultAPI              = 24 * time.Hour
	DefaultPNRDepersonalise = 183 * 24 * time.Hour
	DefaultPNRDelete        = 5 * 365 * 24 * time.Hour
)

func (r Retention) withDefaults() Retention {
	if r.API <= 0 {
		r.API = DefaultAPI
	}
	if r.PNRDepersonalise <= 0 {
		r.PNRDepersonalise = DefaultPNRDepersonalise
	}
	if r.PNRDelete <= 0 {
		r.PNRDelete = DefaultPNRDelete
	}
	return r
}

// Options configure Open.
type Options struct {
	Timeout time.Duration // lock wait (default 5 s)
	Logger  *slog.Logger
	NoSync  bool // benchmarks only
}

// Store is the encrypted passenger-data store. Safe for concurrent use.
type Store struct {
	db     *bolt.DB
	sealer *seal.Sealer
	kp     seal.KeyProvider // for RotateKEK
	log    *slog.Logger
	mu     sync.Mutex
	closed bool
}

// Open opens or creates the store at path (0600).
func Open(path string, kp seal.KeyProvider, o Options) (*Store, error) {
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	db, sealer, err := sealdb.Open(path, kp, layout, &bolt.Options{Timeout: o.Timeout, NoSync: o.NoSync})
	if errors.Is(err, sealdb.ErrLocked) {
		return nil, fmt.Errorf("%w: %s", ErrLocked, path)
	}
	if err != nil {
		return nil, fmt.Errorf("paxstore: %w", err)
	}
	s := &Store{db: db, sealer: sealer, kp: kp, log: log}
	return s, nil
}

// RotateKEK re-wraps the store's data key under newKP's key (checkpointctl
// keys rotate watchlist rotates this file too when it shares the
// watchlist's key).
func (s *Store) RotateKEK(newKP seal.KeyProvider) error {
	if err := sealdb.RotateKEK(s.db, layout, s.kp, newKP); err != nil {
		return fmt.Errorf("paxstore: rotate key: %w", err)
	}
	s.kp = newKP
	return nil
}

// Close closes the file; idempotent.
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

func sealAD(id string) []byte { return []byte("checkpoint/paxdata/entry/" + id) }

func arrivalKey(m *Meta) []byte {
	return []byte(m.Arrival + "\x00" + m.ArrivalAt.UTC().Format(time.RFC3339) + "\x00" + m.ID)
}

// EntryID is the id of a message: its kind, flight and reference, so that
// the same message received twice is stored once.
func EntryID(m *paxdata.Manifest) string {
	d := m.Flight.DepartureAt
	if d.IsZero() {
		d = m.Flight.ArrivalAt
	}
	return strings.Join([]string{m.Message, paxdata.FlightKey(m.Flight.Number, d, m.Flight.Arrival), m.Sender, m.Reference}, "|")
}

// Put stores (or replaces) an entry; Meta's flight fields are filled
// from the manifest or the report.
func (s *Store) Put(e *Entry) error {
	if s.isClosed() {
		return ErrClosed
	}
	if e.ID == "" {
		return errors.New("paxstore: entry without an id")
	}
	b, err := json.Marshal(sealed{Manifest: e.Manifest, Report: e.Report})
	if err != nil {
		return err
	}
	mb, err := json.Marshal(e.Meta)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		if old := tx.Bucket(bucketIndex).Get([]byte(e.ID)); old != nil {
			var om Meta
			if json.Unmarshal(old, &om) == nil {
				tx.Bucket(bucketByArriv).Delete(arrivalKey(&om))
			}
		}
		if err := tx.Bucket(bucketIndex).Put([]byte(e.ID), mb); err != nil {
			return err
		}
		if err := tx.Bucket(bucketByArriv).Put(arrivalKey(&e.Meta), nil); err != nil {
			return err
		}
		return tx.Bucket(bucketSealed).Put([]byte(e.ID), s.sealer.Seal(nil, b, sealAD(e.ID)))
	})
}

// Get returns an entry with its sealed content.
func (s *Store) Get(id string) (*Entry, error) {
	if s.isClosed() {
		return nil, ErrClosed
	}
	var e *Entry
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		e, err = s.get(tx, id)
		return err
	})
	return e, err
}

func (s *Store) get(tx *bolt.Tx, id string) (*Entry, error) {
	mb := tx.Bucket(bucketIndex).Get([]byte(id))
	if mb == nil {
		return nil, ErrNotFound
	}
	e := new(Entry)
	if err := json.Unmarshal(mb, &e.Meta); err != nil {
		return nil, fmt.Errorf("%w: index of %s", ErrIntegrity, id)
	}
	v := tx.Bucket(bucketSealed).Get([]byte(id))
	plain, err := s.sealer.Open(nil, v, sealAD(id))
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrIntegrity, id)
	}
	var sd sealed
	if err := json.Unmarshal(plain, &sd); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrIntegrity, id)
	}
	e.Manifest, e.Report = sd.Manifest, sd.Report
	return e, nil
}

// List returns the index, newest arrival first.
func (s *Store) List() ([]Meta, error) {
	if s.isClosed() {
		return nil, ErrClosed
	}
	var out []Meta
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketIndex).ForEach(func(_, v []byte) error {
			var m Meta
			if err := json.Unmarshal(v, &m); err != nil {
				return fmt.Errorf("%w: index", ErrIntegrity)
			}
			out = append(out, m)
			return nil
		})
	})
	slices.SortFunc(out, func(a, b Meta) int { return b.ArrivalAt.Compare(a.ArrivalAt) })
	return out, err
}

// Arriving returns the screened entries of flights to port arriving at or
// after since, with their reports, in arrival order.
func (s *Store) Arriving(port string, since time.Time) ([]*Entry, error) {
	if s.isClosed() {
		return nil, ErrClosed
	}
	var out []*Entry
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketByArriv).Cursor()
		prefix := []byte(port + "\x00")
		start := append(append([]byte{}, prefix...), since.UTC().Format(time.RFC3339)...)
		for k, _ := c.Seek(start); k != nil && strings.HasPrefix(string(k), string(prefix)); k, _ = c.Next() {
			parts := strings.SplitN(string(k), "\x00", 3)
			if len(parts) != 3 {
				continue
			}
			e, err := s.get(tx, parts[2])
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if e.Report != nil {
				out = append(out, e)
			}
		}
		return nil
	})
	return out, err
}

// Removed reports one entry that Enforce deleted or depersonalised (no
// personal data).
type Removed struct {
	Meta   Meta   `json:"meta"`
	Action string `json:"action"` // "deleted" or "depersonalised"
	Rule   string `json:"rule"`
}

// Enforce applies the retention rules at now.
func (s *Store) Enforce(now time.Time, r Retention) ([]Removed, error) {
	if s.isClosed() {
		return nil, ErrClosed
	}
	r = r.withDefaults()
	var out []Removed
	err := s.db.Update(func(tx *bolt.Tx) error {
		var metas []Meta
		err := tx.Bucket(bucketIndex).ForEach(func(_, v []byte) error {
			var m Meta
			if err := json.Unmarshal(v, &m); err != nil {
				return fmt.Errorf("%w: index", ErrIntegrity)
			}
			metas = append(metas, m)
			return nil
		})
		if err != nil {
			return err
		}
		for _, m := range metas {
			switch {
			case m.Message == paxdata.TypePNRGOV && now.Sub(m.ReceivedAt) >= r.PNRDelete:
				err = s.delete(tx, &m)
				out = append(out, Removed{Meta: m, Action: "deleted", Rule: "pnr_delete"})
			case m.Message == paxdata.TypePNRGOV && now.Sub(m.ReceivedAt) >= r.PNRDepersonalise && m.Depersonalised.IsZero():
				m.Depersonalised = now.UTC()
				err = s.depersonalise(tx, &m)
				out = append(out, Removed{Meta: m, Action: "depersonalised", Rule: "pnr_depersonalise"})
			case m.Message != paxdata.TypePNRGOV && !m.ArrivalAt.IsZero() && now.Sub(m.ArrivalAt) >= r.API:
				err = s.delete(tx, &m)
				out = append(out, Removed{Meta: m, Action: "deleted", Rule: "api_delete"})
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Store) delete(tx *bolt.Tx, m *Meta) error {
	if err := tx.Bucket(bucketByArriv).Delete(arrivalKey(m)); err != nil {
		return err
	}
	if err := tx.Bucket(bucketSealed).Delete([]byte(m.ID)); err != nil {
		return err
	}
	return tx.Bucket(bucketIndex).Delete([]byte(m.ID))
}

func (s *Store) depersonalise(tx *bolt.Tx, m *Meta) error {
	e, err := s.get(tx, m.ID)
	if err != nil {
		return err
	}
	if e.Manifest != nil {
		for i := range e.Manifest.Travellers {
			Depersonalise(&e.Manifest.Travellers[i])
		}
	}
	if e.Report != nil {
		for i := range e.Report.Flagged {
			Depersonalise(&e.Report.Flagged[i].Traveller)
		}
	}
	e.Meta = *m
	b, err := json.Marshal(sealed{Manifest: e.Manifest, Report: e.Report})
	if err != nil {
		return err
	}
	mb, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if err := tx.Bucket(bucketIndex).Put([]byte(m.ID), mb); err != nil {
		return err
	}
	return tx.Bucket(bucketSealed).Put([]byte(m.ID), s.sealer.Seal(nil, b, sealAD(m.ID)))
}

// Depersonalise masks what identifies a traveller (Art. 12(2) of the EU
// PNR Directive): names, date of birth (the year stays), document
// numbers, booking reference, seat. Role, sex, nationality and the
// route stay for analysis.
func Depersonalise(t *paxdata.Traveller) {
	t.Surname, t.GivenNames, t.DocumentNumber, t.BookingRef, t.Seat, t.DocumentExpiry = "", "", "", "", "", ""
	if len(t.BirthDate) >= 4 {
		t.BirthDate = t.BirthDate[:4]
	}
	for i := range t.OtherDocuments {
		t.OtherDocuments[i].Number, t.OtherDocuments[i].Expiry = "", ""
	}
}
