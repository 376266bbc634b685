package pa

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	testissuer "github.com/checkpoint-edge/checkpoint/emrtd/emrtdtest"
)

// loadTrust reads certificates and CRLs back through Parse (PEM), the
// way a unit loads its trust file: every certificate goes through
// ParseCertificate, not the test issuer's structs.
func loadTrust(t testing.TB, certs []*x509.Certificate, crls ...*x509.RevocationList) *Store {
	t.Helper()
	set, _, err := Parse(EncodePEM(Set{CSCAs: certs, CRLs: crls}))
	if err != nil {
		t.Fatal(err)
	}
	if len(set.CSCAs) != len(certs) || len(set.CRLs) != len(crls) {
		t.Fatalf("trust file read back %d certificates and %d CRLs, want %d and %d", len(set.CSCAs), len(set.CRLs), len(certs), len(crls))
	}
	return storeOf(t, set)
}

// TestBrainpoolPassiveAuthentication runs passive authentication over
// chains with Brainpool keys (named curves and explicit parameters,
// CSCA and DS on different curves, mixed with NIST keys): the same checks
// and outcomes as for the chains crypto/x509 reads.
func TestBrainpoolPassiveAuthentication(t *testing.T) {
	for _, ch := range []struct {
		csca, ds string
		explicit bool
	}{
		{"brainpoolP384r1", "brainpoolP256r1", false},
		{"brainpoolP256r1", "brainpoolP256r1", true},
		{"brainpoolP384r1", "brainpoolP384r1", true},
		{"brainpoolP256r1", "P-256", false}, // Brainpool CSCA, NIST DS
		{"P-256", "brainpoolP256r1", false}, // NIST CSCA, Brainpool DS
		{"P-256", "P-256", true},            // NIST curve in explicit parameters
	} {
		name := fmt.Sprintf("%s→%s", ch.csca, ch.ds)
		if ch.explicit {
			name += " explicit"
		}
		t.Run(name, func(t *testing.T) {
			now := time.Now()
			uto := testissuer.NewBrainpoolState(t, "UT", ch.csca, ch.ds, ch.explicit)
			groups := testGroups()
			good := makeSOD(t, groups, uto.DS, uto.DSKey)

			// A rogue CSCA with the trusted one's name and serial number
			// (and curve), and a DS it signed with the genuine DS's name.
			rogue := testissuer.NewBrainpoolState(t, "UT", ch.csca, ch.ds, ch.explicit)
			rogueCSCA := testissuer.Cert(t, uto.CSCA.Subject, uto.CSCA.SerialNumber.Int64(), rogue.CSCAKey, nil, nil, true, uto.CSCA.NotBefore, uto.CSCA.NotAfter)
			rogueDS := testissuer.Cert(t, uto.DS.Subject, uto.DS.SerialNumber.Int64(), rogue.DSKey, rogueCSCA, rogue.CSCAKey, false, now.AddDate(-1, 0, 0), now.AddDate(5, 0, 0))
			if !bytes.Equal(rogueCSCA.RawSubject, uto.CSCA.RawSubject) || rogueCSCA.SerialNumber.Cmp(uto.CSCA.SerialNumber) != 0 {
				t.Fatal("the rogue CSCA does not copy the name and serial")
			}
			expiredDS, expiredKey := uto.NewDS(t, now.AddDate(-6, 0, 0), now.AddDate(-1, 0, 0))
			altered := testGroups()
			altered[1] = []byte(strings.Replace(string(altered[1]), "ERIKSSON", "ERIKSSEN", 1))

			trusted := loadTrust(t, []*x509.Certificate{uto.CSCA})
			revoked := loadTrust(t, []*x509.Certificate{uto.CSCA}, uto.CRL(t, uto.DS.SerialNumber))
			clean := loadTrust(t, []*x509.Certificate{uto.CSCA}, uto.CRL(t, big.NewInt(77)))
			onlyRogue := loadTrust(t, []*x509.Certificate{rogueCSCA})
			// A CRL revoking the genuine DS, signed by the rogue CSCA: it
			// must not count (not signed by the DS's CSCA).
			rogueCRL := loadTrust(t, []*x509.Certificate{uto.CSCA}, rogue.CRL(t, uto.DS.SerialNumber))

			for _, c := range []struct {
				name   string
				sod    []byte
				groups map[int][]byte
				store  *Store
				status Status
				step   string
				reason string
			}{
				{"genuine", good, groups, trusted, Valid, "", ""},
				{"genuine, CRL without it", good, groups, clean, Valid, "", ""},
				{"rogue CSCA's document signer", makeSOD(t, groups, rogueDS, rogue.DSKey), groups, trusted, Invalid, StepChain, "not signed by any trusted CSCA"},
				{"only the rogue CSCA trusted", good, groups, onlyRogue, Invalid, StepChain, "not signed by any trusted CSCA"},
				{"expired DS", makeSOD(t, groups, expiredDS, expiredKey), groups, trusted, Invalid, StepDSValidity, "not now"},
				{"revoked DS", good, groups, revoked, Invalid, StepCRL, "revoked"},
				{"DG1 altered", good, altered, trusted, Invalid, StepHashes, "DG1 does not match the signed hash"},
				{"CSCA not trusted", good, groups, NewStore(), NotVerifiable, "", "no CSCA of UT"},
			} {
				r := Verify(c.sod, c.groups, c.store, Options{Country: "UTO"})
				if r.Status != c.status || r.FailedStep != c.step || !strings.Contains(r.Reason, c.reason) {
					t.Errorf("%s: got %s at %q: %q; want %s at %q containing %q\nsteps %+v", c.name, r.Status, r.FailedStep, r.Reason, c.status, c.step, c.reason, r.Steps)
				}
				if c.name == "genuine, CRL without it" {
					if st := stepOf(r, StepCRL); !st.OK || st.Warn || st.Detail != "not revoked" {
						t.Errorf("the CSCA's CRL was not checked: %+v", st)
					}
				}
			}
			r := Verify(good, groups, rogueCRL, Options{})
			if st := stepOf(r, StepCRL); r.Status != Valid || !st.Warn {
				t.Errorf("a CRL signed by the rogue CSCA counted: %s %+v", r.Status, st)
			}
		})
	}
}

func stepOf(r Result, name string) Step {
	for _, s := range r.Steps {
		if s.Name == name {
			return s
		}
	}
	return Step{}
}

// TestParseCertificateFields compares what ParseCertificate reads from
// certificates crypto/x509 cannot read with what the issuer encoded, and
// with crypto/x509's reading of the same certificate with the curve
// named instead of explicit (P-256).
func TestParseCertificateFields(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	subject := pkix.Name{Country: []string{"DE"}, Organization: []string{"bund"}, OrganizationalUnit: []string{"bsi"}, CommonName: "csca-test", SerialNumber: "013"}
	for _, curve := range []string{"brainpoolP256r1", "brainpoolP384r1", "P-256"} {
		for _, explicit := range []bool{false, true} {
			if curve == "P-256" && !explicit {
				continue // crypto/x509 reads that one
			}
			k := testissuer.NewCurveKey(t, curve)
			k.Explicit = explicit
			want := testissuer.Cert(t, subject, 4711, k, nil, nil, true, now.AddDate(-1, 0, 0), now.AddDate(9, 0, 0))
			if _, err := x509.ParseCertificate(want.Raw); err == nil {
				t.Fatalf("%s explicit=%v: crypto/x509 reads it: the test shows nothing", curve, explicit)
			}
			got, err := ParseCertificate(want.Raw)
			if err != nil {
				t.Fatalf("%s explicit=%v: %v", curve, explicit, err)
			}
			checkSameFields(t, got, want)
			if err := CheckSignatureFrom(got, got); err != nil {
				t.Errorf("%s explicit=%v: self-signature: %v", curve, explicit, err)
			}
			switch pub := got.PublicKey.(type) {
			case *ECPublicKey:
				if pub.Curve.Name != curve {
					t.Errorf("curve %s, want %s", pub.Curve.Name, curve)
				}
			case *ecdsa.PublicKey:
				if curve != "P-256" {
					t.Errorf("%s read as a crypto/ecdsa key", curve)
				}
			default:
				t.Errorf("key %T", pub)
			}
		}
	}

	// Differential: the same P-256 key, named (crypto/x509 reads it) and
	// explicit (we read it), under one CA.
	caKey := testissuer.ECKey(t)
	ca := testissuer.Cert(t, subject, 1, caKey, nil, nil, true, now.AddDate(-1, 0, 0), now.AddDate(9, 0, 0))
	k := testissuer.NewCurveKey(t, "P-256")
	named := testissuer.Cert(t, pkix.Name{Country: []string{"DE"}, CommonName: "DS"}, 99, k, ca, caKey, false, now.AddDate(-1, 0, 0), now.AddDate(1, 0, 0))
	k.Explicit = true
	explicit := testissuer.Cert(t, pkix.Name{Country: []string{"DE"}, CommonName: "DS"}, 99, k, ca, caKey, false, now.AddDate(-1, 0, 0), now.AddDate(1, 0, 0))
	std, err := x509.ParseCertificate(named.Raw)
	if err != nil {
		t.Fatal(err)
	}
	ours, err := ParseCertificate(explicit.Raw)
	if err != nil {
		t.Fatal(err)
	}
	checkSameFields(t, ours, std)
	if !std.PublicKey.(*ecdsa.PublicKey).Equal(ours.PublicKey) {
		t.Error("the explicit-parameter key differs from the named one")
	}
	for _, c := range []*x509.Certificate{std, ours} {
		if err := CheckSignatureFrom(c, ca); err != nil {
			t.Errorf("chain: %v", err)
		}
		if err := CheckSignatureFrom(c, named); err == nil {
			t.Error("a certificate verified with a key that did not sign it")
		}
	}
}

func checkSameFields(t *testing.T, got, want *x509.Certificate) {
	t.Helper()
	switch {
	case got.Subject.String() != want.Subject.String() || !bytes.Equal(got.RawSubject, want.RawSubject):
		t.Errorf("subject %q, want %q", got.Subject, want.Subject)
	case got.Issuer.String() != want.Issuer.String() || !bytes.Equal(got.RawIssuer, want.RawIssuer):
		t.Errorf("issuer %q, want %q", got.Issuer, want.Issuer)
	case got.SerialNumber.Cmp(want.SerialNumber) != 0:
		t.Errorf("serial %v, want %v", got.SerialNumber, want.SerialNumber)
	case !got.NotBefore.Equal(want.NotBefore) || !got.NotAfter.Equal(want.NotAfter):
		t.Errorf("validity %v–%v, want %v–%v", got.NotBefore, got.NotAfter, want.NotBefore, want.NotAfter)
	case got.KeyUsage != want.KeyUsage || got.IsCA != want.IsCA || got.BasicConstraintsValid != want.BasicConstraintsValid || got.MaxPathLen != want.MaxPathLen:
		t.Errorf("usage %v ca %v/%v pathlen %d, want %v %v/%v %d", got.KeyUsage, got.IsCA, got.BasicConstraintsValid, got.MaxPathLen,
			want.KeyUsage, want.IsCA, want.BasicConstraintsValid, want.MaxPathLen)
	case !bytes.Equal(got.SubjectKeyId, want.SubjectKeyId) || !bytes.Equal(got.AuthorityKeyId, want.AuthorityKeyId):
		t.Errorf("key ids %x/%x, want %x/%x", got.SubjectKeyId, got.AuthorityKeyId, want.SubjectKeyId, want.AuthorityKeyId)
	case got.Version != want.Version:
		t.Errorf("version %d, want %d", got.Version, want.Version)
	case Country(got) != Country(want):
		t.Errorf("country %q, want %q", Country(got), Country(want))
	}
}

// TestBrainpoolMasterList loads an ICAO master list holding Brainpool
// CSCAs, signed by a master list signer under a Brainpool CSCA.
func TestBrainpoolMasterList(t *testing.T) {
	de := testissuer.NewBrainpoolState(t, "DE", "brainpoolP384r1", "brainpoolP256r1", true)
	fr := testissuer.NewBrainpoolState(t, "FR", "brainpoolP256r1", "brainpoolP256r1", false)
	nl := newState(t, "NL")
	set, info, err := Parse(de.MasterList(t, de.CSCA, fr.CSCA, nl.csca))
	if err != nil {
		t.Fatal(err)
	}
	if len(set.CSCAs) != 3 || info == nil || !info.SignatureOK || !info.SignerChained || info.Problem != "" || info.Country != "DE" {
		t.Fatalf("master list: %d CSCAs, %+v", len(set.CSCAs), info)
	}
	st := storeOf(t, set)
	if r := Verify(makeSOD(t, testGroups(), fr.DS, fr.DSKey), testGroups(), st, Options{Country: "FRA"}); r.Status != Valid {
		t.Fatalf("FR document through the master list: %s %s", r.Status, r.Reason)
	}
	sum := st.Summary()
	if len(sum) != 3 {
		t.Fatalf("summary %+v", sum)
	}
	// Trust bundle records round-trip.
	recs, err := RecordsFromSet(Set{CSCAs: set.CSCAs, CRLs: []*x509.RevocationList{de.CRL(t, de.DS.SerialNumber)}})
	if err != nil {
		t.Fatal(err)
	}
	back, err := SetFromRecords(recs)
	if err != nil || len(back.CSCAs) != 3 || len(back.CRLs) != 1 {
		t.Fatalf("records: %d %d %v", len(back.CSCAs), len(back.CRLs), err)
	}
	if r := Verify(makeSOD(t, testGroups(), de.DS, de.DSKey), testGroups(), storeOf(t, back), Options{}); r.Status != Invalid || r.FailedStep != StepCRL {
		t.Fatalf("DE DS revoked by a CRL from a trust bundle: %s %s", r.Status, r.Reason)
	}
}

// FuzzParseCertificate feeds certificates and CRLs, Brainpool and not,
// to the parser and the signature check: errors, never a panic; what
// parses is self-consistent.
func FuzzParseCertificate(f *testing.F) {
	for _, ch := range [][2]string{{"brainpoolP384r1", "brainpoolP256r1"}, {"P-256", "brainpoolP256r1"}} {
		for _, explicit := range []bool{false, true} {
			s := testissuer.NewBrainpoolState(f, "UT", ch[0], ch[1], explicit)
			f.Add(s.CSCA.Raw)
			f.Add(s.DS.Raw)
			f.Add(s.CRL(f, s.DS.SerialNumber).Raw)
		}
	}
	n := newState(f, "UT")
	f.Add(n.csca.Raw)
	f.Add([]byte{0x30, 0x03, 0x30, 0x01, 0x00})
	anchor := testissuer.NewBrainpoolState(f, "UT", "brainpoolP256r1", "brainpoolP256r1", false).CSCA
	f.Fuzz(func(t *testing.T, b []byte) {
		if c, err := parseECCertificate(b); err == nil {
			if !bytes.Equal(c.Raw, b) || c.SerialNumber == nil || c.PublicKey == nil || len(c.RawTBSCertificate) == 0 {
				t.Fatalf("parsed without its parts: %+v", c)
			}
			CheckSignatureFrom(c, c)
			CheckSignatureFrom(anchor, c)
		}
		if c, err := ParseCertificate(b); err == nil {
			CheckSignatureFrom(c, anchor)
			Country(c)
		}
		if crl, err := x509.ParseRevocationList(b); err == nil {
			CheckCRLSignatureFrom(crl, anchor)
		}
	})
}
