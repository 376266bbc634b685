package outbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/checkpoint-edge/checkpoint/audit"
)

// Priority orders uploads and decides retention. The zero value is invalid
// so that a caller that forgets to classify an item is told so instead of
// having a hit silently treated as routine.
type Priority uint8

const (
	// Routine records (clear results) may be evicted beyond the quota.
	Routine Priority = 1
	// Hit records are uploaded first and never dropped.
	Hit Priority = 2
)

func (p Priority) String() string {
	switch p {
	case Routine:
		return "routine"
	case Hit:
		return "hit"
	}
	return fmt.Sprintf("priority(%d)", uint8(p))
}

// MarshalText implements encoding.TextMarshaler.
func (p Priority) MarshalText() ([]byte, error) {
	if p != Routine && p != Hit {
		return nil, fmt.Errorf("%w: priority %d", ErrInvalidItem, p)
	}
	return []byte(p.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (p *Priority) UnmarshalText(b []byte) error {
	switch string(b) {
	case "routine":
		*p = Routine
	case "hit":
		*p = Hit
	default:
		return fmt.Errorf("%w: priority %q", ErrInvalidItem, b)
	}
	return nil
}

// Item is what the daemon hands to Enqueue. The payload is opaque JSON the
// daemon builds (decision, hits, scores, document data HQ needs, officer
// decision, a face image only when policy says so).
type Item struct {
	Kind      string // "result", "decision", …; 1-64 bytes
	Priority  Priority
	CreatedAt time.Time // zero means now
	Payload   json.RawMessage
}

// Entry identifies a stored item.
type Entry struct {
	Seq            uint64
	IdempotencyKey string
}

// Record is a stored item as uploaded and exported: the wire format of
// POST /v1/results (see api/hub.openapi.yaml).
type Record struct {
	Key       string          `json:"key"`
	Seq       uint64          `json:"seq"`
	Kind      string          `json:"kind"`
	Priority  Priority        `json:"priority"`
	CreatedAt time.Time       `json:"created_at"`
	Payload   json.RawMessage `json:"payload"`
}

// Batch is the body of POST /v1/results. Audit, when the unit has an
// audit log, is its signed head with the entries since the head
// headquarters last acknowledged (see audit.Anchor); a batch may then have
// no items.
type Batch struct {
	Items []Record      `json:"items"`
	Audit *audit.Anchor `json:"audit,omitempty"`
}

// BatchResponse is the hub's answer: the keys it now holds (newly stored or
// already known). The unit deletes exactly those. Audit answers the
// batch's audit anchor.
type BatchResponse struct {
	Unit  string     `json:"unit"`
	Acked []string   `json:"acked"`
	Audit *audit.Ack `json:"audit,omitempty"`
}

// Limits on items, checked by Enqueue and by the hub.
const (
	MaxKindLen     = 64
	MaxKeyLen      = 128
	MaxPayloadSize = 4 << 20
)

// Validate checks a record received from the wire.
func (r *Record) Validate() error {
	if err := r.ValidateFields(); err != nil {
		return err
	}
	if !json.Valid(r.Payload) {
		return fmt.Errorf("%w: payload is not JSON", ErrInvalidItem)
	}
	return nil
}

// ValidateFields is Validate without the payload's JSON syntax check, for
// callers whose decoder already checked it (a json.RawMessage decoded by
// encoding/json is valid JSON).
func (r *Record) ValidateFields() error {
	if r.Key == "" || len(r.Key) > MaxKeyLen {
		return fmt.Errorf("%w: key length %d", ErrInvalidItem, len(r.Key))
	}
	if r.Kind == "" || len(r.Kind) > MaxKindLen {
		return fmt.Errorf("%w: kind length %d", ErrInvalidItem, len(r.Kind))
	}
	if r.Priority != Hit && r.Priority != Routine {
		return fmt.Errorf("%w: priority %d", ErrInvalidItem, r.Priority)
	}
	if len(r.Payload) == 0 || len(r.Payload) > MaxPayloadSize {
		return fmt.Errorf("%w: payload empty or larger than %d bytes", ErrInvalidItem, MaxPayloadSize)
	}
	return nil
}

// marshal encodes v without HTML escaping, so payloads keep their bytes
// ('<' is common in MRZ data) apart from insignificant white space.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
