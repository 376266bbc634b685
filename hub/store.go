package hub

import (
	"bytes"
	"context"
	"crypto"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/checkpoint-edge/checkpoint/audit"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/sync/outbox"
	"github.com/checkpoint-edge/checkpoint/sync/pki"
)

// Source says how a record reached the hub.
const (
	SourceUpload = "upload"
	SourceImport = "import"
)

// Store is where the hub keeps results, what it knows about units, and
// their audit anchors. Two implementations: the sealed bbolt file
// (OpenBolt, the embedded default) and PostgreSQL (OpenPostgres, for a
// fleet served by several replicas). Both give the same guarantees, checked
// by one test suite (storetest_test.go):
//
//   - Ingest stores each idempotency key at most once and commits the
//     whole batch (and the audit anchor) in one transaction before it
//     returns; the keys it returns are all held.
//   - Per unit, records get unit_seq 1, 2, 3, … in commit order, with no
//     gap and no race between replicas.
//   - Results are sealed with the hub's data key (wrapped by its KEK);
//     only metadata (unit, times, kind, decision, categories, watchlist
//     entry references, hit count) is stored in clear for queries.
//
// Errors other than ErrBadBatch mean "storage unavailable": nothing of the
// call was committed that the answer does not say, and the unit resends.
type Store interface {
	Ingest(ctx context.Context, req IngestRequest) (IngestResult, error)
	// Results answers a query, one page at a time.
	Results(ctx context.Context, q Query) (Page, error)
	// Units lists every unit the hub has heard from.
	Units(ctx context.Context) ([]UnitInfo, error)
	// EntryHits counts hits per watchlist entry ("where has this person
	// been seen?").
	EntryHits(ctx context.Context, q EntryQuery) ([]EntrySummary, error)
	// ResetAudit clears a unit's audit flag; its next signed head is
	// adopted as the new anchor.
	ResetAudit(ctx context.Context, unit string) error
	// Lead makes this replica the one that runs a singleton job (alert
	// publishing) if no other does: ok false means another leads. lost is
	// closed if leadership is lost (the database connection that holds it
	// broke); release gives it up.
	Lead(ctx context.Context, name string) (lost <-chan struct{}, release func(), ok bool, err error)
	// Watch calls fn with every hit and officer decision committed by any
	// replica, until ctx ends (feeds GET /v1/hits/stream).
	Watch(ctx context.Context, fn func([]Stored)) error
	// RotateKEK re-wraps the data key under newKP's key.
	RotateKEK(ctx context.Context, newKP seal.KeyProvider) error
	// Close releases the store; it is idempotent.
	Close() error
}

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
	Unit         string     `json:"unit"`
	FirstContact time.Time  `json:"first_contact"`
	LastContact  time.Time  `json:"last_contact"`
	Records      uint64     `json:"records"`
	Duplicates   uint64     `json:"duplicates"`
	LastImport   time.Time  `json:"last_import,omitzero"`
	Audit        AuditState `json:"audit"`
}

// IngestRequest is one batch or import of one unit.
type IngestRequest struct {
	Unit    string
	Records []outbox.Record
	Source  string
	// Audit is the unit's signed audit head (may be nil), checked against
	// the anchored one with UnitKey, the public key of the unit's
	// certificate.
	Audit   *audit.Anchor
	UnitKey crypto.PublicKey
	// payloadsChecked: decodeBatch decoded every payload as JSON already.
	payloadsChecked bool
}

// IngestResult reports one batch or import.
type IngestResult struct {
	Unit       string     `json:"unit"`
	Acked      []string   `json:"acked"`
	New        int        `json:"new"`
	Duplicates int        `json:"duplicates"`
	Audit      *audit.Ack `json:"audit,omitempty"`
	// AuditFlag is the flag this call raised ("" if none).
	AuditFlag string `json:"-"`
	// Feed lists the new hits and officer decisions, for the live feed.
	Feed []Stored `json:"-"`
}

// Query selects results. Two orders: "arrival" (one unit, by unit_seq: the
// unit's own reads and exports) and "time" (by created_at, then unit and
// unit_seq: analysts). The default is arrival when Unit is set and no time
// range is, time otherwise.
type Query struct {
	Unit     string    `json:"unit,omitempty"`
	After    uint64    `json:"after,omitempty"` // arrival order: unit_seq > After
	Since    time.Time `json:"since,omitzero"`  // created_at >= Since
	Until    time.Time `json:"until,omitzero"`  // created_at < Until
	Kind     string    `json:"kind,omitempty"`
	Decision string    `json:"decision,omitempty"` // CLEAR, REFER, HIT
	Category string    `json:"category,omitempty"`
	Entry    string    `json:"entry,omitempty"` // watchlist entry "kind:ref_id"
	TxID     string    `json:"tx_id,omitempty"` // one transaction's result and officer decisions
	Order    string    `json:"order,omitempty"` // arrival or time
	Limit    int       `json:"limit,omitempty"`
	Cursor   string    `json:"cursor,omitempty"` // Page.Next of the previous page
}

// Query orders.
const (
	OrderArrival = "arrival"
	OrderTime    = "time"
)

// MaxPage bounds one page of results.
const MaxPage = 10000

// Page is one page of a query; Next (empty on the last page) fetches the
// following one.
type Page struct {
	Results []Stored `json:"results"`
	Next    string   `json:"next,omitempty"`
}

// EntryQuery selects hits per watchlist entry.
type EntryQuery struct {
	Entry string    `json:"entry,omitempty"` // one entry, or all
	Since time.Time `json:"since,omitzero"`
	Until time.Time `json:"until,omitzero"`
	Limit int       `json:"limit,omitempty"`
}

// EntrySummary is where one watchlist entry was hit.
type EntrySummary struct {
	Entry     string    `json:"entry"`
	Hits      int       `json:"hits"`
	Units     []string  `json:"units"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// normalize checks q and fills defaults.
func (q *Query) normalize() error {
	if q.Unit != "" {
		if err := pki.ValidUnitID(q.Unit); err != nil {
			return fmt.Errorf("%w: %w", ErrBadQuery, err)
		}
	}
	if q.Order == "" {
		q.Order = OrderTime
		if q.Unit != "" && q.Since.IsZero() && q.Until.IsZero() {
			q.Order = OrderArrival
		}
	}
	switch q.Order {
	case OrderArrival:
		if q.Unit == "" {
			return fmt.Errorf("%w: arrival order needs a unit", ErrBadQuery)
		}
	case OrderTime:
		if q.After != 0 {
			return fmt.Errorf("%w: after is for arrival order", ErrBadQuery)
		}
	default:
		return fmt.Errorf("%w: order %q (want arrival or time)", ErrBadQuery, q.Order)
	}
	switch q.Decision {
	case "", "CLEAR", "REFER", "HIT":
	default:
		return fmt.Errorf("%w: decision %q (want CLEAR, REFER or HIT)", ErrBadQuery, q.Decision)
	}
	for _, s := range []string{q.Kind, q.Category, q.Entry, q.TxID} {
		if len(s) > 200 {
			return fmt.Errorf("%w: filter longer than 200 bytes", ErrBadQuery)
		}
	}
	if q.Limit <= 0 {
		q.Limit = 1000
	}
	q.Limit = min(q.Limit, MaxPage)
	return nil
}

// meta is the clear-text metadata of a record, for queries and the feed.
// It is read from the payload the unit's lane writes (lane.Result and the
// officer decision); any other shape yields empty metadata.
type meta struct {
	TxID       string
	Decision   string
	Verdict    string
	Categories []string
	Entries    []string
	Hits       int
}

func recordMeta(r *outbox.Record) meta {
	var p struct {
		TxID     string `json:"tx_id"`
		Decision string `json:"decision"`
		Verdict  string `json:"verdict"`
		Hits     []struct {
			Kind     string `json:"kind"`
			RefID    string `json:"ref_id"`
			Category string `json:"category"`
		} `json:"hits"`
	}
	if json.Unmarshal(r.Payload, &p) != nil {
		return meta{}
	}
	m := meta{TxID: clip(p.TxID), Decision: clip(p.Decision), Verdict: clip(p.Verdict), Hits: len(p.Hits)}
	switch m.Decision {
	case "CLEAR", "REFER", "HIT":
	default:
		m.Decision = ""
	}
	for _, h := range p.Hits {
		if c := clip(h.Category); c != "" && !slices.Contains(m.Categories, c) {
			m.Categories = append(m.Categories, c)
		}
		if h.RefID != "" {
			if e := clip(h.Kind + ":" + h.RefID); !slices.Contains(m.Entries, e) {
				m.Entries = append(m.Entries, e)
			}
		}
	}
	return m
}

// clip drops metadata values that are too long or hold control
// characters (the PostgreSQL store joins arrays with \x1f).
func clip(s string) string {
	if len(s) > 200 {
		return ""
	}
	for _, c := range s {
		if c < 0x20 || c == 0x7f {
			return ""
		}
	}
	return s
}

// feedWorthy reports whether a record goes to the live feed: every HIT and
// every officer decision.
func feedWorthy(r *outbox.Record, m meta) bool {
	return m.Decision == "HIT" || r.Kind == "officer_decision"
}

// checkRequest validates a batch before any storage work: the unit id, the
// records, and that every key belongs to the unit so that one unit cannot
// overwrite or shadow another's records.
func checkRequest(req *IngestRequest) error {
	if err := pki.ValidUnitID(req.Unit); err != nil {
		return fmt.Errorf("%w: %w", ErrBadBatch, err)
	}
	switch req.Source {
	case SourceUpload, SourceImport:
	default:
		return fmt.Errorf("%w: source %q", ErrBadBatch, req.Source)
	}
	for i := range req.Records {
		check := req.Records[i].Validate
		if req.payloadsChecked {
			check = req.Records[i].ValidateFields
		}
		if err := check(); err != nil {
			return fmt.Errorf("%w: record %d: %w", ErrBadBatch, i, err)
		}
		if !strings.HasPrefix(req.Records[i].Key, req.Unit+":") {
			return fmt.Errorf("%w: record %d: key does not belong to unit %s", ErrBadBatch, i, req.Unit)
		}
	}
	if len(req.Records) == 0 && req.Audit == nil {
		return fmt.Errorf("%w: empty batch", ErrBadBatch)
	}
	return nil
}

// resultAD binds a sealed result to its unit and unit_seq, so a sealed
// value cannot be moved to another row.
func resultAD(unit string, seq uint64) []byte {
	return append([]byte("results/"+unit+"/"), seqKey(seq)...)
}

func seqKey(seq uint64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, seq)
	return k
}

// sealStored encodes and seals a stored record. The payload, validated
// JSON already, is spliced in as it is: encoding/json would otherwise scan
// and compact it once more, the largest cost of ingestion after the
// database.
func sealStored(s *seal.Sealer, st *Stored) ([]byte, error) {
	if plain, ok := encodeStored(st); ok {
		return s.Seal(nil, plain, resultAD(st.Unit, st.UnitSeq)), nil
	}
	c := *st
	payload := c.Payload
	c.Payload = json.RawMessage("0")
	head, err := json.Marshal(&c)
	if err != nil {
		return nil, err
	}
	i := bytes.Index(head, []byte(`"payload":0`))
	if i < 0 {
		return nil, errors.New("hub: cannot encode a stored record")
	}
	i += len(`"payload":`)
	plain := make([]byte, 0, len(head)+len(payload))
	plain = append(append(append(plain, head[:i]...), payload...), head[i+1:]...)
	return s.Seal(nil, plain, resultAD(st.Unit, st.UnitSeq)), nil
}

func openStored(s *seal.Sealer, unit string, seq uint64, sealed []byte) (Stored, error) {
	var st Stored
	plain, err := s.Open(nil, sealed, resultAD(unit, seq))
	if err != nil {
		return st, fmt.Errorf("unit %s seq %d: %w", unit, seq, err)
	}
	if err := json.Unmarshal(plain, &st); err != nil {
		return st, fmt.Errorf("unit %s seq %d: %w", unit, seq, err)
	}
	if st.Unit != unit || st.UnitSeq != seq {
		return st, fmt.Errorf("unit %s seq %d: %w", unit, seq, seal.ErrIntegrity)
	}
	return st, nil
}

// rotationKEKs reads the current and the new key-encryption keys of a
// rotation; the caller wipes both.
func rotationKEKs(cur, next seal.KeyProvider) (oldKEK, newKEK []byte, err error) {
	if oldKEK, err = cur.KEK(); err != nil {
		return nil, nil, fmt.Errorf("hub: key %s: %w", cur, err)
	}
	if newKEK, err = next.KEK(); err != nil {
		seal.Wipe(oldKEK)
		return nil, nil, fmt.Errorf("hub: new key %s: %w", next, err)
	}
	return oldKEK, newKEK, nil
}
