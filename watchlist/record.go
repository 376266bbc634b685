package watchlist

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"time"
)

// Kind names a record type.
type Kind string

// Record kinds.
const (
	KindDocument Kind = "document"
	KindPerson   Kind = "person"
)

// Action codes tell the officer what to do on a hit.
const (
	ActionArrest        = "arrest"
	ActionRefer         = "refer"          // refer to second-line inspection
	ActionDiscreetCheck = "discreet_check" // do not alert the traveller
	ActionAlertOnly     = "alert_only"
)

// DocumentAlert is a lost, stolen, revoked or otherwise invalid document.
type DocumentAlert struct {
	ID           string `json:"id"` // reference id, unique within the watchlist
	IssuingState string `json:"issuing_state"`
	DocumentType string `json:"document_type,omitempty"` // "P", "I", "ID", "V"… empty = any
	Number       string `json:"number"`
	Status       string `json:"status"` // stolen, lost, revoked, invalidated, …
	Source       string `json:"source"` // SLTD, national, …
	Action       string `json:"action"`
	ReportedAt   string `json:"reported_at,omitempty"` // YYYY-MM-DD
	ExpiresAt    string `json:"expires_at,omitempty"`  // YYYY-MM-DD, when the alert lapses
}

// Name is a person's name as listed. Surname and GivenNames are in the
// original script; the MRZ forms are filled at import (ICAO 9303 Part 3
// transliteration, recommended and alternative forms) when absent.
type Name struct {
	Surname    string   `json:"surname"`
	GivenNames string   `json:"given_names,omitempty"`
	MRZ        []string `json:"mrz,omitempty"` // "SURNAME<<GIVEN<NAMES" forms
}

// FaceTemplate is a face embedding of a listed person.
type FaceTemplate struct {
	ID      string    `json:"id"`
	ModelID string    `json:"model_id"` // templates of another model are never compared
	Quality float32   `json:"quality,omitempty"`
	Vector  []float32 `json:"vector"`
}

// PersonAlert is a wanted, flagged or otherwise listed person.
type PersonAlert struct {
	ID          string         `json:"id"`
	Name        Name           `json:"name"`
	Aliases     []Name         `json:"aliases,omitempty"`
	Birth       string         `json:"birth,omitempty"` // "1980", "1980-03" or "1980-03-12"
	Nationality string         `json:"nationality,omitempty"`
	Sex         string         `json:"sex,omitempty"` // M, F, X
	Category    string         `json:"category"`      // wanted, foreign_terrorist_fighter, missing, refused_entry, …
	Action      string         `json:"action"`
	Source      string         `json:"source"`
	Faces       []FaceTemplate `json:"faces,omitempty"`
	Photo       []byte         `json:"photo,omitempty"` // reference photo (JPEG), base64 in JSON
}

// Meta describes the installed watchlist version.
type Meta struct {
	WatchlistID string    `json:"watchlist_id"`
	Sequence    uint64    `json:"sequence"` // version; strictly increasing
	Authority   string    `json:"authority,omitempty"`
	IssuedAt    time.Time `json:"issued_at"`
	ExpiresAt   time.Time `json:"expires_at"`
	FaceModelID string    `json:"face_model_id,omitempty"`
	Documents   int64     `json:"documents"`
	Persons     int64     `json:"persons"`
	Faces       int64     `json:"faces"`
	StateHash   string    `json:"state_hash"` // hex StateHash of the record set
	InstalledAt time.Time `json:"installed_at"`
	// Unsigned marks a local import of a plain file: no signature was
	// checked, and it does not move the signed sequence (provenance.go).
	Unsigned bool `json:"unsigned,omitempty"`
}

// Op is what a Change does.
type Op string

// Change operations.
const (
	OpPut    Op = "put" // add or replace
	OpDelete Op = "delete"
)

// Change is one record of a bundle or an import: a put carries the record,
// a delete names it by kind and id.
type Change struct {
	Op       Op             `json:"op"`
	Kind     Kind           `json:"kind"`
	ID       string         `json:"id"`
	Document *DocumentAlert `json:"document,omitempty"`
	Person   *PersonAlert   `json:"person,omitempty"`
}

// Validate checks that a change is self-consistent.
func (c *Change) Validate() error {
	switch c.Op {
	case OpPut:
		switch c.Kind {
		case KindDocument:
			if c.Document == nil || c.Person != nil || c.Document.ID != c.ID {
				return fmt.Errorf("%w: document put %q", ErrBadRecord, c.ID)
			}
		case KindPerson:
			if c.Person == nil || c.Document != nil || c.Person.ID != c.ID {
				return fmt.Errorf("%w: person put %q", ErrBadRecord, c.ID)
			}
		default:
			return fmt.Errorf("%w: unknown kind %q", ErrBadRecord, c.Kind)
		}
	case OpDelete:
		if c.Kind != KindDocument && c.Kind != KindPerson {
			return fmt.Errorf("%w: unknown kind %q", ErrBadRecord, c.Kind)
		}
		if c.Document != nil || c.Person != nil {
			return fmt.Errorf("%w: delete %q carries a record", ErrBadRecord, c.ID)
		}
	default:
		return fmt.Errorf("%w: unknown op %q", ErrBadRecord, c.Op)
	}
	if c.ID == "" {
		return fmt.Errorf("%w: empty id", ErrBadRecord)
	}
	return nil
}

// RecordDigest is the SHA-256 of a record's kind, id and canonical JSON
// encoding (encoding/json of the struct: field order fixed, no maps).
// Builders and stores compute it the same way so that the state hash of a
// bundle can be checked after applying it.
func RecordDigest(kind Kind, id string, record any) ([32]byte, error) {
	b, err := json.Marshal(record)
	if err != nil {
		return [32]byte{}, err
	}
	h := sha256.New()
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write([]byte(id))
	h.Write([]byte{0})
	h.Write(b)
	var d [32]byte
	h.Sum(d[:0])
	return d, nil
}

// StateHash is an order-independent hash of a set of records: the sum of
// their digests modulo 2^256. Adding and removing records updates it in
// O(1), so a delta can be checked without rehashing the whole list.
type StateHash struct{ v big.Int }

var mod256 = new(big.Int).Lsh(big.NewInt(1), 256)

// Add includes a record digest.
func (h *StateHash) Add(d [32]byte) {
	h.v.Add(&h.v, new(big.Int).SetBytes(d[:]))
	h.v.Mod(&h.v, mod256)
}

// Sub removes a record digest previously added.
func (h *StateHash) Sub(d [32]byte) {
	h.v.Sub(&h.v, new(big.Int).SetBytes(d[:]))
	h.v.Mod(&h.v, mod256)
}

// String is the 64-hex-digit form stored in Meta and bundle headers.
func (h *StateHash) String() string {
	var b [32]byte
	h.v.FillBytes(b[:])
	return hex.EncodeToString(b[:])
}

// ParseStateHash reads the String form.
func ParseStateHash(s string) (StateHash, error) {
	var h StateHash
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		return h, fmt.Errorf("watchlist: bad state hash %q", s)
	}
	h.v.SetBytes(b)
	return h, nil
}
