package tlv

import (
	"errors"
	"fmt"
)

// ErrMalformed is returned for truncated or ill-formed TLV.
var ErrMalformed = errors.New("tlv: malformed")

// TLV is one element; Value aliases the parsed input.
type TLV struct {
	Tag   uint32
	Value []byte
	// Raw is the whole element (tag, length and value).
	Raw []byte
}

// Constructed reports whether the tag's constructed bit is set.
func (t TLV) Constructed() bool {
	first := t.Tag
	for first > 0xFF {
		first >>= 8
	}
	return first&0x20 != 0
}

// Next parses the element at the start of b and returns it with the rest.
func Next(b []byte) (TLV, []byte, error) {
	if len(b) < 2 {
		return TLV{}, nil, fmt.Errorf("%w: %d bytes left", ErrMalformed, len(b))
	}
	i := 0
	tag := uint32(b[0])
	i++
	if b[0]&0x1F == 0x1F {
		for {
			if i >= len(b) || i > 3 {
				return TLV{}, nil, fmt.Errorf("%w: tag too long", ErrMalformed)
			}
			tag = tag<<8 | uint32(b[i])
			i++
			if b[i-1]&0x80 == 0 {
				break
			}
		}
	}
	if i >= len(b) {
		return TLV{}, nil, fmt.Errorf("%w: no length", ErrMalformed)
	}
	l := int(b[i])
	i++
	if l&0x80 != 0 {
		n := l & 0x7F
		if n == 0 || n > 4 {
			return TLV{}, nil, fmt.Errorf("%w: length of %d bytes", ErrMalformed, n)
		}
		if i+n > len(b) {
			return TLV{}, nil, fmt.Errorf("%w: truncated length", ErrMalformed)
		}
		l = 0
		for _, c := range b[i : i+n] {
			if l > 1<<23 {
				return TLV{}, nil, fmt.Errorf("%w: length too large", ErrMalformed)
			}
			l = l<<8 | int(c)
		}
		i += n
	}
	if l < 0 || l > len(b)-i {
		return TLV{}, nil, fmt.Errorf("%w: tag %X length %d exceeds the %d bytes left", ErrMalformed, tag, l, len(b)-i)
	}
	return TLV{Tag: tag, Value: b[i : i+l], Raw: b[:i+l]}, b[i+l:], nil
}

// Parse parses b as exactly one element (trailing zero padding allowed,
// as chips pad files to their allocated size).
func Parse(b []byte) (TLV, error) {
	t, rest, err := Next(b)
	if err != nil {
		return t, err
	}
	for _, c := range rest {
		if c != 0 && c != 0xFF {
			return t, fmt.Errorf("%w: %d bytes after the element", ErrMalformed, len(rest))
		}
	}
	return t, nil
}

// All parses a sequence of elements filling b.
func All(b []byte) ([]TLV, error) {
	var out []TLV
	for len(b) > 0 {
		t, rest, err := Next(b)
		if err != nil {
			return out, err
		}
		out = append(out, t)
		b = rest
	}
	return out, nil
}

// Find returns the first element with tag among the elements of b.
func Find(b []byte, tag uint32) (TLV, bool, error) {
	for len(b) > 0 {
		t, rest, err := Next(b)
		if err != nil {
			return TLV{}, false, err
		}
		if t.Tag == tag {
			return t, true, nil
		}
		b = rest
	}
	return TLV{}, false, nil
}

// Length returns the total length an element with the header at the
// start of b will have (tag + length + value), as soon as its header is
// known: used to read a file whose size the first bytes announce.
func Length(b []byte) (header, total int, err error) {
	if len(b) < 2 {
		return 0, 0, fmt.Errorf("%w: short header", ErrMalformed)
	}
	i := 1
	if b[0]&0x1F == 0x1F {
		for i < len(b) && i <= 3 && b[i]&0x80 != 0 {
			i++
		}
		i++
	}
	if i >= len(b) {
		return 0, 0, fmt.Errorf("%w: short header", ErrMalformed)
	}
	l := int(b[i])
	i++
	if l&0x80 != 0 {
		n := l & 0x7F
		if n == 0 || n > 3 || i+n > len(b) {
			return 0, 0, fmt.Errorf("%w: length field", ErrMalformed)
		}
		l = 0
		for _, c := range b[i : i+n] {
			l = l<<8 | int(c)
		}
		i += n
	}
	return i, i + l, nil
}

// EncodeLength returns the BER length field for n.
func EncodeLength(n int) []byte {
	switch {
	case n < 0x80:
		return []byte{byte(n)}
	case n <= 0xFF:
		return []byte{0x81, byte(n)}
	case n <= 0xFFFF:
		return []byte{0x82, byte(n >> 8), byte(n)}
	default:
		return []byte{0x83, byte(n >> 16), byte(n >> 8), byte(n)}
	}
}

// Encode builds one element.
func Encode(tag uint32, value ...[]byte) []byte {
	var t []byte
	switch {
	case tag > 0xFFFF:
		t = []byte{byte(tag >> 16), byte(tag >> 8), byte(tag)}
	case tag > 0xFF:
		t = []byte{byte(tag >> 8), byte(tag)}
	default:
		t = []byte{byte(tag)}
	}
	n := 0
	for _, v := range value {
		n += len(v)
	}
	out := append(t, EncodeLength(n)...)
	for _, v := range value {
		out = append(out, v...)
	}
	return out
}
