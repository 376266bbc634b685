package pa

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
	"math/big"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/emrtd/tlv"
)

// A test issuing state: certificates and SODs made here with crypto/x509
// and encoding/asn1, independent of any emulator.

type testKey struct {
	signer crypto.Signer
}

func ecKeyP256(t testing.TB) crypto.Signer {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var serials int64 = 100

func mkCert(t testing.TB, subject pkix.Name, serial int64, key crypto.Signer, parent *x509.Certificate, parentKey crypto.Signer, ca bool, notBefore, notAfter time.Time) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: subject, NotBefore: notBefore, NotAfter: notAfter,
		BasicConstraintsValid: true, IsCA: ca,
	}
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

type state struct {
	csca    *x509.Certificate
	cscaKey crypto.Signer
	ds      *x509.Certificate
	dsKey   crypto.Signer
}

func newState(t testing.TB, country string) *state {
	now := time.Now()
	s := &state{cscaKey: ecKeyP256(t), dsKey: ecKeyP256(t)}
	s.csca = mkCert(t, pkix.Name{Country: []string{country}, CommonName: "CSCA " + country}, 1, s.cscaKey, nil, nil, true, now.AddDate(-5, 0, 0), now.AddDate(10, 0, 0))
	serials++
	s.ds = mkCert(t, pkix.Name{Country: []string{country}, CommonName: "DS " + country}, serials, s.dsKey, s.csca, s.cscaKey, false, now.AddDate(-1, 0, 0), now.AddDate(5, 0, 0))
	return s
}

type attr struct {
	Type   asn1.ObjectIdentifier
	Values []asn1.RawValue `asn1:"set"`
}

func sha256ID() pkix.AlgorithmIdentifier {
	return pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}}
}

// signCMS builds a ContentInfo/SignedData over content with signed
// attributes, signed by key (ECDSA-SHA256 or RSA PKCS#1 v1.5 SHA-256).
func signCMS(t testing.TB, ctype asn1.ObjectIdentifier, content []byte, cert *x509.Certificate, key crypto.Signer) []byte {
	t.Helper()
	md := sha256.Sum256(content)
	ct, _ := asn1.Marshal(ctype)
	mdv, _ := asn1.Marshal(md[:])
	attrs := []attr{
		{Type: oidContentType, Values: []asn1.RawValue{{FullBytes: ct}}},
		{Type: oidMessageDigest, Values: []asn1.RawValue{{FullBytes: mdv}}},
	}
	attrsDER, err := asn1.MarshalWithParams(attrs, "set")
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
	serial, _ := asn1.Marshal(cert.SerialNumber)
	sid := tlv.Encode(0x30, cert.RawIssuer, serial)
	// signedAttrs are [0] IMPLICIT.
	implicitAttrs := append([]byte{0xA0}, attrsDER[1:]...)
	ver, _ := asn1.Marshal(1)
	dalg, _ := asn1.Marshal(sha256ID())
	salg, _ := asn1.Marshal(sigAlg)
	sigOct, _ := asn1.Marshal(sig)
	si := tlv.Encode(0x30, ver, sid, dalg, implicitAttrs, salg, sigOct)
	octet, _ := asn1.Marshal(content)
	ctOID, _ := asn1.Marshal(ctype)
	encap := tlv.Encode(0x30, ctOID, tlv.Encode(0xA0, octet))
	ver3, _ := asn1.Marshal(3)
	sd := tlv.Encode(0x30, ver3, tlv.Encode(0x31, dalg), encap, tlv.Encode(0xA0, cert.Raw), tlv.Encode(0x31, si))
	sdOID, _ := asn1.Marshal(oidSignedData)
	return tlv.Encode(0x30, sdOID, tlv.Encode(0xA0, sd))
}

type dgHash struct {
	Number int
	Hash   []byte
}

func makeSOD(t testing.TB, groups map[int][]byte, cert *x509.Certificate, key crypto.Signer) []byte {
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
	}{0, sha256ID(), hs})
	if err != nil {
		t.Fatal(err)
	}
	return tlv.Encode(0x77, signCMS(t, oidLDSSecurityObj, so, cert, key))
}

func testGroups() map[int][]byte {
	return map[int][]byte{
		1: tlv.Encode(0x61, tlv.Encode(0x5F1F, []byte("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<L898902C36UTO7408122F1204159ZE184226B<<<<<10"))),
		2: tlv.Encode(0x75, make([]byte, 2000)),
	}
}

func makeCRL(t testing.TB, s *state, revoked ...*big.Int) *x509.RevocationList {
	t.Helper()
	tmpl := &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: time.Now().Add(-time.Hour), NextUpdate: time.Now().AddDate(0, 1, 0)}
	for _, r := range revoked {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{SerialNumber: r, RevocationTime: time.Now().Add(-time.Hour)})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, s.csca, s.cscaKey)
	if err != nil {
		t.Fatal(err)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	return crl
}

func storeOf(t testing.TB, set Set) *Store {
	st := NewStore()
	if err := st.InstallTrust(set); err != nil {
		t.Fatal(err)
	}
	return st
}
