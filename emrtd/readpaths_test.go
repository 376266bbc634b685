package emrtd_test

import (
	"bytes"
	"crypto/x509"
	"image"
	"image/color"
	"image/jpeg"
	mrand "math/rand/v2"
	"testing"

	"github.com/checkpoint-edge/checkpoint/emrtd"
	testissuer "github.com/checkpoint-edge/checkpoint/emrtd/emrtdtest"
	"github.com/checkpoint-edge/checkpoint/emrtd/lds"
	"github.com/checkpoint-edge/checkpoint/emrtd/pa"
)

// Read paths a chip can force on the reader, through pcscd, vpcd and the
// emulator: files selected by FID when the chip takes no short file
// identifiers, offsets past 32 KiB (odd READ BINARY with DO'54'), short
// reads only when the chip refuses extended lengths, and a document
// signed on Brainpool curves.

// bigFaceJPEG is a JPEG larger than min bytes (noise compresses badly).
func bigFaceJPEG(t testing.TB, min int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 320, 420))
	r := mrand.New(mrand.NewPCG(5, 6))
	for y := 0; y < 420; y++ {
		for x := 0; x < 320; x++ {
			img.Set(x, y, color.RGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255})
		}
	}
	var buf bytes.Buffer
	jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90})
	if buf.Len() < min {
		t.Fatalf("JPEG of %d bytes, want more than %d", buf.Len(), min)
	}
	return buf.Bytes()
}

// trustedThroughParse loads the state's CSCA the way a unit does (PEM,
// ParseCertificate), not from the issuer's structs.
func trustedThroughParse(t testing.TB, s *testissuer.State) *pa.Store {
	set, _, err := pa.Parse(pa.EncodePEM(pa.Set{CSCAs: []*x509.Certificate{s.CSCA}}))
	if err != nil {
		t.Fatal(err)
	}
	st := pa.NewStore()
	if err := st.InstallTrust(set); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestReadWithoutShortFileIDs(t *testing.T) {
	for _, c := range []struct {
		name string
		sw   uint16
		pace bool
	}{
		{"6A86 over BAC", 0x6A86, false},
		{"6981 over BAC", 0x6981, false},
		{"6A82 over BAC", 0x6A82, false},
		{"6A86 over PACE", 0x6A86, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			doc := testissuer.Doc{Face: faceJPEG(t, 12000)}
			if c.pace {
				doc.PACE = []testissuer.PACE{{OID: lds.OIDPACEECDHGM + ".2", ParameterID: 13}}
			}
			f := newChip(t, fixtureOpts{doc: doc, noSFI: true, noSFISW: c.sw})
			d, err := f.read(t, annaKey(), emrtd.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if r := verify(f, d, t); r.Verdict != emrtd.Genuine || len(r.PA.Verified) < 2 {
				t.Fatalf("verdict %s: %s (verified %v, unavailable %v)", r.Verdict, r.Reason, r.PA.Verified, d.Unavailable)
			}
			st := f.card.Stats()
			// One refused SFI read per reading session (EF.CardAccess has
			// its own), then every file by SELECT.
			if st.SFIReads < 1 || st.SFIReads > 2 || st.Selects < len(d.Files) {
				t.Fatalf("SFI reads %d, selects %d for %d files", st.SFIReads, st.Selects, len(d.Files))
			}
		})
	}
	// The same chip with SFIs: no SELECT of an EF at all.
	f := newChip(t, fixtureOpts{doc: testissuer.Doc{Face: faceJPEG(t, 12000)}})
	d, err := f.read(t, annaKey(), emrtd.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if st := f.card.Stats(); st.SFIReads < len(d.Files) || st.Selects > 2 {
		t.Fatalf("with SFIs: %d SFI reads, %d selects for %d files", st.SFIReads, st.Selects, len(d.Files))
	}
}

func TestReadPast32KiB(t *testing.T) {
	face := bigFaceJPEG(t, 40<<10)
	for _, c := range []struct {
		name       string
		maxExt     int
		noExtended bool
		noSFI      bool
	}{
		{"extended reads of 4 KiB", 4096, false, false},
		{"extended reads of 1 KiB, no SFI", 1024, false, true},
		{"short reads only", 0, true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newChip(t, fixtureOpts{doc: testissuer.Doc{Face: face, PACE: []testissuer.PACE{{OID: lds.OIDPACEECDHGM + ".2", ParameterID: 12}}},
				maxExt: c.maxExt, noExtended: c.noExtended, noSFI: c.noSFI})
			d, err := f.read(t, annaKey(), emrtd.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Files["DG2"]) < 40<<10 {
				t.Fatalf("DG2 of %d bytes (unavailable %v)", len(d.Files["DG2"]), d.Unavailable)
			}
			r := verify(f, d, t)
			if r.Verdict != emrtd.Genuine || r.Face == nil || !bytes.Equal(r.Face.Data, face) {
				t.Fatalf("verdict %s: %s", r.Verdict, r.Reason)
			}
			// A chip without extended lengths drops secure messaging on
			// the first extended read: opened once more, then short reads.
			if want := map[bool]int{true: 1, false: 0}[c.noExtended]; d.Reopens != want {
				t.Fatalf("reopened %d times, want %d", d.Reopens, want)
			}
			st := f.card.Stats()
			if st.OddReads == 0 {
				t.Fatalf("no READ BINARY past 32 KiB: %+v", st)
			}
			t.Logf("%d APDUs, %d odd reads, %.0f ms", d.APDUs, st.OddReads, d.DurationMS)
		})
	}
}

func TestReadBrainpoolSignedChip(t *testing.T) {
	s := testissuer.NewBrainpoolState(t, "UT", "brainpoolP384r1", "brainpoolP256r1", true)
	f := newChipWithState(t, s, fixtureOpts{doc: testissuer.Doc{Face: faceJPEG(t, 12000),
		PACE: []testissuer.PACE{{OID: lds.OIDPACEECDHGM + ".2", ParameterID: 13}}}})
	f.store = trustedThroughParse(t, s)
	d, err := f.read(t, annaKey(), emrtd.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := verify(f, d, t)
	if r.Verdict != emrtd.Genuine || r.PA.Status != pa.Valid || r.PA.CSCA != "CN=CSCA UT,C=UT" {
		t.Fatalf("verdict %s: %s (PA %+v)", r.Verdict, r.Reason, r.PA)
	}
	// The same chip against a look-alike Brainpool CSCA: refused.
	rogue := testissuer.NewBrainpoolState(t, "UT", "brainpoolP384r1", "brainpoolP256r1", true)
	look := testissuer.Cert(t, s.CSCA.Subject, s.CSCA.SerialNumber.Int64(), rogue.CSCAKey, nil, nil, true, s.CSCA.NotBefore, s.CSCA.NotAfter)
	f.store = trustedThroughParse(t, &testissuer.State{CSCA: look})
	if r := verify(f, d, t); r.Verdict != emrtd.Failed || r.PA.FailedStep != pa.StepChain {
		t.Fatalf("look-alike CSCA: %s %s", r.Verdict, r.Reason)
	}
}
