package chipsim

import (
	"errors"
	"fmt"
)

// ErrAPDU is returned (wrapped) by ParseCommand for a byte string that is no
// ISO/IEC 7816-4 command APDU.
var ErrAPDU = errors.New("chipsim: malformed command APDU")

// Command is a decoded command APDU (ISO/IEC 7816-4 §5.1).
type Command struct {
	CLA, INS, P1, P2 byte
	Data             []byte
	// Ne is the maximum number of response bytes expected: 0 when there is
	// no Le field, 256 for a short Le of 00, 65536 for an extended Le of
	// 0000.
	Ne int
	// Extended is set when the APDU used extended length fields.
	Extended bool
}

// ParseCommand decodes cases 1, 2S, 3S, 4S, 2E, 3E and 4E.
func ParseCommand(b []byte) (Command, error) {
	if len(b) < 4 {
		return Command{}, fmt.Errorf("%w: %d bytes", ErrAPDU, len(b))
	}
	c := Command{CLA: b[0], INS: b[1], P1: b[2], P2: b[3]}
	body := b[4:]
	switch {
	case len(body) == 0: // case 1
		return c, nil
	case len(body) == 1: // case 2S
		c.Ne = shortNe(body[0])
		return c, nil
	case body[0] != 0: // case 3S or 4S
		lc := int(body[0])
		switch len(body) {
		case 1 + lc:
			c.Data = body[1:]
		case 2 + lc:
			c.Data = body[1 : 1+lc]
			c.Ne = shortNe(body[1+lc])
		default:
			return Command{}, fmt.Errorf("%w: Lc %d with %d body bytes", ErrAPDU, lc, len(body))
		}
		return c, nil
	}
	// body[0] == 0: extended lengths.
	c.Extended = true
	if len(body) == 3 { // case 2E
		c.Ne = extNe(body[1], body[2])
		return c, nil
	}
	if len(body) < 3 {
		return Command{}, fmt.Errorf("%w: truncated extended length", ErrAPDU)
	}
	lc := int(body[1])<<8 | int(body[2])
	if lc == 0 {
		return Command{}, fmt.Errorf("%w: extended Lc of zero", ErrAPDU)
	}
	switch len(body) {
	case 3 + lc: // case 3E
		c.Data = body[3:]
	case 5 + lc: // case 4E
		c.Data = body[3 : 3+lc]
		c.Ne = extNe(body[3+lc], body[4+lc])
	default:
		return Command{}, fmt.Errorf("%w: extended Lc %d with %d body bytes", ErrAPDU, lc, len(body))
	}
	return c, nil
}

func shortNe(le byte) int {
	if le == 0 {
		return 256
	}
	return int(le)
}

func extNe(hi, lo byte) int {
	n := int(hi)<<8 | int(lo)
	if n == 0 {
		return 65536
	}
	return n
}

// Bytes encodes the command, choosing extended lengths when Extended is set
// or a field does not fit a short one.
func (c Command) Bytes() []byte {
	out := []byte{c.CLA, c.INS, c.P1, c.P2}
	ext := c.Extended || len(c.Data) > 255 || c.Ne > 256
	if ext {
		if len(c.Data) > 0 {
			out = append(out, 0, byte(len(c.Data)>>8), byte(len(c.Data)))
			out = append(out, c.Data...)
		}
		if c.Ne > 0 {
			if len(c.Data) == 0 {
				out = append(out, 0)
			}
			n := c.Ne
			if n >= 65536 {
				n = 0
			}
			out = append(out, byte(n>>8), byte(n))
		}
		return out
	}
	if len(c.Data) > 0 {
		out = append(out, byte(len(c.Data)))
		out = append(out, c.Data...)
	}
	if c.Ne > 0 {
		out = append(out, byte(c.Ne)) // 256 becomes 00
	}
	return out
}

// Status words used by the chip (ISO/IEC 7816-4 §5.6).
const (
	swOK                 = 0x9000
	swAuthFailed         = 0x6300 // MUTUAL AUTHENTICATE or PACE token wrong
	swWrongLength        = 0x6700
	swSMNotSupported     = 0x6882
	swChainingNotSupp    = 0x6884
	swSecurityStatus     = 0x6982 // access denied before BAC/PACE
	swConditionsNotSat   = 0x6985
	swNoCurrentEF        = 0x6986
	swSMMissing          = 0x6987 // expected SM data objects missing
	swSMIncorrect        = 0x6988 // SM data objects incorrect (bad MAC)
	swWrongData          = 0x6A80
	swFileNotFound       = 0x6A82
	swWrongP1P2          = 0x6A86
	swRefDataNotFound    = 0x6A88
	swOffsetOutside      = 0x6B00
	swINSNotSupported    = 0x6D00
	swCLANotSupported    = 0x6E00
	swNoPreciseDiagnosis = 0x6F00
)

func appendSW(data []byte, sw uint16) []byte {
	return append(data, byte(sw>>8), byte(sw))
}
