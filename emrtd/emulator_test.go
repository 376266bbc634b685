package emrtd_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	mrand "math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/device/chip"
	"github.com/checkpoint-edge/checkpoint/emrtd"
	testissuer "github.com/checkpoint-edge/checkpoint/emrtd/emrtdtest"
	"github.com/checkpoint-edge/checkpoint/emrtd/lds"
	"github.com/checkpoint-edge/checkpoint/emrtd/pa"
	"github.com/checkpoint-edge/checkpoint/internal/chipsim"
	"github.com/checkpoint-edge/checkpoint/internal/pcsctest"
	"github.com/checkpoint-edge/checkpoint/mrz"
)

// These tests read the emulated chip (internal/chipsim, written from the
// specification by another hand) through a private pcscd and the vpcd
// virtual reader, with the same PC/SC client and reader the daemon uses.

var annaMRZ = []string{"P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10"}

// annaKey opens Anna's chip (the printed MRZ gives it).
func annaDoc(t testing.TB) *mrz.Document {
	d := mrz.Parse(annaMRZ, mrz.Options{Now: time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)})
	if !d.Valid {
		t.Fatalf("specimen MRZ invalid: %+v", d.Problems)
	}
	return d
}

// faceJPEG is a synthetic ~size-byte JPEG (no face: PA does not care).
func faceJPEG(t testing.TB, size int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 240, 320))
	r := mrand.New(mrand.NewPCG(1, 2))
	for y := 0; y < 320; y++ {
		for x := 0; x < 240; x++ {
			img.Set(x, y, color.RGBA{uint8(x + r.IntN(40)), uint8(y + r.IntN(40)), uint8(r.IntN(255)), 255})
		}
	}
	for q := 95; q > 5; q -= 5 {
		var buf bytes.Buffer
		jpeg.Encode(&buf, img, &jpeg.Options{Quality: q})
		if buf.Len() <= size {
			return buf.Bytes()
		}
	}
	t.Fatal("cannot make a small enough JPEG")
	return nil
}

type chipFixture struct {
	srv    *pcsctest.Server
	em     *chipsim.Emulator
	card   *chipsim.Card
	reader *chip.PCSC
	state  *testissuer.State
	store  *pa.Store
}

type fixtureOpts struct {
	doc        testissuer.Doc
	caKey      any
	aaKey      any
	faults     chipsim.Faults
	files      func(map[string][]byte)
	disableBAC bool
	can        string
	maxExt     int // the chip's largest extended read
}

type cryptoSigner = crypto.Signer

func newChip(t testing.TB, o fixtureOpts) *chipFixture {
	return newChipWithState(t, testissuer.NewState(t, "UT"), o)
}

func newChipWithState(t testing.TB, s *testissuer.State, o fixtureOpts) *chipFixture {
	t.Helper()
	f := &chipFixture{srv: pcsctest.StartTB(t, pcsctest.Options{}), state: s}
	if o.doc.MRZ == nil {
		o.doc.MRZ = annaMRZ
	}
	files := f.state.Files(t, o.doc)
	if o.files != nil {
		o.files(files)
	}
	cfg := chipsim.Config{MRZ: chipsim.MRZKey{DocumentNumber: "L898902C3", DateOfBirth: "740812", DateOfExpiry: "120415"},
		Files: files, Faults: o.faults, DisableBAC: o.disableBAC, CAN: o.can, MaxExtendedRead: o.maxExt}
	if o.doc.AAKey != nil {
		cfg.AAKey = o.doc.AAKey
	}
	if o.caKey != nil {
		cfg.CAKey = o.caKey
	} else if o.doc.CAKey != nil {
		cfg.CAKey = o.doc.CAKey
	}
	card, err := chipsim.NewCard(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.card = card
	f.em = chipsim.NewEmulator(f.srv.VPCDAddr, card, nil)
	if err := f.em.Insert(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.em.Close() })
	r, err := chip.Open(chip.Config{Socket: f.srv.SocketPath, Reader: f.srv.Reader, Poll: 20 * time.Millisecond, APDUTimeout: 3 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { r.Run(context.Background()); close(done) }()
	t.Cleanup(func() { r.Close(); <-done })
	f.reader = r
	f.store = pa.NewStore()
	if err := f.store.InstallTrust(pa.Set{CSCAs: []*x509.Certificate{f.state.CSCA}}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *chipFixture) read(t testing.TB, key emrtd.Key, opt emrtd.Options) (*emrtd.Dump, error) {
	t.Helper()
	if opt.Timeout == 0 {
		opt.Timeout = 30 * time.Second // generous: the machine is shared
	}
	return emrtd.Read(context.Background(), emrtd.FromReader(f.reader), key, opt)
}

func annaKey() emrtd.Key {
	return emrtd.Key{DocumentNumber: "L898902C3", BirthDate: "740812", ExpiryDate: "120415"}
}

func verify(f *chipFixture, d *emrtd.Dump, t testing.TB) *emrtd.Report {
	return emrtd.Verify(d, f.store, annaDoc(t), emrtd.VerifyOptions{Now: time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(16, 0, 0)})
}

func TestReadBACGenuine(t *testing.T) {
	f := newChip(t, fixtureOpts{doc: testissuer.Doc{Face: faceJPEG(t, 20000)}})
	d, err := f.read(t, annaKey(), emrtd.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Access != "BAC" {
		t.Fatalf("access %q", d.Access)
	}
	for _, name := range []string{"COM", "SOD", "DG1", "DG2"} {
		if len(d.Files[name]) == 0 {
			t.Fatalf("%s not read (unavailable %v)", name, d.Unavailable)
		}
	}
	r := verify(f, d, t)
	if r.Verdict != emrtd.Genuine || r.PA.Status != pa.Valid || !r.Consistent {
		t.Fatalf("verdict %s: %s (PA %+v)", r.Verdict, r.Reason, r.PA)
	}
	if r.Face == nil || r.Face.Format != lds.FormatJPEG || len(r.Face.Data) < 1000 {
		t.Fatalf("face %+v", r.Face)
	}
	if r.AA.Status != emrtd.CheckNotSupported || r.CA.Status != emrtd.CheckNotSupported {
		t.Fatalf("AA %+v CA %+v", r.AA, r.CA)
	}
}

func TestReadWrongMRZ(t *testing.T) {
	f := newChip(t, fixtureOpts{})
	k := annaKey()
	k.BirthDate = "740813"
	start := time.Now()
	_, err := f.read(t, k, emrtd.Options{})
	if !errors.Is(err, emrtd.ErrAccessDenied) {
		t.Fatalf("wrong MRZ: %v", err)
	}
	if emrtd.ReadFailure(err) != "chip refused access: MRZ does not open this chip" {
		t.Fatalf("reason %q", emrtd.ReadFailure(err))
	}
	if time.Since(start) > 10*time.Second {
		t.Fatalf("refusal took %v", time.Since(start))
	}
}

func TestReadPACE(t *testing.T) {
	for _, c := range []struct {
		name string
		pace testissuer.PACE
	}{
		{"NIST P-256 AES-128", testissuer.PACE{OID: lds.OIDPACEECDHGM + ".2", ParameterID: 12}},
		{"brainpoolP256r1 AES-128", testissuer.PACE{OID: lds.OIDPACEECDHGM + ".2", ParameterID: 13}},
		{"brainpoolP384r1 AES-256", testissuer.PACE{OID: lds.OIDPACEECDHGM + ".4", ParameterID: 16}},
		{"NIST P-256 3DES", testissuer.PACE{OID: lds.OIDPACEECDHGM + ".1", ParameterID: 12}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newChip(t, fixtureOpts{doc: testissuer.Doc{Face: faceJPEG(t, 8000), PACE: []testissuer.PACE{c.pace}}, disableBAC: true})
			d, err := f.read(t, annaKey(), emrtd.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if d.Access != "PACE" || d.PACE != c.pace.OID {
				t.Fatalf("access %q %q", d.Access, d.PACE)
			}
			if r := verify(f, d, t); r.Verdict != emrtd.Genuine {
				t.Fatalf("verdict %s: %s", r.Verdict, r.Reason)
			}
		})
	}
}

func TestReadPACEWrongMRZAndCAN(t *testing.T) {
	f := newChip(t, fixtureOpts{doc: testissuer.Doc{PACE: []testissuer.PACE{{OID: lds.OIDPACEECDHGM + ".2", ParameterID: 13}}}, can: "123456"})
	k := annaKey()
	k.ExpiryDate = "120416"
	if _, err := f.read(t, k, emrtd.Options{}); !errors.Is(err, emrtd.ErrAccessDenied) {
		t.Fatalf("wrong MRZ over PACE: %v", err)
	}
	d, err := f.read(t, emrtd.Key{CAN: "123456"}, emrtd.Options{})
	if err != nil || d.Access != "PACE" {
		t.Fatalf("CAN: %v %+v", err, d)
	}
}

func TestReadBACFallbackWhenPACERefused(t *testing.T) {
	f := newChip(t, fixtureOpts{doc: testissuer.Doc{PACE: []testissuer.PACE{{OID: lds.OIDPACEECDHGM + ".2", ParameterID: 12}}},
		faults: chipsim.Faults{RefusePACE: true}})
	_, err := f.read(t, annaKey(), emrtd.Options{})
	// A chip that refuses the right MRZ over PACE refuses access: we do
	// not retry the same key over BAC.
	if !errors.Is(err, emrtd.ErrAccessDenied) {
		t.Fatalf("refused PACE: %v", err)
	}
	d, err := f.read(t, annaKey(), emrtd.Options{NoPACE: true})
	if err != nil || d.Access != "BAC" {
		t.Fatalf("BAC only: %v", err)
	}
}

func TestReadActiveAuthentication(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	for _, c := range []struct {
		name  string
		key   any
		clone bool
		want  string
	}{
		{"RSA", rsaKey, false, emrtd.CheckOK},
		{"ECDSA", testissuer.ECKey(t), false, emrtd.CheckOK},
		{"RSA clone", rsaKey, true, emrtd.CheckFailed},
		{"ECDSA clone", testissuer.ECKey(t), true, emrtd.CheckFailed},
	} {
		t.Run(c.name, func(t *testing.T) {
			doc := testissuer.Doc{}
			switch k := c.key.(type) {
			case *rsa.PrivateKey:
				doc.AAKey = k
			case *ecdsa.PrivateKey:
				doc.AAKey = k
			}
			f := newChip(t, fixtureOpts{doc: doc, faults: chipsim.Faults{Clone: c.clone}})
			d, err := f.read(t, annaKey(), emrtd.Options{})
			if err != nil {
				t.Fatal(err)
			}
			r := verify(f, d, t)
			if r.AA.Status != c.want {
				t.Fatalf("AA %+v", r.AA)
			}
			if c.clone && (r.Verdict != emrtd.Failed || !strings.Contains(r.Reason, "clone check failed")) {
				t.Fatalf("clone verdict %s %q", r.Verdict, r.Reason)
			}
			if !c.clone && r.Verdict != emrtd.Genuine {
				t.Fatalf("verdict %s %q", r.Verdict, r.Reason)
			}
		})
	}
}

func TestReadChipAuthentication(t *testing.T) {
	for _, clone := range []bool{false, true} {
		name := "genuine"
		if clone {
			name = "clone"
		}
		t.Run(name, func(t *testing.T) {
			f := newChip(t, fixtureOpts{doc: testissuer.Doc{CAKey: testissuer.ECKey(t), Face: faceJPEG(t, 6000)}, faults: chipsim.Faults{Clone: clone}})
			d, err := f.read(t, annaKey(), emrtd.Options{})
			if err != nil {
				t.Fatal(err)
			}
			r := verify(f, d, t)
			want := emrtd.CheckOK
			if clone {
				want = emrtd.CheckFailed
			}
			if r.CA.Status != want {
				t.Fatalf("CA %+v", r.CA)
			}
			// The clone's other files are still read (the session is
			// opened again) and PA holds: only the clone check fails.
			if len(d.Files["DG2"]) == 0 || r.PA.Status != pa.Valid {
				t.Fatalf("files %v PA %s", r.Files, r.PA.Status)
			}
			if clone != (r.Verdict == emrtd.Failed) {
				t.Fatalf("verdict %s %q", r.Verdict, r.Reason)
			}
		})
	}
}

func soakCount() int {
	var n int
	fmt.Sscan(os.Getenv("CHECKPOINT_SOAK"), &n)
	return n
}

func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// FuzzVerifyDump feeds arbitrary dump files to ParseDump and Verify, as
// `checkpointctl chip verify` would.
func FuzzVerifyDump(f *testing.F) {
	s := testissuer.NewState(f, "UT")
	files := s.Files(f, testissuer.Doc{MRZ: annaMRZ, Face: []byte("\xff\xd8\xff face")})
	d := emrtd.Dump{Format: emrtd.DumpFormat, Files: files, ActiveAuth: &emrtd.AAExchange{Challenge: []byte{1, 2, 3, 4, 5, 6, 7, 8}, Response: []byte{9}}}
	b, _ := json.Marshal(d)
	f.Add(b)
	f.Add([]byte(`{"format":"checkpoint-chip-dump/1","files":{"DG1":"YQA="}}`))
	store := pa.NewStore()
	store.InstallTrust(pa.Set{CSCAs: []*x509.Certificate{s.CSCA}})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := emrtd.ParseDump(b)
		if err != nil {
			return
		}
		r := emrtd.Verify(d, store, annaDoc(t), emrtd.VerifyOptions{})
		if r.Verdict == "" || (r.Verdict != emrtd.Failed && r.PA.Status == pa.Invalid) {
			t.Fatalf("verdict %q with PA %s", r.Verdict, r.PA.Status)
		}
	})
}
