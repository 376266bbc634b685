package emrtd_test

import (
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/emrtd"
	testissuer "github.com/checkpoint-edge/checkpoint/emrtd/emrtdtest"
	"github.com/checkpoint-edge/checkpoint/emrtd/lds"
	"github.com/checkpoint-edge/checkpoint/emrtd/pa"
	"github.com/checkpoint-edge/checkpoint/emrtd/tlv"
	"github.com/checkpoint-edge/checkpoint/internal/chipsim"
)

// Each negative case leaves a clear reason and never a crash or a hang.
func TestReadNegative(t *testing.T) {
	now := time.Now()
	cases := []struct {
		name    string
		opts    func(t *testing.T, s *testissuer.State) fixtureOpts
		store   func(s *testissuer.State, f *chipFixture) *pa.Store
		readOK  bool
		verdict emrtd.Verdict
		reason  string
		step    string
	}{
		{name: "DG1 altered after signing", readOK: true, verdict: emrtd.Failed, reason: "DG1 does not match the signed hash", step: pa.StepHashes,
			opts: func(t *testing.T, s *testissuer.State) fixtureOpts {
				return fixtureOpts{files: func(f map[string][]byte) {
					f["DG1"] = []byte(strings.Replace(string(f["DG1"]), "ERIKSSON", "ERIKSSEN", 1))
				}}
			}},
		{name: "DS not chained", readOK: true, verdict: emrtd.Failed, reason: "not signed by any trusted CSCA", step: pa.StepChain,
			store: func(s *testissuer.State, f *chipFixture) *pa.Store {
				st := pa.NewStore()
				st.InstallTrust(pa.Set{CSCAs: []*x509.Certificate{testissuer.NewState(t, "UT").CSCA}})
				return st
			}},
		{name: "rogue CSCA with the same name and serial", readOK: true, verdict: emrtd.Failed, reason: "not signed by any trusted CSCA", step: pa.StepChain,
			store: func(s *testissuer.State, f *chipFixture) *pa.Store {
				// The trusted anchor is a look-alike of the real CSCA:
				// same subject, same serial, another key.
				k := testissuer.ECKey(t)
				rogue := testissuer.Cert(t, s.CSCA.Subject, s.CSCA.SerialNumber.Int64(), k, nil, nil, true, s.CSCA.NotBefore, s.CSCA.NotAfter)
				st := pa.NewStore()
				st.InstallTrust(pa.Set{CSCAs: []*x509.Certificate{rogue}})
				return st
			}},
		{name: "no CSCA for the state", readOK: true, verdict: emrtd.NotVerified, reason: "no CSCA of UT",
			store: func(s *testissuer.State, f *chipFixture) *pa.Store { return pa.NewStore() }},
		{name: "expired DS", readOK: true, verdict: emrtd.Failed, reason: "not now", step: pa.StepDSValidity,
			opts: func(t *testing.T, s *testissuer.State) fixtureOpts {
				ds, k := s.NewDS(t, now.AddDate(-12, 0, 0), now.AddDate(-1, 0, 0))
				return fixtureOpts{files: func(f map[string][]byte) { resign(t, f, ds, k) }}
			}},
		{name: "revoked DS", readOK: true, verdict: emrtd.Failed, reason: "revoked", step: pa.StepCRL,
			store: func(s *testissuer.State, f *chipFixture) *pa.Store {
				st := pa.NewStore()
				st.InstallTrust(pa.Set{CSCAs: []*x509.Certificate{s.CSCA}, CRLs: []*x509.RevocationList{s.CRL(t, s.DS.SerialNumber)}})
				return st
			}},
		{name: "unknown tags in DG11 are signed data", readOK: true, verdict: emrtd.Genuine,
			opts: func(t *testing.T, s *testissuer.State) fixtureOpts {
				dg11 := tlv.Encode(0x6B, tlv.Encode(0x5C, []byte{0x5F, 0x0E}), tlv.Encode(0x5F0E, []byte("ERIKSSON<<ANNA")), tlv.Encode(0x5F77, []byte("??")), tlv.Encode(0xDF, []byte{1}))
				return fixtureOpts{doc: testissuer.Doc{Extra: map[int][]byte{11: dg11}}}
			}},
		{name: "malformed TLV length", readOK: true, verdict: emrtd.Failed, reason: "DG2",
			opts: func(t *testing.T, s *testissuer.State) fixtureOpts {
				return fixtureOpts{doc: testissuer.Doc{Face: faceJPEG(t, 8000)}, faults: chipsim.Faults{MalformedLength: []string{"DG2"}}}
			}},
		{name: "oversized DG2", readOK: true, verdict: emrtd.Genuine,
			opts: func(t *testing.T, s *testissuer.State) fixtureOpts {
				return fixtureOpts{doc: testissuer.Doc{Face: make([]byte, 250<<10)}}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := testissuer.NewState(t, "UT")
			var o fixtureOpts
			if c.opts != nil {
				o = c.opts(t, s)
			}
			f := newChipWithState(t, s, o)
			if c.store != nil {
				f.store = c.store(s, f)
			}
			d, err := f.read(t, annaKey(), emrtd.Options{})
			if (err == nil) != c.readOK {
				t.Fatalf("read: %v", err)
			}
			r := verify(f, d, t)
			if r.Verdict != c.verdict || !strings.Contains(r.Reason+" "+r.Line(), c.reason) {
				t.Fatalf("verdict %s %q (PA %s at %s), want %s containing %q", r.Verdict, r.Reason, r.PA.Status, r.PA.FailedStep, c.verdict, c.reason)
			}
			if c.step != "" && r.PA.FailedStep != c.step {
				t.Fatalf("failed step %q, want %q", r.PA.FailedStep, c.step)
			}
			if c.name == "oversized DG2" {
				if _, read := d.Files["DG2"]; read || !strings.Contains(d.Unavailable["DG2"], "larger than allowed") {
					t.Fatalf("oversized DG2 read: unavailable %v", d.Unavailable)
				}
			}
		})
	}
}

// resign replaces EF.SOD with one signed by another DS.
func resign(t *testing.T, files map[string][]byte, ds *x509.Certificate, k interface{}) {
	groups := map[int][]byte{}
	for n := 1; n <= 16; n++ {
		if b, ok := files[lds.DGFile(n).Name]; ok {
			groups[n] = b
		}
	}
	files["SOD"] = testissuer.SOD(t, groups, ds, k.(cryptoSigner))
}

func TestReadCardRemoved(t *testing.T) {
	t.Run("back within the window: resumed", func(t *testing.T) {
		// 1 KB reads: the card leaves in the middle of DG2.
		f := newChip(t, fixtureOpts{doc: testissuer.Doc{Face: faceJPEG(t, 20000)}, maxExt: 1024,
			faults: chipsim.Faults{RemoveAfterReads: 12, RemovedFor: chipsim.Duration(600 * time.Millisecond)}})
		d, err := f.read(t, annaKey(), emrtd.Options{ResumeWindow: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if d.Resumes != 1 {
			t.Fatalf("resumes %d", d.Resumes)
		}
		if r := verify(f, d, t); r.Verdict != emrtd.Genuine {
			t.Fatalf("resumed read: %s %q", r.Verdict, r.Reason)
		}
	})
	t.Run("not back: clear reason", func(t *testing.T) {
		f := newChip(t, fixtureOpts{doc: testissuer.Doc{Face: faceJPEG(t, 20000)}, maxExt: 1024,
			faults: chipsim.Faults{RemoveAfterReads: 12, RemovedFor: chipsim.Duration(time.Hour)}})
		start := time.Now()
		_, err := f.read(t, annaKey(), emrtd.Options{ResumeWindow: 500 * time.Millisecond})
		if !errors.Is(err, emrtd.ErrRemoved) {
			t.Fatalf("removed: %v", err)
		}
		if emrtd.ReadFailure(err) != "chip taken off the reader during the read" {
			t.Fatalf("reason %q", emrtd.ReadFailure(err))
		}
		if time.Since(start) > 15*time.Second {
			t.Fatalf("gave up after %v", time.Since(start))
		}
	})
}

func TestReadBadMACAndSlowChip(t *testing.T) {
	f := newChip(t, fixtureOpts{faults: chipsim.Faults{BadResponseMAC: 3}})
	_, err := f.read(t, annaKey(), emrtd.Options{})
	if !errors.Is(err, emrtd.ErrProtocol) {
		t.Fatalf("bad MAC: %v", err)
	}
	slow := newChip(t, fixtureOpts{faults: chipsim.Faults{ResponseDelay: chipsim.Duration(400 * time.Millisecond)}})
	start := time.Now()
	_, err = slow.read(t, annaKey(), emrtd.Options{Timeout: 1500 * time.Millisecond})
	if !errors.Is(err, emrtd.ErrTimeout) {
		t.Fatalf("slow chip: %v", err)
	}
	if el := time.Since(start); el > 6*time.Second {
		t.Fatalf("deadline of 1.5s overrun: %v", el)
	}
}
