package pa

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestVerify(t *testing.T) {
	uto := newState(t, "UT")
	other := newState(t, "UT")
	fra := newState(t, "FR")
	now := time.Now()
	groups := testGroups()
	good := makeSOD(t, groups, uto.ds, uto.dsKey)

	expiredDS := mkCert(t, pkix.Name{Country: []string{"UT"}, CommonName: "DS old"}, 900, uto.dsKey, uto.csca, uto.cscaKey, false, now.AddDate(-12, 0, 0), now.AddDate(-1, 0, 0))
	// A rogue CSCA copying the trusted CSCA's subject and serial number,
	// with its own key, signs a DS with the genuine DS's subject.
	rogueKey := ecKeyP256(t)
	rogue := mkCert(t, uto.csca.Subject, uto.csca.SerialNumber.Int64(), rogueKey, nil, nil, true, uto.csca.NotBefore, uto.csca.NotAfter)
	rogueDSKey := ecKeyP256(t)
	rogueDS := mkCert(t, uto.ds.Subject, 4242, rogueDSKey, rogue, rogueKey, false, now.AddDate(-1, 0, 0), now.AddDate(5, 0, 0))
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsaDS := mkCert(t, pkix.Name{Country: []string{"UT"}, CommonName: "DS RSA"}, 901, rsaKey, uto.csca, uto.cscaKey, false, now.AddDate(-1, 0, 0), now.AddDate(5, 0, 0))

	altered := testGroups()
	altered[1] = []byte(strings.Replace(string(altered[1]), "ERIKSSON", "ERIKSSEN", 1))
	extra := testGroups()
	extra[11] = []byte{0x6B, 0x00}

	trusted := storeOf(t, Set{CSCAs: []*x509.Certificate{uto.csca, fra.csca}})
	withCRL := storeOf(t, Set{CSCAs: []*x509.Certificate{uto.csca}, CRLs: []*x509.RevocationList{makeCRL(t, uto, uto.ds.SerialNumber)}})
	cleanCRL := storeOf(t, Set{CSCAs: []*x509.Certificate{uto.csca}, CRLs: []*x509.RevocationList{makeCRL(t, uto, big.NewInt(77))}})
	tampered := append([]byte(nil), good...)
	tampered[len(tampered)-5] ^= 0xFF // inside the signature

	cases := []struct {
		name    string
		sod     []byte
		groups  map[int][]byte
		store   *Store
		country string
		status  Status
		step    string
		reason  string
		failed  []int
	}{
		{"genuine", good, groups, trusted, "UTO", Valid, "", "", nil},
		{"genuine with clean CRL", good, groups, cleanCRL, "", Valid, "", "", nil},
		{"RSA document signer", makeSOD(t, groups, rsaDS, rsaKey), groups, trusted, "", Valid, "", "", nil},
		{"DG1 altered after signing", good, altered, trusted, "", Invalid, StepHashes, "DG1 does not match the signed hash", []int{1}},
		{"unsigned data group", good, extra, trusted, "", Invalid, StepHashes, "DG11 is not listed", []int{11}},
		{"DS not chained", makeSOD(t, groups, other.ds, other.dsKey), groups, trusted, "", Invalid, StepChain, "not signed by any trusted CSCA", nil},
		{"rogue CSCA with the trusted name and serial", makeSOD(t, groups, rogueDS, rogueDSKey), groups, trusted, "", Invalid, StepChain, "not signed by any trusted CSCA", nil},
		{"no CSCA for the state", good, groups, storeOf(t, Set{CSCAs: []*x509.Certificate{fra.csca}}), "", NotVerifiable, "", "no CSCA of UT", nil},
		{"no CSCA and altered", good, altered, NewStore(), "", Invalid, StepHashes, "DG1 does not match", []int{1}},
		{"expired DS", makeSOD(t, groups, expiredDS, uto.dsKey), groups, trusted, "", Invalid, StepDSValidity, "not now", nil},
		{"revoked DS", good, groups, withCRL, "", Invalid, StepCRL, "revoked", nil},
		{"SOD signature broken", tampered, groups, trusted, "", Invalid, StepSignature, "does not verify", nil},
		{"signed by another state's DS", makeSOD(t, groups, fra.ds, fra.dsKey), groups, trusted, "DEU", Invalid, StepChain, "belongs to FR", nil},
		{"not an SOD", []byte{0x77, 0x03, 1, 2, 3}, groups, trusted, "", Invalid, StepSOD, "malformed", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Verify(c.sod, c.groups, c.store, Options{Country: c.country})
			if r.Status != c.status || r.FailedStep != c.step || !strings.Contains(r.Reason, c.reason) {
				t.Fatalf("got %s at %q: %q; want %s at %q containing %q\nsteps %+v", r.Status, r.FailedStep, r.Reason, c.status, c.step, c.reason, r.Steps)
			}
			if !slices.Equal(r.FailedGroups, c.failed) {
				t.Errorf("failed groups %v, want %v", r.FailedGroups, c.failed)
			}
			if c.status == Valid && !slices.Equal(r.Verified, []int{1, 2}) {
				t.Errorf("verified %v", r.Verified)
			}
		})
	}
}

func TestStoreRefusesLeafAsAnchor(t *testing.T) {
	s := newState(t, "UT")
	if err := NewStore().InstallTrust(Set{CSCAs: []*x509.Certificate{s.ds}}); err == nil {
		t.Fatal("a DS certificate was installed as a trust anchor")
	}
}

func BenchmarkVerify(b *testing.B) {
	s := newState(b, "UT")
	groups := testGroups()
	groups[2] = append(groups[2], make([]byte, 18000)...) // a 20 KB face
	sod := makeSOD(b, groups, s.ds, s.dsKey)
	st := storeOf(b, Set{CSCAs: []*x509.Certificate{s.csca}, CRLs: []*x509.RevocationList{makeCRL(b, s)}})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if r := Verify(sod, groups, st, Options{}); r.Status != Valid {
			b.Fatal(r.Reason)
		}
	}
}
