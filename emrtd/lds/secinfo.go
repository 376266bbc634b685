package lds

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"math/big"
	"strings"

	"github.com/checkpoint-edge/checkpoint/emrtd/ecc"
	"github.com/checkpoint-edge/checkpoint/emrtd/tlv"
)

// Object identifiers of BSI TR-03110 / Doc 9303 Part 11 security infos.
const (
	OIDPACE       = "0.4.0.127.0.7.2.2.4"
	OIDPACEECDHGM = "0.4.0.127.0.7.2.2.4.2"
	OIDPACEDHGM   = "0.4.0.127.0.7.2.2.4.1"
	OIDCA         = "0.4.0.127.0.7.2.2.3"
	OIDCAECDH     = "0.4.0.127.0.7.2.2.3.2"
	OIDPKECDH     = "0.4.0.127.0.7.2.2.1.2"
	OIDPKDH       = "0.4.0.127.0.7.2.2.1.1"
	OIDAA         = "2.23.136.1.1.5"
)

// PACEInfo announces one PACE variant (EF.CardAccess).
type PACEInfo struct {
	OID         string `json:"oid"`
	Version     int    `json:"version"`
	ParameterID int    `json:"parameter_id"`
}

// GenericECDH reports whether this is PACE ECDH Generic Mapping.
func (p PACEInfo) GenericECDH() bool { return strings.HasPrefix(p.OID, OIDPACEECDHGM+".") }

// CAInfo announces Chip Authentication (DG14).
type CAInfo struct {
	OID     string `json:"oid"`
	Version int    `json:"version"`
	KeyID   int    `json:"key_id,omitempty"`
}

// CAPublicKey is the chip's static Chip Authentication key (DG14).
type CAPublicKey struct {
	OID   string     `json:"oid"`
	Curve *ecc.Curve `json:"-"`
	Point ecc.Point  `json:"-"`
	KeyID int        `json:"key_id,omitempty"`
}

// AAInfo names the Active Authentication signature algorithm (DG14),
// needed when the DG15 key is an EC key.
type AAInfo struct {
	Version            int    `json:"version"`
	SignatureAlgorithm string `json:"signature_algorithm"`
}

// SecurityInfos is the content of EF.CardAccess or DG14.
type SecurityInfos struct {
	PACE    []PACEInfo    `json:"pace,omitempty"`
	CA      []CAInfo      `json:"ca,omitempty"`
	CAKeys  []CAPublicKey `json:"-"`
	AA      *AAInfo       `json:"aa,omitempty"`
	Unknown []string      `json:"unknown,omitempty"`
}

type securityInfo struct {
	Protocol asn1.ObjectIdentifier
	Required asn1.RawValue
	Optional asn1.RawValue `asn1:"optional"`
}

// ParseSecurityInfos parses a DER SET OF SecurityInfo.
func ParseSecurityInfos(b []byte) (*SecurityInfos, error) {
	var set []securityInfo
	rest, err := asn1.UnmarshalWithParams(b, &set, "set")
	if err != nil {
		return nil, fmt.Errorf("%w: security infos: %w", ErrFormat, err)
	}
	if len(rest) > 0 && !allZero(rest) {
		return nil, fmt.Errorf("%w: %d bytes after security infos", ErrFormat, len(rest))
	}
	out := &SecurityInfos{}
	for _, si := range set {
		oid := si.Protocol.String()
		switch {
		case strings.HasPrefix(oid, OIDPACE+"."):
			var v int
			if _, err := asn1.Unmarshal(si.Required.FullBytes, &v); err != nil {
				return nil, fmt.Errorf("%w: PACEInfo version: %w", ErrFormat, err)
			}
			p := PACEInfo{OID: oid, Version: v, ParameterID: -1}
			if len(si.Optional.FullBytes) > 0 {
				var id int
				if _, err := asn1.Unmarshal(si.Optional.FullBytes, &id); err == nil {
					p.ParameterID = id
				}
			}
			out.PACE = append(out.PACE, p)
		case strings.HasPrefix(oid, OIDCA+"."):
			var v int
			if _, err := asn1.Unmarshal(si.Required.FullBytes, &v); err != nil {
				return nil, fmt.Errorf("%w: ChipAuthenticationInfo version: %w", ErrFormat, err)
			}
			c := CAInfo{OID: oid, Version: v}
			if len(si.Optional.FullBytes) > 0 {
				asn1.Unmarshal(si.Optional.FullBytes, &c.KeyID)
			}
			out.CA = append(out.CA, c)
		case oid == OIDPKECDH:
			k := CAPublicKey{OID: oid}
			curve, pt, err := ParseECPublicKey(si.Required.FullBytes)
			if err != nil {
				return nil, fmt.Errorf("%w: chip authentication key: %w", ErrFormat, err)
			}
			k.Curve, k.Point = curve, pt
			if len(si.Optional.FullBytes) > 0 {
				asn1.Unmarshal(si.Optional.FullBytes, &k.KeyID)
			}
			out.CAKeys = append(out.CAKeys, k)
		case oid == OIDAA:
			a := &AAInfo{}
			asn1.Unmarshal(si.Required.FullBytes, &a.Version)
			var alg asn1.ObjectIdentifier
			if _, err := asn1.Unmarshal(si.Optional.FullBytes, &alg); err == nil {
				a.SignatureAlgorithm = alg.String()
			}
			out.AA = a
		default:
			out.Unknown = append(out.Unknown, oid)
		}
	}
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

// ParseDG14 unwraps DG14 (tag 6E) and parses its security infos.
func ParseDG14(b []byte) (*SecurityInfos, error) {
	t, err := tlv.Parse(b)
	if err != nil || t.Tag != 0x6E {
		return nil, fmt.Errorf("%w: DG14: %v", ErrFormat, errOrTag(err, t.Tag))
	}
	return ParseSecurityInfos(t.Value)
}

type spki struct {
	Algorithm struct {
		OID    asn1.ObjectIdentifier
		Params asn1.RawValue `asn1:"optional"`
	}
	Key asn1.BitString
}

type ecParams struct {
	Version int
	Field   struct {
		Type  asn1.ObjectIdentifier
		Prime *big.Int
	}
	Curve struct {
		A, B []byte
		Seed asn1.BitString `asn1:"optional"`
	}
	Base     []byte
	Order    *big.Int
	Cofactor int `asn1:"optional"`
}

// ParseECPublicKey parses an EC SubjectPublicKeyInfo whose parameters are
// a named curve or explicit parameters (as many chips encode them).
func ParseECPublicKey(der []byte) (*ecc.Curve, ecc.Point, error) {
	var k spki
	if _, err := asn1.Unmarshal(der, &k); err != nil {
		return nil, ecc.Point{}, err
	}
	var curve *ecc.Curve
	p := k.Algorithm.Params
	switch {
	case p.Tag == asn1.TagOID:
		var oid asn1.ObjectIdentifier
		if _, err := asn1.Unmarshal(p.FullBytes, &oid); err != nil {
			return nil, ecc.Point{}, err
		}
		curve = ecc.ByOID(oid.String())
		if curve == nil {
			return nil, ecc.Point{}, fmt.Errorf("unknown curve %s", oid)
		}
	case p.Tag == asn1.TagSequence:
		var ep ecParams
		if _, err := asn1.Unmarshal(p.FullBytes, &ep); err != nil {
			return nil, ecc.Point{}, err
		}
		if ep.Field.Prime == nil {
			return nil, ecc.Point{}, fmt.Errorf("explicit parameters without a prime")
		}
		curve = ecc.ByPrime(ep.Field.Prime, new(big.Int).SetBytes(ep.Curve.A), new(big.Int).SetBytes(ep.Curve.B))
		if curve == nil {
			return nil, ecc.Point{}, fmt.Errorf("explicit curve parameters of no known curve")
		}
		if g, err := curve.Unmarshal(ep.Base); err != nil || g.X.Cmp(curve.G.X) != 0 || g.Y.Cmp(curve.G.Y) != 0 {
			return nil, ecc.Point{}, fmt.Errorf("explicit parameters with another generator")
		}
	default:
		return nil, ecc.Point{}, fmt.Errorf("EC key without curve parameters")
	}
	pt, err := curve.Unmarshal(k.Key.RightAlign())
	if err != nil {
		return nil, ecc.Point{}, err
	}
	return curve, pt, nil
}

// AAKey is the Active Authentication public key of DG15.
type AAKey struct {
	RSA   *rsa.PublicKey
	Curve *ecc.Curve
	Point ecc.Point
}

// Kind is "RSA" or "ECDSA".
func (k AAKey) Kind() string {
	if k.RSA != nil {
		return "RSA"
	}
	return "ECDSA"
}

// ParseDG15 parses DG15 (tag 6F): an RSA or EC SubjectPublicKeyInfo.
func ParseDG15(b []byte) (*AAKey, error) {
	t, err := tlv.Parse(b)
	if err != nil || t.Tag != 0x6F {
		return nil, fmt.Errorf("%w: DG15: %v", ErrFormat, errOrTag(err, t.Tag))
	}
	if pk, err := x509.ParsePKIXPublicKey(t.Value); err == nil {
		if r, ok := pk.(*rsa.PublicKey); ok {
			return &AAKey{RSA: r}, nil
		}
	}
	curve, pt, err := ParseECPublicKey(t.Value)
	if err != nil {
		return nil, fmt.Errorf("%w: DG15 key: %w", ErrFormat, err)
	}
	return &AAKey{Curve: curve, Point: pt}, nil
}
