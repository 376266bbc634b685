// Package emrtdtest makes test documents for the reader side's own tests:
// a test issuing state (CSCA, document signer, CRLs, master lists) and the
// LDS files of a chip (EF.CardAccess, EF.COM, EF.SOD, DG1, DG2, DG14,
// DG15), built with crypto/x509 and encoding/asn1. It is independent of
// the chip emulator's issuer tooling on purpose: the two check each other.
package emrtdtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"sync/atomic"
	"time"

	"github.com/checkpoint-edge/checkpoint/emrtd/tlv"
)

// TB is what the issuer needs of a test: testing.TB satisfies it, and
// the demo passes a Recorder.
type TB interface {
	Helper()
	Fatal(args ...any)
}

// Recorder is a TB outside tests: Fatal panics with an Error that Do
// recovers, so code built for tests can run in a command.
type Recorder struct{}

// Error is what a Recorder's Fatal panics with.
type Error struct{ Msg string }

func (e Error) Error() string { return e.Msg }

// Helper implements TB.
func (Recorder) Helper() {}

// Fatal implements TB.
func (Recorder) Fatal(args ...any) { panic(Error{Msg: fmt.Sprint(args...)}) }

// Do runs f with a Recorder and returns its failure as an error.
func Do(f func(t TB)) (err error) {
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(Error)
			if !ok {
				panic(r)
			}
			err = e
		}
	}()
	f(Recorder{})
	return nil
}

// OIDs used to build files.
var (
	OIDSignedData     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	OIDContentType    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	OIDMessageDigest  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	OIDLDSSecurityObj = asn1.ObjectIdentifier{2, 23, 136, 1, 1, 1}
	OIDCSCAMasterList = asn1.ObjectIdentifier{2, 23, 136, 1, 1, 2}
)

// State is a test issuing state.
type State struct {
	Country string
	CSCA    *x509.Certificate
	CSCAKey crypto.Signer
	DS      *x509.Certificate
	DSKey   crypto.Signer
}

// ECKey returns a new P-256 key.
func ECKey(t TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var serial atomic.Int64

func init() { serial.Store(1000) }

// Cert issues a certificate (self-signed when parent is nil).
func Cert(t TB, subject pkix.Name, serialNo int64, key crypto.Signer, parent *x509.Certificate, parentKey crypto.Signer, ca bool, notBefore, notAfter time.Time) *x509.Certificate {
	t.Helper()
	if serialNo == 0 {
		serialNo = serial.Add(1)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serialNo), Subject: subject, NotBefore: notBefore, NotAfter: notAfter,
		BasicConstraintsValid: true, IsCA: ca}
	if ca {
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// NewState makes a CSCA and a document signer for country (alpha-2).
func NewState(t TB, country string) *State {
	t.Helper()
	now := time.Now()
	s := &State{Country: country, CSCAKey: ECKey(t), DSKey: ECKey(t)}
	s.CSCA = Cert(t, pkix.Name{Country: []string{country}, CommonName: "CSCA " + country}, 1, s.CSCAKey, nil, nil, true, now.AddDate(-5, 0, 0), now.AddDate(10, 0, 0))
	s.DS = Cert(t, pkix.Name{Country: []string{country}, CommonName: "DS " + country}, 0, s.DSKey, s.CSCA, s.CSCAKey, false, now.AddDate(-1, 0, 0), now.AddDate(5, 0, 0))
	return s
}

// NewDS issues another document signer of the state.
func (s *State) NewDS(t TB, notBefore, notAfter time.Time) (*x509.Certificate, crypto.Signer) {
	k := ECKey(t)
	return Cert(t, pkix.Name{Country: []string{s.Country}, CommonName: "DS " + s.Country}, 0, k, s.CSCA, s.CSCAKey, false, notBefore, notAfter), k
}

// CRL issues a CRL of the state revoking serials.
func (s *State) CRL(t TB, revoked ...*big.Int) *x509.RevocationList {
	t.Helper()
	tmpl := &x509.RevocationList{Number: big.NewInt(serial.Add(1)), ThisUpdate: time.Now().Add(-time.Hour), NextUpdate: time.Now().AddDate(0, 1, 0)}
	for _, r := range revoked {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{SerialNumber: r, RevocationTime: time.Now().Add(-time.Hour)})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, s.CSCA, s.CSCAKey)
	if err != nil {
		t.Fatal(err)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	return crl
}

type attr struct {
	Type   asn1.ObjectIdentifier
	Values []asn1.RawValue `asn1:"set"`
}

// SHA256ID is the SHA-256 algorithm identifier.
func SHA256ID() pkix.AlgorithmIdentifier {
	return pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}}
}

// SignCMS builds a ContentInfo/SignedData over content with signed
// attributes (ECDSA-SHA256 or RSA PKCS#1 v1.5 SHA-256).
func SignCMS(t TB, ctype asn1.ObjectIdentifier, content []byte, cert *x509.Certificate, key crypto.Signer) []byte {
	t.Helper()
	md := sha256.Sum256(content)
	ct, _ := asn1.Marshal(ctype)
	mdv, _ := asn1.Marshal(md[:])
	attrsDER, err := asn1.MarshalWithParams([]attr{
		{Type: OIDContentType, Values: []asn1.RawValue{{FullBytes: ct}}},
		{Type: OIDMessageDigest, Values: []asn1.RawValue{{FullBytes: mdv}}},
	}, "set")
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(attrsDER)
	sig, err := key.Sign(rand.Reader, h[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	sigAlg := pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}}
	if _, ok := key.(*rsa.PrivateKey); ok {
		sigAlg = pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}, Parameters: asn1.NullRawValue}
	}
	serialDER, _ := asn1.Marshal(cert.SerialNumber)
	sid := tlv.Encode(0x30, cert.RawIssuer, serialDER)
	implicitAttrs := append([]byte{0xA0}, attrsDER[1:]...)
	ver, _ := asn1.Marshal(1)
	dalg, _ := asn1.Marshal(SHA256ID())
	salg, _ := asn1.Marshal(sigAlg)
	sigOct, _ := asn1.Marshal(sig)
	si := tlv.Encode(0x30, ver, sid, dalg, implicitAttrs, salg, sigOct)
	octet, _ := asn1.Marshal(content)
	encap := tlv.Encode(0x30, ct, tlv.Encode(0xA0, octet))
	ver3, _ := asn1.Marshal(3)
	sd := tlv.Encode(0x30, ver3, tlv.Encode(0x31, dalg), encap, tlv.Encode(0xA0, cert.Raw), tlv.Encode(0x31, si))
	sdOID, _ := asn1.Marshal(OIDSignedData)
	return tlv.Encode(0x30, sdOID, tlv.Encode(0xA0, sd))
}

type dgHash struct {
	Number int
	Hash   []byte
}

// SOD builds EF.SOD over the data groups (number → file bytes).
func SOD(t TB, groups map[int][]byte, cert *x509.Certificate, key crypto.Signer) []byte {
	t.Helper()
	var hs []dgHash
	for n := 1; n <= 16; n++ {
		if g, ok := groups[n]; ok {
			h := sha256.Sum256(g)
			hs = append(hs, dgHash{n, h[:]})
		}
	}
	so, err := asn1.Marshal(struct {
		Version int
		Alg     pkix.AlgorithmIdentifier
		Hashes  []dgHash
	}{0, SHA256ID(), hs})
	if err != nil {
		t.Fatal(err)
	}
	return tlv.Encode(0x77, SignCMS(t, OIDLDSSecurityObj, so, cert, key))
}

// MasterList builds an ICAO CSCA master list signed by a signer that the
// state's CSCA certified.
func (s *State) MasterList(t TB, certs ...*x509.Certificate) []byte {
	var set []byte
	for _, c := range certs {
		set = append(set, c.Raw...)
	}
	ver, _ := asn1.Marshal(0)
	content := tlv.Encode(0x30, ver, tlv.Encode(0x31, set))
	now := time.Now()
	k := ECKey(t)
	mls := Cert(t, pkix.Name{Country: []string{s.Country}, CommonName: "Master List Signer"}, 0, k, s.CSCA, s.CSCAKey, false, now.AddDate(-1, 0, 0), now.AddDate(1, 0, 0))
	return SignCMS(t, OIDCSCAMasterList, content, mls, k)
}

// CSCAsForTrust is the state's CSCA as a trust list.
func (s *State) CSCAsForTrust() []*x509.Certificate { return []*x509.Certificate{s.CSCA} }
