package chipsim

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/checkpoint-edge/checkpoint/internal/chipsim/lds"
)

// Faults make the emulated chip misbehave the ways real chips and readers do.
// The zero value is a healthy chip. Data faults that must survive signing
// (an altered data group, unknown tags, an oversized DG2) belong to the
// issuer instead (package issuer).
type Faults struct {
	// BadResponseMAC corrupts the MAC of every secured response from the
	// Nth one (1-based) of a session on; 0 disables it.
	BadResponseMAC int `json:"bad_response_mac,omitempty"`
	// RemoveAfterReads takes the card out of the field (the vpcd connection
	// is closed) instead of answering the Nth READ BINARY since insertion;
	// 0 disables it. It fires once per Emulator.
	RemoveAfterReads int `json:"remove_after_reads,omitempty"`
	// RemovedFor puts the card back (a fresh power-up: keys and selections
	// are gone) after this pause; 0 leaves it out.
	RemovedFor Duration `json:"removed_for,omitempty"`
	// ResponseDelay is added before every response (a slow chip or a weak
	// field).
	ResponseDelay Duration `json:"response_delay,omitempty"`
	// RefuseBAC fails every MUTUAL AUTHENTICATE with 6300, right MRZ or not.
	RefuseBAC bool `json:"refuse_bac,omitempty"`
	// RefusePACE fails the last PACE step (mutual authentication) with
	// 6300, right password or not.
	RefusePACE bool `json:"refuse_pace,omitempty"`
	// Clone answers Active and Chip Authentication with fresh keys that do
	// not match DG15 and DG14, as a copy of the data on another chip would.
	Clone bool `json:"clone,omitempty"`
	// MalformedLength names files whose outer TLV length is rewritten to
	// claim 64 KiB more than the file holds.
	MalformedLength []string `json:"malformed_length,omitempty"`
}

// Duration is a time.Duration that reads and writes JSON as "250ms", "2s".
type Duration time.Duration

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON accepts "250ms"-style strings.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string like \"250ms\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	if v < 0 {
		return fmt.Errorf("negative duration %q", s)
	}
	*d = Duration(v)
	return nil
}

// malformLength rewrites the outer length of a TLV-encoded file so that it
// claims 64 KiB more than present. Files that do not parse are returned as
// they are.
func malformLength(data []byte) []byte {
	t, _, err := lds.ParseTLV(data)
	if err != nil {
		return data
	}
	tagLen := len(lds.EncodeTag(t.Tag))
	out := append([]byte(nil), data[:tagLen]...)
	out = append(out, lds.EncodeLength(len(t.Value)+0x10000)...)
	return append(out, t.Value...)
}
