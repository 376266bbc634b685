package pa

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	testissuer "github.com/checkpoint-edge/checkpoint/emrtd/emrtdtest"
	"math/big"
	"slices"
	"strings"
	"syscall"
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

// TestReissuedCSCA: a CSCA certificate re-issued with the same key and a
// later start than the DS still anchors it (with a remark); with the
// original certificate also trusted, the original is chosen, no remark.
func TestReissuedCSCA(t *testing.T) {
	now := time.Now()
	s := newState(t, "UT")
	reissued := mkCert(t, s.csca.Subject, 2, s.cscaKey, nil, nil, true, now.AddDate(0, -6, 0), now.AddDate(12, 0, 0))
	sod := makeSOD(t, testGroups(), s.ds, s.dsKey)
	r := Verify(sod, testGroups(), storeOf(t, Set{CSCAs: []*x509.Certificate{reissued}}), Options{})
	if st := stepOf(r, StepCSCAValid); r.Status != Valid || !st.OK || !st.Warn || !strings.Contains(st.Detail, "predates this CSCA certificate") {
		t.Fatalf("re-issued CSCA only: %s %q %+v", r.Status, r.Reason, st)
	}
	r = Verify(sod, testGroups(), storeOf(t, Set{CSCAs: []*x509.Certificate{reissued, s.csca}}), Options{})
	if st := stepOf(r, StepCSCAValid); r.Status != Valid || st.Warn {
		t.Fatalf("both CSCA certificates: %s %+v", r.Status, st)
	}
}

func TestStoreRefusesLeafAsAnchor(t *testing.T) {
	s := newState(t, "UT")
	if err := NewStore().InstallTrust(Set{CSCAs: []*x509.Certificate{s.ds}}); err == nil {
		t.Fatal("a DS certificate was installed as a trust anchor")
	}
}

// BenchmarkVerify is passive authentication of a read chip (CMS
// signature, DS → CSCA, CRL, hashes of a 20 KB DG2) for chains on P-256
// (crypto/ecdsa) and on Brainpool curves (emrtd/ecc), side by side.
// "first" is the first document of a document signer (the chain is
// checked); "next" the following ones (the chain check is remembered).
func BenchmarkVerify(b *testing.B) {
	groups := testGroups()
	groups[2] = append(groups[2], make([]byte, 18000)...) // a 20 KB face
	for _, ch := range []struct{ name, csca, ds string }{
		{"P-256", "P-256", "P-256"},
		{"brainpoolP256r1", "brainpoolP256r1", "brainpoolP256r1"},
		{"brainpoolP384r1-CSCA-P256r1-DS", "brainpoolP384r1", "brainpoolP256r1"},
		{"brainpoolP384r1", "brainpoolP384r1", "brainpoolP384r1"},
	} {
		s := testissuer.NewBrainpoolState(b, "UT", ch.csca, ch.ds, false)
		sod := makeSOD(b, groups, s.DS, s.DSKey)
		set, _, err := Parse(EncodePEM(Set{CSCAs: []*x509.Certificate{s.CSCA}, CRLs: []*x509.RevocationList{s.CRL(b)}}))
		if err != nil {
			b.Fatal(err)
		}
		st := storeOf(b, set)
		for _, mode := range []string{"first", "next"} {
			b.Run(ch.name+"/"+mode, func(b *testing.B) {
				// CPU time as well as wall time: the machine is shared, and
				// the budget is per core.
				cpu0 := cpuTime()
				defer func() { b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op") }()
				for i := 0; i < b.N; i++ {
					if mode == "first" {
						ix := st.current()
						ix.chainMu.Lock()
						clear(ix.chained)
						ix.chainMu.Unlock()
					}
					if r := Verify(sod, groups, st, Options{}); r.Status != Valid {
						b.Fatal(r.Reason)
					}
				}
			})
		}
	}
}

// cpuTime is the process's user and system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
