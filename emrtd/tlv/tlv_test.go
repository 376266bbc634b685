package tlv

import (
	"bytes"
	"errors"
	"testing"
)

var cases = []struct {
	name string
	in   []byte
	tag  uint32
	val  []byte
	err  bool
}{
	{"short", []byte{0x61, 0x02, 0x5F, 0x1F}, 0x61, []byte{0x5F, 0x1F}, false},
	{"two-byte tag", []byte{0x5F, 0x1F, 0x01, 0x41}, 0x5F1F, []byte{0x41}, false},
	{"three-byte tag", []byte{0x7F, 0x61, 0x01, 0x02}, 0x7F61, []byte{0x02}, false},
	{"81 length", append([]byte{0x75, 0x81, 0x80}, make([]byte, 0x80)...), 0x75, make([]byte, 0x80), false},
	{"82 length", append([]byte{0x75, 0x82, 0x01, 0x00}, make([]byte, 0x100)...), 0x75, make([]byte, 0x100), false},
	{"length past end", []byte{0x61, 0x05, 0x01}, 0, nil, true},
	{"82 truncated", []byte{0x61, 0x82, 0x01}, 0, nil, true},
	{"indefinite", []byte{0x61, 0x80, 0x00, 0x00}, 0, nil, true},
	{"five length bytes", []byte{0x61, 0x85, 0, 0, 0, 0, 1, 0}, 0, nil, true},
	{"huge length", []byte{0x61, 0x84, 0x7F, 0xFF, 0xFF, 0xFF, 0}, 0, nil, true},
	{"tag runs off", []byte{0x5F, 0x9F}, 0, nil, true},
	{"empty", nil, 0, nil, true},
}

func TestParse(t *testing.T) {
	for _, c := range cases {
		got, err := Parse(c.in)
		if (err != nil) != c.err {
			t.Errorf("%s: err %v", c.name, err)
			continue
		}
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("%s: error %v is not ErrMalformed", c.name, err)
			}
			continue
		}
		if got.Tag != c.tag || !bytes.Equal(got.Value, c.val) {
			t.Errorf("%s: got %X %X", c.name, got.Tag, got.Value)
		}
		if enc := Encode(got.Tag, got.Value); !bytes.Equal(enc, c.in) {
			t.Errorf("%s: re-encoded %X", c.name, enc)
		}
		h, total, err := Length(c.in)
		if err != nil || total != len(c.in) || h != len(c.in)-len(c.val) {
			t.Errorf("%s: Length %d %d %v", c.name, h, total, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, c := range cases {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if el, err := Parse(b); err == nil {
			if len(el.Raw) > len(b) {
				t.Fatal("raw longer than input")
			}
		}
		All(b)
		Length(b)
	})
}
