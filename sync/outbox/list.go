package outbox

import "time"

// Listed describes a queued record without its payload (which holds
// personal data): what a technician sees in `checkpointctl outbox list`.
type Listed struct {
	Key       string    `json:"key"`
	Seq       uint64    `json:"seq"`
	Kind      string    `json:"kind"`
	Priority  Priority  `json:"priority"`
	CreatedAt time.Time `json:"created_at"`
	Bytes     int       `json:"bytes"`
}

// List describes up to limit queued records in upload order (hits first,
// each class in enqueue order).
func (o *Outbox) List(limit int) ([]Listed, error) {
	recs, err := o.Peek(limit, 0)
	if err != nil {
		return nil, err
	}
	out := make([]Listed, len(recs))
	for i, r := range recs {
		out[i] = Listed{Key: r.Key, Seq: r.Seq, Kind: r.Kind, Priority: r.Priority, CreatedAt: r.CreatedAt, Bytes: len(r.Payload)}
	}
	return out, nil
}
