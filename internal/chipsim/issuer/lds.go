package issuer

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/checkpoint-edge/checkpoint/internal/chipsim/ecc"
	"github.com/checkpoint-edge/checkpoint/internal/chipsim/lds"
	"github.com/checkpoint-edge/checkpoint/mrz"
)

// Traveller describes the document holder and the printed document.
type Traveller struct {
	// Format is the MRZ layout (default TD3, a passport).
	Format         mrz.Format
	DocumentCode   string // default "P" for TD3, "I" for cards
	IssuingState   string
	Surname        string
	GivenNames     []string
	DocumentNumber string
	Nationality    string
	BirthDate      time.Time
	ExpiryDate     time.Time
	Sex            string // "M", "F" or "X"
	OptionalData   string
	// Face is DG2; a nil Data leaves DG2 out.
	Face FaceImage
	// Details is DG11 and Document is DG12; nil leaves them out.
	Details  *PersonalDetails
	Document *DocumentDetails
	// CAN is the card access number printed on the document (PACE).
	CAN string
}

// PersonalDetails is DG11 (Doc 9303 Part 10 §4.7.11).
type PersonalDetails struct {
	FullName        string    // 5F0E, "SURNAME<<GIVEN<NAMES"
	OtherNames      []string  // A0 { 02 count, 5F0F … }
	PersonalNumber  string    // 5F10
	FullDateOfBirth time.Time // 5F2B YYYYMMDD
	PlaceOfBirth    string    // 5F11, components separated by '<'
	Address         string    // 5F42
	Telephone       string    // 5F12
	Profession      string    // 5F13
	Title           string    // 5F14
}

// DocumentDetails is DG12 (Doc 9303 Part 10 §4.7.12).
type DocumentDetails struct {
	IssuingAuthority      string    // 5F19
	DateOfIssue           time.Time // 5F26 YYYYMMDD
	Endorsements          string    // 5F1B
	PersonalizationTime   time.Time // 5F55 YYYYMMDDhhmmss
	PersonalizationDevice string    // 5F56
}

// PACEParams is one PACEInfo of EF.CardAccess: ECDH Generic Mapping with a
// suite (lds.Suite3DES, SuiteAES128, …) on a curve ("P-256",
// "brainpoolP256r1", "P-384", "brainpoolP384r1").
type PACEParams struct {
	Suite int    `json:"suite"`
	Curve string `json:"curve"`
}

// Options choose the chip's security features.
type Options struct {
	// AAKey is the Active Authentication key specification ("" for none):
	// rsa1024, rsa2048, ecdsa-p256, ec-brainpoolP256r1, …
	AAKey string
	// AAHash is the AA digest: SHA-1 (default for RSA) or a SHA-2; for
	// ECDSA (default SHA-256) it is written in DG14.
	AAHash crypto.Hash
	// CAKey is the Chip Authentication key ("" for none): ecdsa-p256,
	// ec-brainpoolP256r1, …; CASuite its protocol (default AES-128) and
	// CAKeyID an optional key reference (0: none).
	CAKey   string
	CASuite int
	CAKeyID int
	// AAPrivateKey and CAPrivateKey, when set, are used instead of
	// generating the AAKey and CAKey specifications (chips with stable keys).
	AAPrivateKey crypto.PrivateKey
	CAPrivateKey *ecc.PrivateKey
	// PACE lists the PACEInfos of EF.CardAccess (and DG14); none: BAC only.
	PACE []PACEParams
	// SODHash is the data-group hash and signature digest (default SHA-256).
	SODHash crypto.Hash
	// SODVersion1 writes LDSSecurityObject version 1 with ldsVersionInfo
	// (LDS 1.8); the default is version 0 (LDS 1.7).
	SODVersion1 bool
	// SignerKeyID identifies the DS by subject key identifier in EF.SOD.
	SignerKeyID bool
	// SigningTime adds the CMS signingTime attribute when set.
	SigningTime time.Time
	// Tamper makes negative test documents.
	Tamper Tamper
}

// Tamper lists deliberate defects.
type Tamper struct {
	// AlterAfterSigning changes these files after EF.SOD is signed: DG1
	// gets another letter in the holder's name, other files a flipped last
	// byte. Their hashes no longer match.
	AlterAfterSigning []string `json:"alter_after_signing,omitempty"`
	// UnknownTags adds an element with a private tag (DF7F) inside these
	// files' templates before signing: a reader must skip it.
	UnknownTags []string `json:"unknown_tags,omitempty"`
	// OversizeDG2 pads the face JPEG with comment segments until DG2 is at
	// least this many bytes (signed).
	OversizeDG2 int `json:"oversize_dg2,omitempty"`
	// OmitHash leaves these data groups out of the security object.
	OmitHash []string `json:"omit_hash,omitempty"`
}

// UnknownTag is the tag Tamper.UnknownTags inserts.
const UnknownTag = 0xDF7F

// LDS is an issued chip: its files and its secrets.
type LDS struct {
	// Files by chipsim name: CardAccess, COM, SOD, DG1 … DG16.
	Files map[string][]byte
	// MRZ are the printed lines (DG1 holds the same, unless tampered).
	MRZ []string
	// DocumentNumber, DateOfBirth and DateOfExpiry (YYMMDD) open the chip.
	DocumentNumber, DateOfBirth, DateOfExpiry string
	CAN                                       string
	// AAKey (with AAHash) and CAKey are the chip's private keys, nil when
	// the feature is off.
	AAKey  crypto.PrivateKey
	AAHash crypto.Hash
	CAKey  *ecc.PrivateKey
}

// dgTags are the LDS tags of DG1 … DG16.
var dgTags = [17]byte{0, 0x61, 0x75, 0x63, 0x76, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6A, 0x6B, 0x6C, 0x6D, 0x6E, 0x6F, 0x70}

// Issue personalises a chip for t, signed by ds.
func Issue(t Traveller, ds *CertKey, o Options) (*LDS, error) {
	if ds == nil {
		return nil, fmt.Errorf("%w: no document signer", ErrSpec)
	}
	if o.SODHash == 0 {
		o.SODHash = crypto.SHA256
	}
	format := t.Format
	if format == "" {
		format = mrz.FormatTD3
	}
	lines, err := mrz.Generate(mrz.Spec{
		Format: format, DocumentCode: t.DocumentCode, IssuingState: t.IssuingState,
		Surname: t.Surname, GivenNames: t.GivenNames, DocumentNumber: t.DocumentNumber,
		Nationality: t.Nationality, BirthDate: t.BirthDate, ExpiryDate: t.ExpiryDate,
		Sex: t.Sex, OptionalData: t.OptionalData,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: MRZ: %v", ErrSpec, err)
	}
	out := &LDS{
		Files:          map[string][]byte{},
		MRZ:            lines,
		DocumentNumber: strings.ToUpper(t.DocumentNumber),
		DateOfBirth:    t.BirthDate.Format("060102"),
		DateOfExpiry:   t.ExpiryDate.Format("060102"),
		CAN:            t.CAN,
	}
	files := out.Files
	files["DG1"] = lds.EncodeTLV(0x61, lds.EncodeTLV(0x5F1F, []byte(strings.Join(lines, ""))))

	if t.Face.Data != nil {
		face := t.Face
		if o.Tamper.OversizeDG2 > 0 {
			if face.Data, err = InflateJPEG(face.Data, o.Tamper.OversizeDG2); err != nil {
				return nil, err
			}
		}
		if files["DG2"], err = dg2(face, nil); err != nil {
			return nil, err
		}
	}
	if t.Details != nil {
		files["DG11"] = dg11(t.Details)
	}
	if t.Document != nil {
		files["DG12"] = dg12(t.Document)
	}

	// Chip keys, DG14, DG15, EF.CardAccess.
	var dg14Infos [][]byte
	if o.AAKey != "" || o.AAPrivateKey != nil {
		key := o.AAPrivateKey
		if key == nil {
			if key, err = GenerateChipKey(o.AAKey); err != nil {
				return nil, err
			}
		}
		if e, ok := key.(*ecdsa.PrivateKey); ok {
			if key, err = ecc.FromECDSA(e); err != nil {
				return nil, err
			}
		}
		out.AAKey = key
		var spki []byte
		switch k := key.(type) {
		case *rsa.PrivateKey:
			out.AAHash = o.AAHash
			if out.AAHash == 0 {
				out.AAHash = crypto.SHA1
			}
			spki, err = x509.MarshalPKIXPublicKey(&k.PublicKey)
		case *ecc.PrivateKey:
			out.AAHash = o.AAHash
			if out.AAHash == 0 {
				out.AAHash = crypto.SHA256
			}
			arc, ok := map[crypto.Hash]int{crypto.SHA1: 1, crypto.SHA224: 2, crypto.SHA256: 3, crypto.SHA384: 4, crypto.SHA512: 5}[out.AAHash]
			if !ok {
				return nil, fmt.Errorf("%w: AA digest %v", ErrSpec, out.AAHash)
			}
			dg14Infos = append(dg14Infos, mustMarshal(struct {
				Protocol  asn1.ObjectIdentifier
				Version   int
				Algorithm asn1.ObjectIdentifier
			}{lds.OIDAAProtocol, 1, lds.ECDSAPlainOID(arc)}))
			spki, err = ecc.MarshalPKIX(k.Curve, k.Public)
		default:
			return nil, fmt.Errorf("%w: AA key of type %T", ErrSpec, key)
		}
		if err != nil {
			return nil, err
		}
		files["DG15"] = lds.EncodeTLV(0x6F, spki)
	}
	if o.CAKey != "" || o.CAPrivateKey != nil {
		out.CAKey = o.CAPrivateKey
		if out.CAKey == nil {
			if chipCurve(o.CAKey) == nil {
				return nil, fmt.Errorf("%w: CA key %q (want an EC key)", ErrSpec, o.CAKey)
			}
			key, err := GenerateChipKey(o.CAKey)
			if err != nil {
				return nil, err
			}
			out.CAKey = key.(*ecc.PrivateKey)
		}
		c := out.CAKey.Curve
		suite := o.CASuite
		if suite == 0 {
			suite = lds.SuiteAES128
		}
		spki, err := ecc.MarshalPKIX(c, out.CAKey.Public)
		if err != nil {
			return nil, err
		}
		if o.CAKeyID > 0 {
			dg14Infos = append(dg14Infos,
				mustMarshal(struct {
					Protocol asn1.ObjectIdentifier
					Version  int
					KeyID    int
				}{lds.CAOID(suite), 1, o.CAKeyID}),
				mustMarshal(struct {
					Protocol asn1.ObjectIdentifier
					Key      asn1.RawValue
					KeyID    int
				}{lds.OIDPKECDH, asn1.RawValue{FullBytes: spki}, o.CAKeyID}))
		} else {
			dg14Infos = append(dg14Infos,
				mustMarshal(struct {
					Protocol asn1.ObjectIdentifier
					Version  int
				}{lds.CAOID(suite), 1}),
				mustMarshal(struct {
					Protocol asn1.ObjectIdentifier
					Key      asn1.RawValue
				}{lds.OIDPKECDH, asn1.RawValue{FullBytes: spki}}))
		}
	}
	if len(o.PACE) > 0 {
		var infos [][]byte
		for _, p := range o.PACE {
			c := ecc.ByName(p.Curve)
			if c == nil {
				return nil, fmt.Errorf("%w: PACE curve %q", ErrSpec, p.Curve)
			}
			if p.Suite < lds.Suite3DES || p.Suite > lds.SuiteAES256 {
				return nil, fmt.Errorf("%w: PACE suite %d", ErrSpec, p.Suite)
			}
			infos = append(infos, mustMarshal(struct {
				Protocol    asn1.ObjectIdentifier
				Version     int
				ParameterID int
			}{lds.PACEOID(p.Suite), 2, c.PACEID}))
		}
		if files["CardAccess"], err = lds.MarshalSecurityInfos(infos...); err != nil {
			return nil, err
		}
		// DG14 repeats the PACEInfos so that passive authentication covers
		// them (Doc 9303 Part 11 §9.2).
		dg14Infos = append(dg14Infos, infos...)
	}
	if len(dg14Infos) > 0 {
		set, err := lds.MarshalSecurityInfos(dg14Infos...)
		if err != nil {
			return nil, err
		}
		files["DG14"] = lds.EncodeTLV(0x6E, set)
	}

	for _, name := range o.Tamper.UnknownTags {
		data, ok := files[name]
		if !ok {
			return nil, fmt.Errorf("%w: unknown_tags names %q, which this document does not have", ErrSpec, name)
		}
		if files[name], err = withUnknownTag(data); err != nil {
			return nil, err
		}
	}

	// EF.COM lists the data groups present.
	var nums []int
	for name := range files {
		if n, ok := dgNumber(name); ok {
			nums = append(nums, n)
		}
	}
	sort.Ints(nums)
	tagList := make([]byte, len(nums))
	for i, n := range nums {
		tagList[i] = dgTags[n]
	}
	files["COM"] = lds.EncodeTLV(0x60,
		lds.EncodeTLV(0x5F01, []byte("0107")),
		lds.EncodeTLV(0x5F36, []byte("040000")),
		lds.EncodeTLV(0x5C, tagList))

	sod, err := securityObject(files, nums, ds, o)
	if err != nil {
		return nil, err
	}
	files["SOD"] = sod

	for _, name := range o.Tamper.AlterAfterSigning {
		data, ok := files[name]
		if !ok {
			return nil, fmt.Errorf("%w: alter_after_signing names %q, which this document does not have", ErrSpec, name)
		}
		files[name] = alter(name, data)
	}
	return out, nil
}

func dgNumber(name string) (int, bool) {
	var n int
	if _, err := fmt.Sscanf(name, "DG%d", &n); err != nil || n < 1 || n > 16 || name != fmt.Sprintf("DG%d", n) {
		return 0, false
	}
	return n, true
}

// securityObject signs the hashes of the data groups into EF.SOD.
func securityObject(files map[string][]byte, nums []int, ds *CertKey, o Options) ([]byte, error) {
	alg, err := digestAlgorithm(o.SODHash)
	if err != nil {
		return nil, err
	}
	omit := map[string]bool{}
	for _, n := range o.Tamper.OmitHash {
		omit[n] = true
	}
	var hashes [][]byte
	for _, n := range nums {
		name := fmt.Sprintf("DG%d", n)
		if omit[name] {
			continue
		}
		h := o.SODHash.New()
		h.Write(files[name])
		hashes = append(hashes, derSequence(mustMarshal(n), mustMarshal(h.Sum(nil))))
	}
	version := 0
	parts := [][]byte{nil, mustMarshal(alg), derSequence(hashes...)}
	if o.SODVersion1 {
		version = 1
		parts = append(parts, derSequence(
			mustMarshal(asn1.RawValue{Tag: asn1.TagPrintableString, Bytes: []byte("0108")}),
			mustMarshal(asn1.RawValue{Tag: asn1.TagPrintableString, Bytes: []byte("040000")})))
	}
	parts[0] = mustMarshal(version)
	lso := derSequence(parts...)
	ci, err := SignCMS(lds.OIDLDSSecurityObject, lso, ds, []*x509.Certificate{ds.Cert},
		SignOptions{Hash: o.SODHash, SubjectKeyID: o.SignerKeyID, SigningTime: o.SigningTime})
	if err != nil {
		return nil, err
	}
	return lds.EncodeTLV(0x77, ci), nil
}

// withUnknownTag appends an element with a private tag inside the file's
// outer template.
func withUnknownTag(data []byte) ([]byte, error) {
	t, rest, err := lds.ParseTLV(data)
	if err != nil || len(rest) > 0 {
		return nil, fmt.Errorf("%w: cannot add a tag to a file that does not parse", ErrSpec)
	}
	return lds.EncodeTLV(t.Tag, t.Value, lds.EncodeTLV(UnknownTag, []byte{0xCA, 0xFE, 0x00, 0x01})), nil
}

// alter changes a signed file: in DG1 the first letter of the name field
// becomes the next letter (still a valid MRZ); elsewhere the last byte
// flips.
func alter(name string, data []byte) []byte {
	out := append([]byte(nil), data...)
	if name == "DG1" {
		if i := dg1NameOffset(out); i >= 0 {
			if out[i] == 'Z' {
				out[i] = 'A'
			} else {
				out[i]++
			}
			return out
		}
	}
	out[len(out)-1] ^= 0x01
	return out
}

// dg1NameOffset finds the first letter of the name field inside DG1.
func dg1NameOffset(dg1 []byte) int {
	t, _, err := lds.ParseTLV(dg1)
	if err != nil {
		return -1
	}
	m, ok, err := lds.Find(t.Value, 0x5F1F)
	if err != nil || !ok {
		return -1
	}
	start := len(dg1) - len(t.Value) + bytes.Index(t.Value, m.Raw) + (len(m.Raw) - len(m.Value))
	var nameAt int
	switch len(m.Value) {
	case 88, 72: // TD3, TD2 and MRV: line 1 after the code and state
		nameAt = 5
	case 90: // TD1: line 3
		nameAt = 60
	default:
		return -1
	}
	for i := nameAt; i < len(m.Value); i++ {
		if c := m.Value[i]; c >= 'A' && c <= 'Z' {
			return start + i
		}
	}
	return -1
}

// template builds a DG11/DG12 style template: a 5C tag list, then the
// elements, empty ones left out.
type template struct {
	tags  []byte
	elems [][]byte
}

func (t *template) add(tag uint32, v string) {
	if v == "" {
		return
	}
	t.tags = append(t.tags, lds.EncodeTag(tag)...)
	t.elems = append(t.elems, lds.EncodeTLV(tag, []byte(v)))
}

func (t *template) encode(tag uint32) []byte {
	return lds.EncodeTLV(tag, append([][]byte{lds.EncodeTLV(0x5C, t.tags)}, t.elems...)...)
}

func dg11(d *PersonalDetails) []byte {
	var t template
	t.add(0x5F0E, d.FullName)
	if len(d.OtherNames) > 0 {
		t.tags = append(t.tags, 0xA0)
		parts := [][]byte{lds.EncodeTLV(0x02, []byte{byte(len(d.OtherNames))})}
		for _, n := range d.OtherNames {
			parts = append(parts, lds.EncodeTLV(0x5F0F, []byte(n)))
		}
		t.elems = append(t.elems, lds.EncodeTLV(0xA0, parts...))
	}
	t.add(0x5F10, d.PersonalNumber)
	if !d.FullDateOfBirth.IsZero() {
		t.add(0x5F2B, d.FullDateOfBirth.Format("20060102"))
	}
	t.add(0x5F11, d.PlaceOfBirth)
	t.add(0x5F42, d.Address)
	t.add(0x5F12, d.Telephone)
	t.add(0x5F13, d.Profession)
	t.add(0x5F14, d.Title)
	return t.encode(0x6B)
}

func dg12(d *DocumentDetails) []byte {
	var t template
	t.add(0x5F19, d.IssuingAuthority)
	if !d.DateOfIssue.IsZero() {
		t.add(0x5F26, d.DateOfIssue.Format("20060102"))
	}
	t.add(0x5F1B, d.Endorsements)
	if !d.PersonalizationTime.IsZero() {
		t.add(0x5F55, d.PersonalizationTime.UTC().Format("20060102150405"))
	}
	t.add(0x5F56, d.PersonalizationDevice)
	return t.encode(0x6C)
}
