package outbox

import (
	"fmt"
	"time"
)

// Status is a snapshot of the outbox for health pages, metrics and
// `checkpointctl outbox status`. It holds counts only, never content.
type Status struct {
	Unit      string     `json:"unit"`
	Depth     int        `json:"depth"`
	Hits      int        `json:"hits"`
	Routine   int        `json:"routine"`
	Bytes     int64      `json:"bytes"`
	Oldest    time.Time  `json:"oldest,omitzero"`
	Evicted   uint64     `json:"evicted"`
	DiskFull  bool       `json:"disk_full"`
	LastError string     `json:"last_error,omitempty"`
	Link      LinkStatus `json:"link"`
}

// LinkState summarises the path to the hub.
type LinkState uint8

const (
	// LinkUnknown: no upload attempted yet.
	LinkUnknown LinkState = iota
	// LinkUp: the last attempt succeeded.
	LinkUp
	// LinkDegraded: the last attempt failed, but fewer than DownAfter in a
	// row, or batches succeed only after retries.
	LinkDegraded
	// LinkDown: DownAfter or more consecutive failures.
	LinkDown
)

// DownAfter is the number of consecutive failed attempts after which the
// link counts as down rather than degraded.
const DownAfter = 3

func (s LinkState) String() string {
	switch s {
	case LinkUnknown:
		return "unknown"
	case LinkUp:
		return "up"
	case LinkDegraded:
		return "degraded"
	case LinkDown:
		return "down"
	}
	return fmt.Sprintf("linkstate(%d)", uint8(s))
}

// MarshalText implements encoding.TextMarshaler.
func (s LinkState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// LinkStatus is the uploader's view of the hub.
type LinkStatus struct {
	State               LinkState `json:"state"`
	LastAttempt         time.Time `json:"last_attempt,omitzero"`
	LastSuccess         time.Time `json:"last_success,omitzero"`
	LastError           string    `json:"last_error,omitempty"`
	ConsecutiveFailures int       `json:"consecutive_failures"`
	Uploaded            uint64    `json:"uploaded"`
	// AuditAnchored is the audit sequence headquarters holds as this
	// unit's anchor; AuditStatus its last answer (ok, resync, truncated,
	// forked, invalid).
	AuditAnchored uint64 `json:"audit_anchored,omitempty"`
	AuditStatus   string `json:"audit_status,omitempty"`
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *LinkState) UnmarshalText(b []byte) error {
	for c := LinkUnknown; c <= LinkDown; c++ {
		if c.String() == string(b) {
			*s = c
			return nil
		}
	}
	return fmt.Errorf("outbox: unknown link state %q", b)
}
