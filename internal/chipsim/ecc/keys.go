package ecc

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
)

// ErrKey is returned when a key does not decode or names an unknown curve.
var ErrKey = errors.New("ecc: invalid key")

// oidECPublicKey is id-ecPublicKey (RFC 5480).
var oidECPublicKey = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}

// PrivateKey is an EC key pair on one of this package's curves.
type PrivateKey struct {
	Curve  *Curve
	D      *big.Int
	Public Point
}

// GenerateKey makes a key pair on c.
func GenerateKey(c *Curve, r io.Reader) (*PrivateKey, error) {
	d, pub, err := c.GenerateKey(r)
	if err != nil {
		return nil, err
	}
	return &PrivateKey{Curve: c, D: d, Public: pub}, nil
}

// FromECDSA converts a crypto/ecdsa key on P-256 or P-384.
func FromECDSA(k *ecdsa.PrivateKey) (*PrivateKey, error) {
	var c *Curve
	switch k.Curve {
	case elliptic.P256():
		c = P256()
	case elliptic.P384():
		c = P384()
	default:
		return nil, fmt.Errorf("%w: curve %s", ErrKey, k.Curve.Params().Name)
	}
	return &PrivateKey{Curve: c, D: new(big.Int).Set(k.D), Public: c.ScalarBaseMult(k.D)}, nil
}

// ecPrivateKey is RFC 5915 ECPrivateKey.
type ecPrivateKey struct {
	Version    int
	PrivateKey []byte
	Params     asn1.ObjectIdentifier `asn1:"optional,explicit,tag:0"`
	PublicKey  asn1.BitString        `asn1:"optional,explicit,tag:1"`
}

// MarshalSEC1 encodes the key as RFC 5915 ECPrivateKey with a named curve
// ("EC PRIVATE KEY" in PEM), which works for the Brainpool curves too.
func (k *PrivateKey) MarshalSEC1() ([]byte, error) {
	n := (k.Curve.N.BitLen() + 7) / 8
	pub := k.Curve.Marshal(k.Public)
	return asn1.Marshal(ecPrivateKey{
		Version:    1,
		PrivateKey: k.D.FillBytes(make([]byte, n)),
		Params:     k.Curve.OID,
		PublicKey:  asn1.BitString{Bytes: pub, BitLength: 8 * len(pub)},
	})
}

// ParseSEC1 decodes an RFC 5915 ECPrivateKey with a named curve.
func ParseSEC1(der []byte) (*PrivateKey, error) {
	var k ecPrivateKey
	rest, err := asn1.Unmarshal(der, &k)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	if len(rest) > 0 || k.Version != 1 {
		return nil, fmt.Errorf("%w: not an ECPrivateKey", ErrKey)
	}
	c := ByOID(k.Params)
	if c == nil {
		return nil, fmt.Errorf("%w: curve %v", ErrKey, k.Params)
	}
	d := new(big.Int).SetBytes(k.PrivateKey)
	if d.Sign() <= 0 || d.Cmp(c.N) >= 0 {
		return nil, fmt.Errorf("%w: scalar out of range", ErrKey)
	}
	return &PrivateKey{Curve: c, D: d, Public: c.ScalarBaseMult(d)}, nil
}

type algorithmIdentifier struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.ObjectIdentifier
}

type subjectPublicKeyInfo struct {
	Algorithm algorithmIdentifier
	PublicKey asn1.BitString
}

// MarshalPKIX encodes a public point as SubjectPublicKeyInfo
// (id-ecPublicKey with the named curve), as DG14 and DG15 carry it.
func MarshalPKIX(c *Curve, p Point) ([]byte, error) {
	pub := c.Marshal(p)
	return asn1.Marshal(subjectPublicKeyInfo{
		Algorithm: algorithmIdentifier{oidECPublicKey, c.OID},
		PublicKey: asn1.BitString{Bytes: pub, BitLength: 8 * len(pub)},
	})
}

// ParsePKIX decodes a named-curve EC SubjectPublicKeyInfo.
func ParsePKIX(der []byte) (*Curve, Point, error) {
	var spki subjectPublicKeyInfo
	rest, err := asn1.Unmarshal(der, &spki)
	if err != nil || len(rest) > 0 {
		return nil, Point{}, fmt.Errorf("%w: SubjectPublicKeyInfo: %v", ErrKey, err)
	}
	if !spki.Algorithm.Algorithm.Equal(oidECPublicKey) {
		return nil, Point{}, fmt.Errorf("%w: algorithm %v", ErrKey, spki.Algorithm.Algorithm)
	}
	c := ByOID(spki.Algorithm.Parameters)
	if c == nil {
		return nil, Point{}, fmt.Errorf("%w: curve %v", ErrKey, spki.Algorithm.Parameters)
	}
	p, err := c.Unmarshal(spki.PublicKey.Bytes)
	if err != nil {
		return nil, Point{}, err
	}
	return c, p, nil
}
