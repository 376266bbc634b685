package emrtd

import (
	"encoding/json"
	"fmt"
	"time"
)

// DumpFormat identifies the dump file format (JSON).
const DumpFormat = "checkpoint-chip-dump/1"

// Dump is what a chip read yields: the files as read (bytes exactly as
// the chip sent them, so they can be re-verified), and the outcome of the
// steps only a live chip can do.
//
// On disk it is JSON: {"format": "checkpoint-chip-dump/1", "files":
// {"COM": base64, "SOD": base64, "DG1": base64, …}, "active_auth":
// {"challenge": base64, "response": base64}, "chip_auth": {…}, …}. It
// holds personal data (the MRZ, the face): keep it encrypted or delete it.
type Dump struct {
	Format     string            `json:"format"`
	ReadAt     time.Time         `json:"read_at"`
	Access     string            `json:"access"` // PACE, BAC, none
	PACE       string            `json:"pace,omitempty"`
	CardAccess []byte            `json:"card_access,omitempty"`
	Files      map[string][]byte `json:"files"`
	// Unavailable lists files the chip lacks or withheld, with why.
	Unavailable map[string]string `json:"unavailable,omitempty"`
	// Malformed lists files whose length runs past their end (what was
	// there is in Files).
	Malformed  map[string]string `json:"malformed,omitempty"`
	ActiveAuth *AAExchange       `json:"active_auth,omitempty"`
	ChipAuth   *CAOutcome        `json:"chip_auth,omitempty"`
	Resumes    int               `json:"resumes,omitempty"`
	APDUs      int               `json:"apdus"`
	DurationMS float64           `json:"duration_ms"`
}

// AAExchange is an Active Authentication challenge and the chip's answer,
// verifiable offline with DG15.
type AAExchange struct {
	Challenge []byte `json:"challenge"`
	Response  []byte `json:"response,omitempty"`
	Error     string `json:"error,omitempty"`
}

// CAOutcome is what Chip Authentication showed (it cannot be replayed).
type CAOutcome struct {
	OID    string `json:"oid"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

// maxDump bounds a dump file.
const maxDump = 8 << 20

// ParseDump reads a dump file.
func ParseDump(b []byte) (*Dump, error) {
	if len(b) > maxDump {
		return nil, fmt.Errorf("%w: %d bytes", ErrDump, len(b))
	}
	var d Dump
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDump, err)
	}
	if d.Format != DumpFormat {
		return nil, fmt.Errorf("%w: format %q, want %q", ErrDump, d.Format, DumpFormat)
	}
	if d.Files == nil {
		d.Files = map[string][]byte{}
	}
	return &d, nil
}
