package lds

import (
	"bytes"
	"encoding/hex"
	"testing"
)

var tlvSeeds = []string{
	"60145F0104303130365F36063034303030305C026175",                   // EF.COM of Doc 9303 Part 11 App. D
	"31143012060A04007F0007020204020202010202010D",                   // EF.CardAccess, PACE AES-128 brainpoolP256r1
	"7F6182000A020101" + "7F608200030101FF",                          // nested, long lengths
	"5F1F8400000004414243",                                           // four length bytes
	"DF7F04CAFE0001", "9F", "5F", "81", "0181", "018201", "02840000", // truncations
	"0480", "00", "FF0100",
}

func FuzzParseTLV(f *testing.F) {
	for _, s := range tlvSeeds {
		b, _ := hex.DecodeString(s)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tlv, rest, err := ParseTLV(b)
		if err != nil {
			return
		}
		if len(tlv.Raw)+len(rest) != len(b) || !bytes.HasSuffix(tlv.Raw, tlv.Value) {
			t.Fatalf("element %X + rest %X is not the input", tlv.Raw, rest)
		}
		// A parsed element re-encodes to a canonical element that parses
		// to the same tag and value.
		enc := EncodeTLV(tlv.Tag, tlv.Value)
		again, rest2, err := ParseTLV(enc)
		if err != nil || len(rest2) != 0 || again.Tag != tlv.Tag || !bytes.Equal(again.Value, tlv.Value) {
			t.Fatalf("re-encoding %X: %v", enc, err)
		}
		items, _ := ParseTLVs(b)
		_ = items
		_, _ = ParseSecurityInfos(b)
	})
}
