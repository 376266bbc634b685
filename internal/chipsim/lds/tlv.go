// Package lds holds the encodings shared by the emulated chip and the issuer
// tooling: BER-TLV (ISO/IEC 7816-4 §5.2) and the object identifiers of Doc
// 9303 and BSI TR-03110. Test tooling only.
package lds

import (
	"errors"
	"fmt"
)

// BER-TLV as ISO/IEC 7816-4 §5.2 and ISO/IEC 8825-1 use it on eMRTDs: tags
// of one to three bytes, definite lengths of up to four bytes.

// ErrTLV is returned (wrapped) for malformed BER-TLV.
var ErrTLV = errors.New("lds: malformed BER-TLV")

// TLV is one decoded element. Raw is the whole element (tag, length and
// value) as found in the input.
type TLV struct {
	Tag   uint32
	Value []byte
	Raw   []byte
}

// Constructed reports whether the tag's constructed bit (b6 of the first
// byte) is set.
func (t TLV) Constructed() bool {
	first := t.Tag
	for first > 0xFF {
		first >>= 8
	}
	return first&0x20 != 0
}

// ParseTLV reads one element from b and returns it with the bytes after it.
func ParseTLV(b []byte) (TLV, []byte, error) {
	if len(b) == 0 {
		return TLV{}, nil, fmt.Errorf("%w: empty input", ErrTLV)
	}
	i := 0
	tag := uint32(b[0])
	i++
	if b[0]&0x1F == 0x1F {
		for {
			if i >= len(b) {
				return TLV{}, nil, fmt.Errorf("%w: truncated tag", ErrTLV)
			}
			if i >= 3 {
				return TLV{}, nil, fmt.Errorf("%w: tag longer than 3 bytes", ErrTLV)
			}
			tag = tag<<8 | uint32(b[i])
			i++
			if b[i-1]&0x80 == 0 {
				break
			}
		}
	}
	if tag == 0 || tag == 0xFF {
		return TLV{}, nil, fmt.Errorf("%w: tag %02X", ErrTLV, tag)
	}
	if i >= len(b) {
		return TLV{}, nil, fmt.Errorf("%w: no length after tag %X", ErrTLV, tag)
	}
	l := int(b[i])
	i++
	if l == 0x80 {
		return TLV{}, nil, fmt.Errorf("%w: indefinite length (tag %X)", ErrTLV, tag)
	}
	if l > 0x80 {
		n := l & 0x7F
		if n > 4 {
			return TLV{}, nil, fmt.Errorf("%w: %d length bytes (tag %X)", ErrTLV, n, tag)
		}
		if i+n > len(b) {
			return TLV{}, nil, fmt.Errorf("%w: truncated length (tag %X)", ErrTLV, tag)
		}
		l = 0
		for _, c := range b[i : i+n] {
			l = l<<8 | int(c)
		}
		i += n
		if l < 0 {
			return TLV{}, nil, fmt.Errorf("%w: length overflow (tag %X)", ErrTLV, tag)
		}
	}
	if l > len(b)-i {
		return TLV{}, nil, fmt.Errorf("%w: tag %X declares %d bytes, %d present", ErrTLV, tag, l, len(b)-i)
	}
	return TLV{Tag: tag, Value: b[i : i+l], Raw: b[:i+l]}, b[i+l:], nil
}

// ParseTLVs reads consecutive elements until b is used up.
func ParseTLVs(b []byte) ([]TLV, error) {
	var out []TLV
	for len(b) > 0 {
		t, rest, err := ParseTLV(b)
		if err != nil {
			return out, err
		}
		out = append(out, t)
		b = rest
	}
	return out, nil
}

// Find returns the first element with tag among consecutive elements.
func Find(b []byte, tag uint32) (TLV, bool, error) {
	items, err := ParseTLVs(b)
	if err != nil {
		return TLV{}, false, err
	}
	for _, t := range items {
		if t.Tag == tag {
			return t, true, nil
		}
	}
	return TLV{}, false, nil
}

// EncodeTag writes a tag of one to three bytes.
func EncodeTag(tag uint32) []byte {
	switch {
	case tag > 0xFFFF:
		return []byte{byte(tag >> 16), byte(tag >> 8), byte(tag)}
	case tag > 0xFF:
		return []byte{byte(tag >> 8), byte(tag)}
	default:
		return []byte{byte(tag)}
	}
}

// EncodeLength writes a definite length in the fewest bytes.
func EncodeLength(n int) []byte {
	switch {
	case n < 0x80:
		return []byte{byte(n)}
	case n <= 0xFF:
		return []byte{0x81, byte(n)}
	case n <= 0xFFFF:
		return []byte{0x82, byte(n >> 8), byte(n)}
	case n <= 0xFFFFFF:
		return []byte{0x83, byte(n >> 16), byte(n >> 8), byte(n)}
	default:
		return []byte{0x84, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}
	}
}

// EncodeTLV builds one element whose value is the concatenation of values.
func EncodeTLV(tag uint32, values ...[]byte) []byte {
	n := 0
	for _, v := range values {
		n += len(v)
	}
	out := append(EncodeTag(tag), EncodeLength(n)...)
	for _, v := range values {
		out = append(out, v...)
	}
	return out
}
