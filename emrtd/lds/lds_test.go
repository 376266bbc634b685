package lds

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"slices"
	"testing"

	"github.com/checkpoint-edge/checkpoint/emrtd/tlv"
)

var jpegBytes = append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte{0x11}, 200)...)
var jp2Bytes = append([]byte{0, 0, 0, 0x0C, 'j', 'P', ' ', ' ', 0x0D, 0x0A, 0x87, 0x0A}, bytes.Repeat([]byte{0x22}, 200)...)

func TestDG2RoundTrip(t *testing.T) {
	for _, c := range []struct {
		format string
		data   []byte
	}{{FormatJPEG, jpegBytes}, {FormatJPEG2000, jp2Bytes}} {
		dg2 := EncodeDG2(EncodeFacialRecord(FaceImage{Format: c.format, Width: 413, Height: 531, ImageType: 1, Data: c.data}))
		faces, err := ParseDG2(dg2)
		if err != nil {
			t.Fatal(err)
		}
		f := faces[0]
		if f.Format != c.format || f.Width != 413 || f.Height != 531 || !bytes.Equal(f.Data, c.data) {
			t.Fatalf("%s: %+v", c.format, f)
		}
	}
	// The header says JPEG 2000, the bytes are JPEG: the bytes win.
	dg2 := EncodeDG2(EncodeFacialRecord(FaceImage{Format: FormatJPEG2000, Data: jpegBytes}))
	if faces, _ := ParseDG2(dg2); faces[0].Format != FormatJPEG {
		t.Fatalf("sniffed %q", faces[0].Format)
	}
}

func TestDG2Malformed(t *testing.T) {
	good := EncodeFacialRecord(FaceImage{Format: FormatJPEG, Data: jpegBytes})
	long := append([]byte(nil), good...)
	binary.BigEndian.PutUint32(long[8:], uint32(len(long)+100))
	blk := append([]byte(nil), good...)
	binary.BigEndian.PutUint32(blk[14:], 1<<30)
	fps := append([]byte(nil), good...)
	binary.BigEndian.PutUint16(fps[18:], 60000)
	for name, rec := range map[string][]byte{"record length": long, "block length": blk, "feature points": fps,
		"not FAC": append([]byte("XYZ\x00"), good[4:]...), "empty": {}} {
		if _, err := ParseDG2(EncodeDG2(rec)); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := ParseDG2(tlv.Encode(0x75, tlv.Encode(0x02, []byte{1}))); !errors.Is(err, ErrFormat) {
		t.Errorf("no group template: %v", err)
	}
}

func TestCOMAndDG1(t *testing.T) {
	com := tlv.Encode(0x60, tlv.Encode(0x5F01, []byte("0107")), tlv.Encode(0x5F36, []byte("040000")), tlv.Encode(0x5C, []byte{0x61, 0x75, 0x6E, 0x6F, 0x99}))
	c, err := ParseCOM(com)
	if err != nil || c.LDSVersion != "0107" || !slices.Equal(c.DataGroups, []int{1, 2, 14, 15}) {
		t.Fatalf("%+v %v", c, err)
	}
	td1 := "I<UTOD231458907<<<<<<<<<<<<<<<7408122F1204159UTO<<<<<<<<<<<6ERIKSSON<<ANNA<MARIA<<<<<<<<<<"
	lines, err := ParseDG1(tlv.Encode(0x61, tlv.Encode(0x5F1F, []byte(td1))))
	if err != nil || len(lines) != 3 || lines[2] != "ERIKSSON<<ANNA<MARIA<<<<<<<<<<" {
		t.Fatalf("%q %v", lines, err)
	}
	if _, err := ParseDG1(tlv.Encode(0x61, tlv.Encode(0x5F1F, []byte("SHORT")))); !errors.Is(err, ErrFormat) {
		t.Fatalf("short MRZ: %v", err)
	}
}

func TestDG11AndDG12(t *testing.T) {
	dg11 := tlv.Encode(0x6B, tlv.Encode(0x5C, []byte{0x5F, 0x0E}), tlv.Encode(0x5F0E, []byte("ERIKSSON<<ANNA MARIA")),
		tlv.Encode(0x5F11, []byte("ZENITH")), tlv.Encode(0xA0, tlv.Encode(0x02, []byte{1}), tlv.Encode(0x5F0F, []byte("ANNA SMITH"))), tlv.Encode(0x5F77, []byte("x")))
	d, err := ParseDG11(dg11)
	if err != nil || d.FullName != "ERIKSSON<<ANNA MARIA" || d.PlaceOfBirth != "ZENITH" || !slices.Equal(d.OtherNames, []string{"ANNA SMITH"}) {
		t.Fatalf("%+v %v", d, err)
	}
	dg12 := tlv.Encode(0x6C, tlv.Encode(0x5F19, []byte("UTOPIA")), tlv.Encode(0x5F26, []byte("20020531")))
	e, err := ParseDG12(dg12)
	if err != nil || e.IssuingAuthority != "UTOPIA" || e.DateOfIssue != "20020531" {
		t.Fatalf("%+v %v", e, err)
	}
}

func TestSecurityInfosAndDG15(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	spki, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	oid := func(s []byte) []byte { return tlv.Encode(0x06, s) }
	paceOID := []byte{0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x04, 0x02, 0x02}
	caOID := []byte{0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x03, 0x02, 0x02}
	pkOID := []byte{0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x01, 0x02}
	set := tlv.Encode(0x31,
		tlv.Encode(0x30, oid(paceOID), []byte{2, 1, 2}, []byte{2, 1, 13}),
		tlv.Encode(0x30, oid(caOID), []byte{2, 1, 1}),
		tlv.Encode(0x30, oid(pkOID), spki),
		tlv.Encode(0x30, oid([]byte{0x2B, 0x06, 0x01}), []byte{2, 1, 1}))
	si, err := ParseSecurityInfos(set)
	if err != nil {
		t.Fatal(err)
	}
	if len(si.PACE) != 1 || !si.PACE[0].GenericECDH() || si.PACE[0].ParameterID != 13 || len(si.CA) != 1 || len(si.CAKeys) != 1 || len(si.Unknown) != 1 {
		t.Fatalf("%+v", si)
	}
	if si.CAKeys[0].Curve.Name != "P-256" || si.CAKeys[0].Point.X.Cmp(k.X) != 0 {
		t.Fatalf("CA key %+v", si.CAKeys[0])
	}
	aa, err := ParseDG15(tlv.Encode(0x6F, spki))
	if err != nil || aa.Kind() != "ECDSA" {
		t.Fatalf("DG15 %v %v", aa, err)
	}
	if _, err := ParseDG15(tlv.Encode(0x6F, []byte{0x30, 0x00})); !errors.Is(err, ErrFormat) {
		t.Fatalf("bad DG15: %v", err)
	}
}

func FuzzParseDG2(f *testing.F) {
	f.Add(EncodeDG2(EncodeFacialRecord(FaceImage{Format: FormatJPEG, Data: jpegBytes})))
	f.Add(EncodeDG2(EncodeFacialRecord(FaceImage{Format: FormatJPEG2000, Data: jp2Bytes})))
	f.Fuzz(func(t *testing.T, b []byte) {
		faces, err := ParseDG2(b)
		if err == nil && (len(faces) == 0 || len(faces) > MaxFaces) {
			t.Fatalf("%d faces", len(faces))
		}
		ParseFacialRecord(b)
	})
}

func FuzzParseFiles(f *testing.F) {
	f.Add(tlv.Encode(0x60, tlv.Encode(0x5C, []byte{0x61})))
	f.Add(tlv.Encode(0x6B, tlv.Encode(0x5F0E, []byte("A"))))
	f.Add(tlv.Encode(0x6E, tlv.Encode(0x31, tlv.Encode(0x30, []byte{6, 1, 0}, []byte{2, 1, 1}))))
	f.Fuzz(func(t *testing.T, b []byte) {
		ParseCOM(b)
		ParseDG1(b)
		ParseDG11(b)
		ParseDG12(b)
		ParseDG14(b)
		ParseDG15(b)
		ParseSecurityInfos(b)
	})
}
