package scanner

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Encode frames lines the way a reader using framing f sends them: CRLF
// after each line for the lines framing and inside envelopes, the BCC and
// vendor length as documented on each Framing, and {"mrz":[…]} for JSON.
// It is what `checkpointctl scanner simulate` writes and what tests feed
// the Decoder.
func Encode(f Framing, lines []string) ([]byte, error) {
	if len(lines) == 0 {
		return nil, fmt.Errorf("%w: no lines", ErrEncode)
	}
	for _, l := range lines {
		if strings.ContainsAny(l, "\r\n\x01\x02\x03") {
			return nil, fmt.Errorf("%w: a line holds a control byte", ErrEncode)
		}
	}
	text := strings.Join(lines, "\r\n")
	switch f {
	case FramingLines:
		return []byte(text + "\r\n"), nil
	case FramingSTX, FramingSTXBCC:
		if len(text) > MaxFrame {
			return nil, fmt.Errorf("%w: payload of %d bytes exceeds %d", ErrEncode, len(text), MaxFrame)
		}
		b := make([]byte, 0, len(text)+3)
		b = append(b, STX)
		b = append(b, text...)
		b = append(b, ETX)
		if f == FramingSTXBCC {
			b = append(b, BCC(b))
		}
		return b, nil
	case FramingVendor:
		if len(text) > MaxFrame {
			return nil, fmt.Errorf("%w: payload of %d bytes exceeds %d", ErrEncode, len(text), MaxFrame)
		}
		b := make([]byte, 0, len(text)+6)
		b = append(b, SOH, byte(len(text)), byte(len(text)>>8), STX)
		b = append(b, text...)
		b = append(b, ETX)
		return append(b, BCC(b)), nil
	case FramingJSON:
		payload, err := json.Marshal(struct {
			MRZ []string `json:"mrz"`
		}{lines})
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrEncode, err)
		}
		if len(payload) > MaxFrame {
			return nil, fmt.Errorf("%w: payload of %d bytes exceeds %d", ErrEncode, len(payload), MaxFrame)
		}
		b := make([]byte, 0, len(payload)+2)
		b = append(b, STX)
		b = append(b, payload...)
		return append(b, ETX), nil
	}
	return nil, fmt.Errorf("%w: %v", ErrFraming, f)
}

// Noise returns line noise for framing f that a correct decoder must skip
// without losing the next frame: control and non-ASCII bytes, a junk text
// line, and for envelope framings a truncated envelope and stray start
// bytes. seed varies the pattern.
func Noise(f Framing, seed int) []byte {
	junk := []byte{0x00, 0xff, 0x11, 0x13, 0x7f, 0x1b, 0x80 | byte(seed&0x7f)}
	switch f {
	case FramingLines:
		// Control bytes are dropped; a junk line is rejected as not MRZ.
		return append(junk, fmt.Sprintf("NOISE %d\r\n", seed)...)
	case FramingVendor:
		// A stray SOH followed by a length that does not fit, then the
		// start of an envelope that never ends.
		b := append(junk, SOH, 0xff, 0xff, 'X', SOH, 5, 0, STX, 'P', '<')
		return append(b, fmt.Sprintf("junk %d", seed)...)
	default:
		// Text outside envelopes, then an envelope cut short by the next STX.
		b := append(junk, fmt.Sprintf("junk %d ", seed)...)
		return append(b, STX, 'P', '<', 'U', 'T', 'O', ETX^0xff)
	}
}
