package pa

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
)

// ErrCMS is returned for a SignedData that cannot be parsed.
var ErrCMS = errors.New("pa: malformed CMS SignedData")

var (
	oidSignedData     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidContentType    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidMessageDigest  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidLDSSecurityObj = asn1.ObjectIdentifier{2, 23, 136, 1, 1, 1}
	oidCSCAMasterList = asn1.ObjectIdentifier{2, 23, 136, 1, 1, 2}
)

type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"explicit,tag:0"`
}

type encapContent struct {
	EContentType asn1.ObjectIdentifier
	EContent     asn1.RawValue `asn1:"explicit,optional,tag:0"`
}

type algorithmIdentifier = pkix.AlgorithmIdentifier

type signedData struct {
	Version          int
	DigestAlgorithms []algorithmIdentifier `asn1:"set"`
	EncapContent     encapContent
	Certificates     asn1.RawValue `asn1:"optional,tag:0"`
	CRLs             asn1.RawValue `asn1:"optional,tag:1"`
	SignerInfos      []signerInfo  `asn1:"set"`
}

type issuerAndSerial struct {
	Issuer asn1.RawValue
	Serial *big.Int
}

type signerInfo struct {
	Version            int
	SID                asn1.RawValue
	DigestAlgorithm    algorithmIdentifier
	SignedAttrs        asn1.RawValue `asn1:"optional,tag:0"`
	SignatureAlgorithm algorithmIdentifier
	Signature          []byte
	UnsignedAttrs      asn1.RawValue `asn1:"optional,tag:1"`
}

type attribute struct {
	Type   asn1.ObjectIdentifier
	Values asn1.RawValue `asn1:"set"`
}

// SignedData is the parsed part of a CMS SignedData we verify.
type SignedData struct {
	ContentType asn1.ObjectIdentifier
	Content     []byte   // eContent (the OCTET STRING's bytes)
	Certs       [][]byte // DER certificates carried
	Signer      Signer
}

// Signer is the (first) signer info.
type Signer struct {
	IssuerRaw       []byte // issuer Name DER, when identified by issuer and serial
	Serial          *big.Int
	SubjectKeyID    []byte
	DigestAlg       asn1.ObjectIdentifier
	SignatureAlg    algorithmIdentifier
	Signature       []byte
	SignedAttrs     []byte // DER of the attributes as a SET (what is signed), nil if none
	MessageDigest   []byte
	AttrContentType asn1.ObjectIdentifier
}

// ParseSignedData parses a DER ContentInfo holding SignedData.
func ParseSignedData(der []byte) (*SignedData, error) {
	var ci contentInfo
	rest, err := asn1.Unmarshal(der, &ci)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCMS, err)
	}
	if len(rest) > 0 && !allZero(rest) {
		return nil, fmt.Errorf("%w: trailing data", ErrCMS)
	}
	if !ci.ContentType.Equal(oidSignedData) {
		return nil, fmt.Errorf("%w: content type %v", ErrCMS, ci.ContentType)
	}
	var sd signedData
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCMS, err)
	}
	out := &SignedData{ContentType: sd.EncapContent.EContentType}
	if len(sd.EncapContent.EContent.Bytes) > 0 {
		var oct []byte
		if _, err := asn1.Unmarshal(sd.EncapContent.EContent.Bytes, &oct); err != nil {
			return nil, fmt.Errorf("%w: eContent: %w", ErrCMS, err)
		}
		out.Content = oct
	}
	if len(sd.Certificates.Bytes) > 0 {
		rest := sd.Certificates.Bytes
		for len(rest) > 0 && len(out.Certs) < 16 {
			var raw asn1.RawValue
			r, err := asn1.Unmarshal(rest, &raw)
			if err != nil {
				return nil, fmt.Errorf("%w: certificates: %w", ErrCMS, err)
			}
			out.Certs = append(out.Certs, raw.FullBytes)
			rest = r
		}
	}
	if len(sd.SignerInfos) == 0 {
		return nil, fmt.Errorf("%w: no signer", ErrCMS)
	}
	si := sd.SignerInfos[0]
	s := Signer{DigestAlg: si.DigestAlgorithm.Algorithm, SignatureAlg: si.SignatureAlgorithm, Signature: si.Signature}
	switch {
	case si.SID.Class == asn1.ClassUniversal && si.SID.Tag == asn1.TagSequence:
		var ias issuerAndSerial
		if _, err := asn1.Unmarshal(si.SID.FullBytes, &ias); err != nil {
			return nil, fmt.Errorf("%w: signer id: %w", ErrCMS, err)
		}
		s.IssuerRaw, s.Serial = ias.Issuer.FullBytes, ias.Serial
	case si.SID.Class == asn1.ClassContextSpecific && si.SID.Tag == 0:
		s.SubjectKeyID = si.SID.Bytes
	default:
		return nil, fmt.Errorf("%w: signer id of unknown form", ErrCMS)
	}
	if len(si.SignedAttrs.FullBytes) > 0 {
		// What is signed is the attributes with an explicit SET tag.
		sa := append([]byte(nil), si.SignedAttrs.FullBytes...)
		sa[0] = 0x31
		s.SignedAttrs = sa
		var attrs []attribute
		if _, err := asn1.UnmarshalWithParams(sa, &attrs, "set"); err != nil {
			return nil, fmt.Errorf("%w: signed attributes: %w", ErrCMS, err)
		}
		for _, a := range attrs {
			switch {
			case a.Type.Equal(oidMessageDigest):
				var d []byte
				if _, err := asn1.Unmarshal(a.Values.Bytes, &d); err == nil {
					s.MessageDigest = d
				}
			case a.Type.Equal(oidContentType):
				var o asn1.ObjectIdentifier
				if _, err := asn1.Unmarshal(a.Values.Bytes, &o); err == nil {
					s.AttrContentType = o
				}
			}
		}
	}
	out.Signer = s
	return out, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// LDSSecurityObject is the signed content of EF.SOD.
type LDSSecurityObject struct {
	Version    int
	HashAlg    asn1.ObjectIdentifier
	Hashes     map[int][]byte
	LDSVersion string
}

type ldsSO struct {
	Version int
	HashAlg algorithmIdentifier
	Hashes  []struct {
		Number int
		Hash   []byte
	}
	VersionInfo asn1.RawValue `asn1:"optional"`
}

// ParseLDSSecurityObject parses the LDS security object.
func ParseLDSSecurityObject(b []byte) (*LDSSecurityObject, error) {
	var so ldsSO
	if _, err := asn1.Unmarshal(b, &so); err != nil {
		return nil, fmt.Errorf("%w: LDS security object: %w", ErrCMS, err)
	}
	out := &LDSSecurityObject{Version: so.Version, HashAlg: so.HashAlg.Algorithm, Hashes: map[int][]byte{}}
	for _, h := range so.Hashes {
		if h.Number < 1 || h.Number > 16 {
			return nil, fmt.Errorf("%w: data group number %d", ErrCMS, h.Number)
		}
		if _, dup := out.Hashes[h.Number]; dup {
			return nil, fmt.Errorf("%w: data group %d hashed twice", ErrCMS, h.Number)
		}
		out.Hashes[h.Number] = h.Hash
	}
	return out, nil
}
