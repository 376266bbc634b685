package emrtdtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"time"

	simecc "github.com/checkpoint-edge/checkpoint/internal/chipsim/ecc"
)

// Brainpool-signed documents. crypto/x509 can neither make nor read
// certificates whose keys are on the Brainpool curves, which many states
// use for their CSCA and document signers. This file makes them with
// encoding/asn1 (RFC 5280 structures written out here) and signs with the
// chip emulator's elliptic-curve code (internal/chipsim/ecc), written
// separately from the reader's emrtd/ecc: a signature the reader accepts
// was computed by other arithmetic than the one that checks it.

// CurveKey is an ECDSA private key on a curve of the emulator's ecc
// (brainpoolP256r1, brainpoolP384r1, and P-256 and P-384 for
// certificates with explicit parameters that crypto/x509 cannot make); a
// crypto.Signer whose signatures are DER ECDSA-Sig-Values.
type CurveKey struct {
	k *simecc.PrivateKey
	// Explicit makes certificates carry the curve as explicit domain
	// parameters (as many ICAO certificates do) instead of its name.
	Explicit bool
}

// CurvePublicKey is the public half of a CurveKey.
type CurvePublicKey struct {
	Curve    *simecc.Curve
	Point    simecc.Point
	Explicit bool
}

// NewCurveKey makes a key on curve ("brainpoolP256r1",
// "brainpoolP384r1", "P-256" or "P-384").
func NewCurveKey(t TB, curve string) *CurveKey {
	t.Helper()
	c := simecc.ByName(curve)
	if c == nil {
		t.Fatal("emrtdtest: no curve " + curve)
	}
	k, err := simecc.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &CurveKey{k: k}
}

// Public implements crypto.Signer.
func (k *CurveKey) Public() crypto.PublicKey {
	return &CurvePublicKey{Curve: k.k.Curve, Point: k.k.Public, Explicit: k.Explicit}
}

// Sign implements crypto.Signer: ECDSA over digest, DER encoded.
func (k *CurveKey) Sign(r io.Reader, digest []byte, _ crypto.SignerOpts) ([]byte, error) {
	rs, err := k.k.Curve.Sign(r, k.k.D, digest)
	if err != nil {
		return nil, err
	}
	n := len(rs) / 2
	return asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(rs[:n]), new(big.Int).SetBytes(rs[n:])})
}

// hash is the digest this key signs certificates with (by curve size).
func (k *CurveKey) hash() crypto.Hash {
	if k.k.Curve.N.BitLen() > 256 {
		return crypto.SHA384
	}
	return crypto.SHA256
}

var (
	oidECPublicKey = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidPrimeField  = asn1.ObjectIdentifier{1, 2, 840, 10045, 1, 1}
	oidECDSASHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSASHA384 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidRSASHA256   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidKeyUsage    = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidBasic       = asn1.ObjectIdentifier{2, 5, 29, 19}
	oidSKI         = asn1.ObjectIdentifier{2, 5, 29, 14}
	oidAKI         = asn1.ObjectIdentifier{2, 5, 29, 35}
	oidCRLNumber   = asn1.ObjectIdentifier{2, 5, 29, 20}
)

// SPKI encodes the key: id-ecPublicKey with the curve's name, or with
// its explicit domain parameters (SEC 1 §C.2, RFC 3279 §2.3.5).
func (p *CurvePublicKey) SPKI() []byte {
	c := p.Curve
	var params asn1.RawValue
	if p.Explicit {
		n := c.ByteLen()
		fe := func(v *big.Int) []byte { return v.FillBytes(make([]byte, n)) }
		der, err := asn1.Marshal(struct {
			Version int
			Field   struct {
				Type  asn1.ObjectIdentifier
				Prime *big.Int
			}
			Curve struct{ A, B []byte }
			Base  []byte
			Order *big.Int
			Cof   int
		}{Version: 1, Field: struct {
			Type  asn1.ObjectIdentifier
			Prime *big.Int
		}{oidPrimeField, c.P}, Curve: struct{ A, B []byte }{fe(c.A), fe(c.B)}, Base: c.Marshal(c.G()), Order: c.N, Cof: 1})
		if err != nil {
			panic(err)
		}
		params = asn1.RawValue{FullBytes: der}
	} else {
		der, _ := asn1.Marshal(c.OID)
		params = asn1.RawValue{FullBytes: der}
	}
	pt := c.Marshal(p.Point)
	der, err := asn1.Marshal(struct {
		Alg struct {
			OID    asn1.ObjectIdentifier
			Params asn1.RawValue
		}
		Key asn1.BitString
	}{Alg: struct {
		OID    asn1.ObjectIdentifier
		Params asn1.RawValue
	}{oidECPublicKey, params}, Key: asn1.BitString{Bytes: pt, BitLength: 8 * len(pt)}})
	if err != nil {
		panic(err)
	}
	return der
}

// spkiOf encodes any key a test issues certificates to.
func spkiOf(pub crypto.PublicKey) ([]byte, []byte, error) {
	var der, bits []byte
	switch k := pub.(type) {
	case *CurvePublicKey:
		der, bits = k.SPKI(), k.Curve.Marshal(k.Point)
	case *ecdsa.PublicKey, *rsa.PublicKey:
		var err error
		if der, err = x509.MarshalPKIXPublicKey(k); err != nil {
			return nil, nil, err
		}
		var s struct {
			Alg  asn1.RawValue
			Bits asn1.BitString
		}
		if _, err := asn1.Unmarshal(der, &s); err != nil {
			return nil, nil, err
		}
		bits = s.Bits.Bytes
	default:
		return nil, nil, fmt.Errorf("emrtdtest: key type %T", pub)
	}
	ski := sha1.Sum(bits)
	return der, ski[:], nil
}

// sigAlgOf is the algorithm identifier and hash a signer signs
// certificates and CRLs with.
func sigAlgOf(key crypto.Signer) (pkix.AlgorithmIdentifier, crypto.Hash) {
	switch k := key.(type) {
	case *CurveKey:
		if k.hash() == crypto.SHA384 {
			return pkix.AlgorithmIdentifier{Algorithm: oidECDSASHA384}, crypto.SHA384
		}
		return pkix.AlgorithmIdentifier{Algorithm: oidECDSASHA256}, crypto.SHA256
	case *rsa.PrivateKey:
		return pkix.AlgorithmIdentifier{Algorithm: oidRSASHA256, Parameters: asn1.NullRawValue}, crypto.SHA256
	}
	return pkix.AlgorithmIdentifier{Algorithm: oidECDSASHA256}, crypto.SHA256
}

// signTBS signs a to-be-signed structure and wraps it (RFC 5280 §4.1).
func signTBS(tbs []byte, key crypto.Signer) ([]byte, pkix.AlgorithmIdentifier, []byte, error) {
	alg, h := sigAlgOf(key)
	d := h.New()
	d.Write(tbs)
	sig, err := key.Sign(rand.Reader, d.Sum(nil), h)
	if err != nil {
		return nil, alg, nil, err
	}
	der, err := asn1.Marshal(struct {
		TBS asn1.RawValue
		Alg pkix.AlgorithmIdentifier
		Sig asn1.BitString
	}{asn1.RawValue{FullBytes: tbs}, alg, asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}})
	return der, alg, sig, err
}

func usesCurveKey(keys ...crypto.Signer) bool {
	for _, k := range keys {
		if _, ok := k.(*CurveKey); ok {
			return true
		}
	}
	return false
}

// asnCert issues a certificate with encoding/asn1: for Brainpool keys,
// as subject or as signer. The returned certificate's fields are filled
// from what was encoded (the reader must parse Raw itself).
func asnCert(t TB, subject pkix.Name, serialNo int64, pub crypto.PublicKey, parent *x509.Certificate, parentKey crypto.Signer, ca bool, notBefore, notAfter time.Time) *x509.Certificate {
	t.Helper()
	spki, ski, err := spkiOf(pub)
	if err != nil {
		t.Fatal(err)
	}
	subjectDER, err := asn1.Marshal(subject.ToRDNSequence())
	if err != nil {
		t.Fatal(err)
	}
	issuerDER, issuer, aki := subjectDER, subject, ski
	if parent != nil {
		issuerDER, issuer, aki = parent.RawSubject, parent.Subject, parent.SubjectKeyId
	}
	ku := x509.KeyUsageDigitalSignature
	if ca {
		ku = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	}
	exts := []pkix.Extension{
		{Id: oidKeyUsage, Critical: true, Value: mustMarshal(t, keyUsageBits(ku))},
		{Id: oidBasic, Critical: true, Value: mustMarshal(t, struct {
			IsCA bool `asn1:"optional"`
		}{ca})},
		{Id: oidSKI, Value: mustMarshal(t, ski)},
		{Id: oidAKI, Value: mustMarshal(t, struct {
			ID []byte `asn1:"optional,tag:0"`
		}{aki})},
	}
	alg, _ := sigAlgOf(parentKey)
	serial := big.NewInt(serialNo)
	tbs, err := asn1.Marshal(struct {
		Version  int `asn1:"explicit,tag:0"`
		Serial   *big.Int
		Alg      pkix.AlgorithmIdentifier
		Issuer   asn1.RawValue
		Validity struct{ NotBefore, NotAfter time.Time }
		Subject  asn1.RawValue
		SPKI     asn1.RawValue
		Exts     []pkix.Extension `asn1:"explicit,tag:3"`
	}{2, serial, alg, asn1.RawValue{FullBytes: issuerDER}, struct{ NotBefore, NotAfter time.Time }{notBefore.UTC().Truncate(time.Second), notAfter.UTC().Truncate(time.Second)},
		asn1.RawValue{FullBytes: subjectDER}, asn1.RawValue{FullBytes: spki}, exts})
	if err != nil {
		t.Fatal(err)
	}
	der, _, sig, err := signTBS(tbs, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c := &x509.Certificate{Raw: der, RawTBSCertificate: tbs, RawSubjectPublicKeyInfo: spki, RawSubject: subjectDER, RawIssuer: issuerDER,
		Signature: sig, Version: 3, SerialNumber: serial, Subject: subject, Issuer: issuer,
		NotBefore: notBefore.UTC().Truncate(time.Second), NotAfter: notAfter.UTC().Truncate(time.Second), KeyUsage: ku,
		BasicConstraintsValid: true, IsCA: ca, MaxPathLen: -1, SubjectKeyId: ski, AuthorityKeyId: aki, PublicKey: pub}
	if _, ok := pub.(*CurvePublicKey); ok {
		c.PublicKeyAlgorithm = x509.ECDSA
	}
	return c
}

func keyUsageBits(ku x509.KeyUsage) asn1.BitString {
	var b [2]byte
	n := 0
	for i := 0; i < 9; i++ {
		if ku&(1<<uint(i)) != 0 {
			b[i/8] |= 0x80 >> uint(i%8)
			n = i + 1
		}
	}
	return asn1.BitString{Bytes: b[:(n+7)/8], BitLength: n}
}

// asnCRL issues a CRL (RFC 5280 §5.1) with encoding/asn1, for a
// Brainpool CSCA.
func asnCRL(t TB, issuer *x509.Certificate, key crypto.Signer, number int64, thisUpdate, nextUpdate time.Time, revoked ...*big.Int) *x509.RevocationList {
	t.Helper()
	type entry struct {
		Serial *big.Int
		When   time.Time
	}
	var entries []entry
	for _, r := range revoked {
		entries = append(entries, entry{r, thisUpdate.UTC().Truncate(time.Second)})
	}
	alg, _ := sigAlgOf(key)
	exts := []pkix.Extension{
		{Id: oidAKI, Value: mustMarshal(t, struct {
			ID []byte `asn1:"optional,tag:0"`
		}{issuer.SubjectKeyId})},
		{Id: oidCRLNumber, Value: mustMarshal(t, big.NewInt(number))},
	}
	tbs, err := asn1.Marshal(struct {
		Version    int
		Alg        pkix.AlgorithmIdentifier
		Issuer     asn1.RawValue
		ThisUpdate time.Time
		NextUpdate time.Time
		Revoked    []entry          `asn1:"optional"`
		Exts       []pkix.Extension `asn1:"explicit,tag:0"`
	}{1, alg, asn1.RawValue{FullBytes: issuer.RawSubject}, thisUpdate.UTC().Truncate(time.Second), nextUpdate.UTC().Truncate(time.Second), entries, exts})
	if err != nil {
		t.Fatal(err)
	}
	der, _, _, err := signTBS(tbs, key)
	if err != nil {
		t.Fatal(err)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(errors.Join(errors.New("emrtdtest: crypto/x509 does not read the CRL"), err))
	}
	return crl
}

// NewBrainpoolState makes a state whose CSCA key is on cscaCurve and
// whose document signer's key is on dsCurve ("brainpoolP256r1",
// "brainpoolP384r1", or "P-256" for a NIST key); explicit puts the curves
// in the certificates as explicit parameters.
func NewBrainpoolState(t TB, country, cscaCurve, dsCurve string, explicit bool) *State {
	t.Helper()
	now := time.Now()
	s := &State{Country: country, CSCAKey: keyOn(t, cscaCurve, explicit), DSKey: keyOn(t, dsCurve, explicit)}
	s.CSCA = Cert(t, pkix.Name{Country: []string{country}, CommonName: "CSCA " + country}, 1, s.CSCAKey, nil, nil, true, now.AddDate(-5, 0, 0), now.AddDate(10, 0, 0))
	s.DS = Cert(t, pkix.Name{Country: []string{country}, CommonName: "DS " + country}, 0, s.DSKey, s.CSCA, s.CSCAKey, false, now.AddDate(-1, 0, 0), now.AddDate(5, 0, 0))
	return s
}

func keyOn(t TB, curve string, explicit bool) crypto.Signer {
	if curve == "P-256" && !explicit {
		return ECKey(t)
	}
	k := NewCurveKey(t, curve)
	k.Explicit = explicit
	return k
}
