package pa

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	testissuer "github.com/checkpoint-edge/checkpoint/emrtd/emrtdtest"
	"github.com/checkpoint-edge/checkpoint/emrtd/tlv"
)

// Thin names over the reader side's test issuer.

type state struct {
	*testissuer.State
	csca    *x509.Certificate
	cscaKey crypto.Signer
	ds      *x509.Certificate
	dsKey   crypto.Signer
}

func newState(t testing.TB, country string) *state {
	s := testissuer.NewState(t, country)
	return &state{State: s, csca: s.CSCA, cscaKey: s.CSCAKey, ds: s.DS, dsKey: s.DSKey}
}

func ecKeyP256(t testing.TB) crypto.Signer { return testissuer.ECKey(t) }

func mkCert(t testing.TB, subject pkix.Name, serial int64, key crypto.Signer, parent *x509.Certificate, parentKey crypto.Signer, ca bool, notBefore, notAfter time.Time) *x509.Certificate {
	return testissuer.Cert(t, subject, serial, key, parent, parentKey, ca, notBefore, notAfter)
}

func makeSOD(t testing.TB, groups map[int][]byte, cert *x509.Certificate, key crypto.Signer) []byte {
	return testissuer.SOD(t, groups, cert, key)
}

func makeCRL(t testing.TB, s *state, revoked ...*big.Int) *x509.RevocationList {
	return s.CRL(t, revoked...)
}

func makeMasterList(t testing.TB, signer *state, certs ...*x509.Certificate) []byte {
	return signer.MasterList(t, certs...)
}

func testGroups() map[int][]byte {
	return map[int][]byte{
		1: tlv.Encode(0x61, tlv.Encode(0x5F1F, []byte("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<L898902C36UTO7408122F1204159ZE184226B<<<<<10"))),
		2: tlv.Encode(0x75, make([]byte, 2000)),
	}
}

func storeOf(t testing.TB, set Set) *Store {
	st := NewStore()
	if err := st.InstallTrust(set); err != nil {
		t.Fatal(err)
	}
	return st
}
