package pa

import (
	"crypto/x509"
	"errors"
	"testing"
)

func TestMasterList(t *testing.T) {
	uto, fra := newState(t, "UT"), newState(t, "FR")
	ml := makeMasterList(t, uto, uto.csca, fra.csca)
	set, info, err := Parse(ml)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.CSCAs) != 2 || !info.SignatureOK || !info.SignerChained || info.Entries != 2 {
		t.Fatalf("set %d, info %+v", len(set.CSCAs), info)
	}
	st := NewStore()
	if err := st.InstallTrust(set); err != nil {
		t.Fatal(err)
	}
	if len(st.CSCAs("FR")) != 1 || len(st.Summary()) != 2 {
		t.Fatalf("summary %+v", st.Summary())
	}
	bad := append([]byte(nil), ml...)
	bad[len(bad)-4] ^= 0x55
	if _, _, err := Parse(bad); !errors.Is(err, ErrTrust) && !errors.Is(err, ErrCMS) {
		t.Fatalf("tampered master list: %v", err)
	}
	// PEM round trip of what the unit stores.
	back, _, err := Parse(EncodePEM(Set{CSCAs: set.CSCAs, CRLs: []*x509.RevocationList{makeCRL(t, uto)}}))
	if err != nil || len(back.CSCAs) != 2 || len(back.CRLs) != 1 {
		t.Fatalf("PEM: %d %d %v", len(back.CSCAs), len(back.CRLs), err)
	}
}

func FuzzParseSOD(f *testing.F) {
	s := newState(f, "UT")
	f.Add(makeSOD(f, testGroups(), s.ds, s.dsKey))
	f.Add([]byte{0x77, 0x03, 0x30, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		ParseSOD(b)
		Verify(b, testGroups(), NewStore(), Options{})
	})
}

func FuzzParseTrust(f *testing.F) {
	s := newState(f, "UT")
	f.Add(makeMasterList(f, s, s.csca))
	f.Add(EncodePEM(Set{CSCAs: []*x509.Certificate{s.csca}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		Parse(b)
	})
}
