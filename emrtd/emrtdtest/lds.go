package emrtdtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/asn1"

	"github.com/checkpoint-edge/checkpoint/emrtd/ecc"
	"github.com/checkpoint-edge/checkpoint/emrtd/lds"
	"github.com/checkpoint-edge/checkpoint/emrtd/tlv"
)

// Doc describes a chip to issue.
type Doc struct {
	MRZ []string // printed MRZ lines (DG1)
	// Face is the DG2 image (JPEG or JPEG 2000 bytes) and its format.
	Face       []byte
	FaceFormat string
	// PACE lists PACEInfos for EF.CardAccess: OID suffix of
	// id-PACE-ECDH-GM (2 = AES-128…) and the domain parameter ID.
	PACE []PACE
	// AAKey, when set, puts its public key in DG15 (RSA or ECDSA).
	AAKey crypto.Signer
	// CAKey, when set, puts its public key in DG14 for Chip
	// Authentication with CAOID (default id-CA-ECDH-AES-CBC-CMAC-128).
	CAKey   *ecdsa.PrivateKey
	CAPoint *ecc.Point // a CA key on a curve crypto/ecdsa lacks
	CACurve *ecc.Curve
	CAOID   string
	// Extra adds data groups as given (number → file bytes).
	Extra map[int][]byte
}

// PACE is one PACEInfo.
type PACE struct {
	OID         string
	ParameterID int
}

func oid(s string) asn1.ObjectIdentifier {
	var o asn1.ObjectIdentifier
	n := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			o = append(o, n)
			n = 0
			continue
		}
		n = n*10 + int(s[i]-'0')
	}
	return o
}

func mustMarshal(t TB, v any) []byte {
	b, err := asn1.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ecSPKI encodes an EC public key with a named curve.
func ecSPKI(t TB, c *ecc.Curve, p ecc.Point) []byte {
	curveOID := map[string]string{"P-256": "1.2.840.10045.3.1.7", "P-384": "1.3.132.0.34", "brainpoolP256r1": "1.3.36.3.3.2.8.1.1.7",
		"brainpoolP384r1": "1.3.36.3.3.2.8.1.1.11", "brainpoolP512r1": "1.3.36.3.3.2.8.1.1.13"}[c.Name]
	alg := tlv.Encode(0x30, mustMarshal(t, oid("1.2.840.10045.2.1")), mustMarshal(t, oid(curveOID)))
	return tlv.Encode(0x30, alg, mustMarshal(t, asn1.BitString{Bytes: c.Marshal(p), BitLength: 8 * len(c.Marshal(p))}))
}

// Files issues the chip's files, signed by the state's DS (or cert/key
// when given).
func (s *State) Files(t TB, d Doc) map[string][]byte {
	t.Helper()
	return s.FilesWith(t, d, s.DS, s.DSKey)
}

// FilesWith issues the files with a given document signer.
func (s *State) FilesWith(t TB, d Doc, ds *x509.Certificate, dsKey crypto.Signer) map[string][]byte {
	t.Helper()
	groups := map[int][]byte{}
	var mrz []byte
	for _, l := range d.MRZ {
		mrz = append(mrz, l...)
	}
	groups[1] = tlv.Encode(0x61, tlv.Encode(0x5F1F, mrz))
	if d.Face != nil {
		f := d.FaceFormat
		if f == "" {
			f = lds.FormatJPEG
		}
		groups[2] = lds.EncodeDG2(lds.EncodeFacialRecord(lds.FaceImage{Format: f, Width: 480, Height: 640, ImageType: 1, Data: d.Face}))
	}
	var dg14 [][]byte
	if d.CAKey != nil || d.CAPoint != nil {
		caOID := d.CAOID
		if caOID == "" {
			caOID = lds.OIDCAECDH + ".2"
		}
		var spki []byte
		if d.CAKey != nil {
			var err error
			spki, err = x509.MarshalPKIXPublicKey(&d.CAKey.PublicKey)
			if err != nil {
				t.Fatal(err)
			}
		} else {
			spki = ecSPKI(t, d.CACurve, *d.CAPoint)
		}
		dg14 = append(dg14,
			tlv.Encode(0x30, mustMarshal(t, oid(caOID)), mustMarshal(t, 1)),
			tlv.Encode(0x30, mustMarshal(t, oid(lds.OIDPKECDH)), spki))
	}
	if d.AAKey != nil {
		spki, err := x509.MarshalPKIXPublicKey(d.AAKey.Public())
		if err != nil {
			t.Fatal(err)
		}
		groups[15] = tlv.Encode(0x6F, spki)
		if _, ok := d.AAKey.(*ecdsa.PrivateKey); ok {
			dg14 = append(dg14, tlv.Encode(0x30, mustMarshal(t, oid(lds.OIDAA)), mustMarshal(t, 1), mustMarshal(t, oid("1.2.840.10045.4.3.2"))))
		}
	}
	if len(dg14) > 0 {
		var body []byte
		for _, e := range dg14 {
			body = append(body, e...)
		}
		groups[14] = tlv.Encode(0x6E, tlv.Encode(0x31, body))
	}
	for n, b := range d.Extra {
		groups[n] = b
	}
	files := map[string][]byte{}
	var tags []byte
	for n := 1; n <= 16; n++ {
		if g, ok := groups[n]; ok {
			files[lds.DGFile(n).Name] = g
			tags = append(tags, lds.DGFile(n).Tag)
		}
	}
	files["COM"] = tlv.Encode(0x60, tlv.Encode(0x5F01, []byte("0107")), tlv.Encode(0x5F36, []byte("040000")), tlv.Encode(0x5C, tags))
	files["SOD"] = SOD(t, groups, ds, dsKey)
	if len(d.PACE) > 0 {
		var infos []byte
		for _, p := range d.PACE {
			infos = append(infos, tlv.Encode(0x30, mustMarshal(t, oid(p.OID)), mustMarshal(t, 2), mustMarshal(t, p.ParameterID))...)
		}
		files["CardAccess"] = tlv.Encode(0x31, infos)
	}
	return files
}
