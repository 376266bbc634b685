package scanner

import (
	"fmt"
	"strings"
)

// Framing says how a reader delimits one document in its byte stream.
// Its string form ("lines", "stx", "stx-bcc", "vendor", "json") is what
// configs and flags use; the zero value is FramingLines.
type Framing int

const (
	// FramingLines is plain text: each MRZ line ends with CR, LF or CRLF. Lines are
	// grouped into a document by width (3×30 = TD1, 2×36, 2×44) and by the
	// inter-line timeout.
	FramingLines Framing = iota
	// FramingSTX is STX (0x02), the lines separated by CR/LF, ETX (0x03).
	FramingSTX
	// FramingSTXBCC is STX, lines, ETX, then one block check character: the XOR of
	// every byte after STX up to and including ETX (payload bytes and ETX).
	FramingSTXBCC
	// FramingVendor is SOH (0x01), the payload length as 2 bytes little-endian,
	// STX, payload (lines separated by CR/LF), ETX, then a block check
	// character: the XOR of every byte after SOH up to and including ETX
	// (both length bytes, STX, payload bytes and ETX). The length counts
	// the payload bytes only.
	FramingVendor
	// FramingJSON is STX, a JSON payload, ETX. The payload is an object with an
	// "mrz" or "lines" member holding an array of lines or one string with
	// newlines, or a bare array of strings, or a bare string.
	FramingJSON
)

// Control bytes used by the envelope framings.
const (
	SOH byte = 0x01 // start of heading: opens a vendor envelope
	STX byte = 0x02 // start of text
	ETX byte = 0x03 // end of text
)

var framingNames = [...]string{FramingLines: "lines", FramingSTX: "stx", FramingSTXBCC: "stx-bcc", FramingVendor: "vendor", FramingJSON: "json"}

// Framings lists every framing, in the order of their names in help texts.
func Framings() []Framing {
	return []Framing{FramingLines, FramingSTX, FramingSTXBCC, FramingVendor, FramingJSON}
}

// FramingNames is the list of valid names, for flag help and errors.
func FramingNames() string { return strings.Join(framingNames[:], ", ") }

func (f Framing) String() string {
	if f < 0 || int(f) >= len(framingNames) {
		return fmt.Sprintf("framing(%d)", int(f))
	}
	return framingNames[f]
}

// ParseFraming maps a name to a Framing; the empty string is FramingLines.
// Names are case-insensitive.
func ParseFraming(s string) (Framing, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return FramingLines, nil
	}
	for i, n := range framingNames {
		if n == s {
			return Framing(i), nil
		}
	}
	return 0, fmt.Errorf("%w %q: want one of %s", ErrFraming, s, FramingNames())
}

// MarshalText implements encoding.TextMarshaler (YAML, JSON).
func (f Framing) MarshalText() ([]byte, error) {
	if f < 0 || int(f) >= len(framingNames) {
		return nil, fmt.Errorf("%w: %d", ErrFraming, int(f))
	}
	return []byte(framingNames[f]), nil
}

// UnmarshalText implements encoding.TextUnmarshaler (YAML, JSON).
func (f *Framing) UnmarshalText(b []byte) error {
	v, err := ParseFraming(string(b))
	if err != nil {
		return err
	}
	*f = v
	return nil
}

// Set implements pflag.Value so a Framing can be a command-line flag.
func (f *Framing) Set(s string) error { return f.UnmarshalText([]byte(s)) }

// Type implements pflag.Value.
func (f *Framing) Type() string { return "framing" }
