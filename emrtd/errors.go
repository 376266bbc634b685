package emrtd

import (
	"errors"
	"fmt"
)

var (
	// ErrAccessDenied is returned when the chip refuses the access key:
	// the MRZ (or CAN) given does not open this chip.
	ErrAccessDenied = errors.New("chip refused access: MRZ does not open this chip")
	// ErrNoChip is returned when no card came to the reader in time.
	ErrNoChip = errors.New("no chip presented")
	// ErrRemoved is returned when the card left the reader and did not
	// come back within the resume window.
	ErrRemoved = errors.New("chip removed during the read")
	// ErrTimeout is returned when the whole read's deadline passed.
	ErrTimeout = errors.New("chip read took too long")
	// ErrProtocol is returned when the chip answers outside the protocol
	// (malformed responses, unexpected status words, bad secure
	// messaging).
	ErrProtocol = errors.New("chip protocol error")
	// ErrTooLarge is returned when a file announces more bytes than its
	// limit allows.
	ErrTooLarge = errors.New("chip file larger than allowed")
	// ErrKey is returned when the access key is unusable (missing or
	// malformed MRZ fields, CAN not six digits).
	ErrKey = errors.New("access key unusable")
	// ErrDump is returned for a dump file that cannot be read.
	ErrDump = errors.New("chip dump unreadable")
)

// SWError is a status word the chip answered with.
type SWError struct {
	Op string
	SW uint16
}

func (e *SWError) Error() string {
	return fmt.Sprintf("%s: chip answered %04X (%s)", e.Op, e.SW, swText(e.SW))
}

func swText(sw uint16) string {
	switch {
	case sw == 0x6982:
		return "security status not satisfied"
	case sw == 0x6A82:
		return "file not found"
	case sw == 0x6300 || sw&0xFFF0 == 0x63C0:
		return "authentication failed"
	case sw == 0x6988 || sw == 0x6987:
		return "secure messaging objects wrong"
	case sw == 0x6D00:
		return "instruction not supported"
	case sw == 0x6A80:
		return "incorrect data"
	case sw == 0x6700:
		return "wrong length"
	case sw == 0x6B00:
		return "offset outside the file"
	case sw == 0x6985:
		return "conditions of use not satisfied"
	}
	return "error"
}
