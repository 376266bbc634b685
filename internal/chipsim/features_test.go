package chipsim

import (
	"bytes"
	"crypto"
	"crypto/sha1"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"sync"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/internal/chipsim/ecc"
	"github.com/checkpoint-edge/checkpoint/internal/chipsim/issuer"
	"github.com/checkpoint-edge/checkpoint/internal/chipsim/lds"
	"github.com/checkpoint-edge/checkpoint/internal/pcsctest"
)

var (
	dsOnce sync.Once
	dsKey  *issuer.CertKey
	dsErr  error
)

// testDS is one document signer for the tests of this package.
func testDS(t testing.TB) *issuer.CertKey {
	t.Helper()
	dsOnce.Do(func() {
		var csca *issuer.CertKey
		if csca, dsErr = issuer.NewCSCA("UTO", issuer.CertOptions{Key: "ecdsa-p256"}); dsErr == nil {
			dsKey, dsErr = issuer.NewDS(csca, issuer.CertOptions{Key: "ecdsa-p256"})
		}
	})
	if dsErr != nil {
		t.Fatal(dsErr)
	}
	return dsKey
}

func syntheticFace(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 7), uint8(y * 3), uint8((x + y) * 5), 255})
		}
	}
	var b bytes.Buffer
	jpeg.Encode(&b, img, &jpeg.Options{Quality: 90})
	return b.Bytes()
}

// issue makes a document with the given options.
func issue(t testing.TB, o issuer.Options) *issuer.LDS {
	t.Helper()
	return issueFace(t, o, syntheticFace(t, 300, 400))
}

func issueFace(t testing.TB, o issuer.Options, face []byte) *issuer.LDS {
	t.Helper()
	doc, err := issuer.Issue(issuer.Traveller{
		IssuingState: "UTO", Surname: "ERIKSSON", GivenNames: []string{"ANNA", "MARIA"},
		DocumentNumber: "T22000129", Nationality: "UTO", Sex: "F",
		BirthDate:  time.Date(1964, 8, 12, 0, 0, 0, 0, time.UTC),
		ExpiryDate: time.Date(2031, 10, 31, 0, 0, 0, 0, time.UTC),
		Face:       issuer.FaceImage{Data: face},
		CAN:        "123456",
	}, testDS(t), o)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func mrzPassword(k MRZKey) []byte {
	h := sha1.Sum([]byte(k.Information()))
	return h[:]
}

func TestPACEEveryCurveAndCipher(t *testing.T) {
	var params []issuer.PACEParams
	for _, c := range ecc.All() {
		for suite := lds.Suite3DES; suite <= lds.SuiteAES256; suite++ {
			params = append(params, issuer.PACEParams{Suite: suite, Curve: c.Name})
		}
	}
	doc := issue(t, issuer.Options{PACE: params})
	cfg := FromLDS(doc)
	cfg.DisableBAC = true // a PACE-only chip
	card, err := NewCard(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range params {
		t.Run(fmt.Sprintf("%s suite %d", p.Curve, p.Suite), func(t *testing.T) {
			card.Reset()
			tm := &terminal{t: t, tx: direct(card)}
			if sw := tm.pace(p.Suite, ecc.ByName(p.Curve), 1, mrzPassword(cfg.MRZ)); sw != swOK {
				t.Fatalf("PACE: %04X", sw)
			}
			tm.selectApp()
			got, sw := tm.readFile(0x0101, 0xDF)
			if sw != swOK || !bytes.Equal(got, doc.Files["DG1"]) {
				t.Fatalf("DG1 after PACE: %04X", sw)
			}
		})
	}
	// CAN is a password too; a wrong password fails at the token step.
	curve := ecc.BrainpoolP256r1()
	for _, tc := range []struct {
		name string
		ref  byte
		pw   []byte
		want uint16
	}{
		{"CAN", 2, []byte("123456"), swOK},
		{"wrong CAN", 2, []byte("123457"), swAuthFailed},
		{"wrong MRZ", 1, mrzPassword(MRZKey{"T22000129", "640812", "101030"}), swAuthFailed},
	} {
		card.Reset()
		tm := &terminal{t: t, tx: direct(card)}
		if sw := tm.pace(lds.SuiteAES128, curve, tc.ref, tc.pw); sw != tc.want {
			t.Errorf("%s: %04X, want %04X", tc.name, sw, tc.want)
		}
	}
	// BAC is off on this chip.
	card.Reset()
	tm := &terminal{t: t, tx: direct(card)}
	if sw := tm.bac(cfg.MRZ, nil, nil); sw != swINSNotSupported {
		t.Fatalf("BAC on a PACE-only chip: %04X", sw)
	}
	// refuse_pace fails the right password.
	cfg.Faults.RefusePACE = true
	refusing, _ := NewCard(cfg)
	tm = &terminal{t: t, tx: direct(refusing)}
	if sw := tm.pace(lds.SuiteAES128, curve, 1, mrzPassword(cfg.MRZ)); sw != swAuthFailed {
		t.Fatalf("refuse_pace: %04X", sw)
	}
}

func TestActiveAuthentication(t *testing.T) {
	for _, tc := range []struct {
		key  string
		hash crypto.Hash
	}{
		{"rsa1024", crypto.SHA1},
		{"rsa2048", crypto.SHA256},
		{"ecdsa-p256", crypto.SHA256},
		{"ec-brainpoolP256r1", crypto.SHA256},
		{"ec-brainpoolP384r1", crypto.SHA384},
	} {
		t.Run(tc.key, func(t *testing.T) {
			doc := issue(t, issuer.Options{AAKey: tc.key, AAHash: tc.hash})
			for _, clone := range []bool{false, true} {
				cfg := FromLDS(doc)
				cfg.Faults.Clone = clone
				card, err := NewCard(cfg)
				if err != nil {
					t.Fatal(err)
				}
				tm := &terminal{t: t, tx: direct(card)}
				tm.selectApp()
				// Not before BAC.
				if _, sw := tm.send(Command{INS: 0x88, Data: []byte("12345678"), Ne: 256}); sw != swSecurityStatus {
					t.Fatalf("AA before BAC: %04X", sw)
				}
				tm.bac(cfg.MRZ, nil, nil)
				challenge := []byte{1, 2, 3, 4, 5, 6, 7, 8}
				sig, sw := tm.send(Command{INS: 0x88, Data: challenge, Ne: 256})
				if sw != swOK {
					t.Fatalf("INTERNAL AUTHENTICATE: %04X", sw)
				}
				err = verifyAA(t, doc.Files["DG15"], doc.AAHash, challenge, sig)
				if clone != (err != nil) {
					t.Fatalf("clone %v: verification %v", clone, err)
				}
			}
		})
	}
	// A chip without AA does not know the command.
	card, _ := NewCard(FromLDS(issue(t, issuer.Options{})))
	tm := &terminal{t: t, tx: direct(card)}
	tm.selectApp()
	tm.bac(FromLDS(issue(t, issuer.Options{})).MRZ, nil, nil)
	if _, sw := tm.send(Command{INS: 0x88, Data: make([]byte, 8), Ne: 256}); sw != swINSNotSupported {
		t.Fatalf("AA without key: %04X", sw)
	}
}

func TestChipAuthentication(t *testing.T) {
	for _, tc := range []struct {
		key   string
		suite int
		kat   bool
	}{
		{"ec-brainpoolP256r1", lds.SuiteAES128, false},
		{"ecdsa-p384", lds.SuiteAES256, false},
		{"ecdsa-p256", lds.Suite3DES, true},
		{"ec-brainpoolP384r1", lds.SuiteAES192, false},
	} {
		t.Run(fmt.Sprintf("%s suite %d", tc.key, tc.suite), func(t *testing.T) {
			doc := issue(t, issuer.Options{CAKey: tc.key, CASuite: tc.suite})
			for _, clone := range []bool{false, true} {
				cfg := FromLDS(doc)
				cfg.Faults.Clone = clone
				card, err := NewCard(cfg)
				if err != nil {
					t.Fatal(err)
				}
				tm := &terminal{t: t, tx: direct(card)}
				tm.selectApp()
				tm.bac(cfg.MRZ, nil, nil)
				if sw := tm.chipAuthenticate(doc.Files["DG14"], tc.kat); sw != swOK {
					t.Fatalf("CA: %04X", sw)
				}
				got, sw, err := tm.sendErr(Command{INS: 0xB0, P1: 0x81, Ne: 0xDF})
				if clone {
					// The clone derived other keys: it rejects our MAC.
					if err != nil || sw != swSMIncorrect {
						t.Fatalf("clone after CA: %04X %v", sw, err)
					}
					continue
				}
				if err != nil || sw != swOK || !bytes.Equal(got, doc.Files["DG1"][:len(got)]) {
					t.Fatalf("read after CA: %04X %v", sw, err)
				}
				if st := card.Stats(); st.CACompletions != 1 {
					t.Fatalf("CA completions %d", st.CACompletions)
				}
			}
		})
	}
	// CA needs an open session.
	doc := issue(t, issuer.Options{CAKey: "ecdsa-p256"})
	card, _ := NewCard(FromLDS(doc))
	tm := &terminal{t: t, tx: direct(card)}
	if sw := tm.chipAuthenticate(doc.Files["DG14"], false); sw != swSecurityStatus {
		t.Fatalf("CA without BAC: %04X", sw)
	}
	// A CA key that is not the DG14 key is a configuration error.
	other := issue(t, issuer.Options{CAKey: "ecdsa-p256"})
	cfg := FromLDS(doc)
	cfg.CAKey = other.CAKey
	if _, err := NewCard(cfg); err == nil {
		t.Fatal("CA key not matching DG14 accepted")
	}
}

// The whole chip through pcscd: PACE, every file, AA, CA, then reading on
// under the CA keys.
func TestFullChipThroughPCSCD(t *testing.T) {
	srv := pcsctest.StartTB(t, pcsctest.Options{})
	doc := issue(t, issuer.Options{
		AAKey: "ecdsa-p256", CAKey: "ec-brainpoolP256r1",
		PACE: []issuer.PACEParams{{Suite: lds.SuiteAES128, Curve: "brainpoolP256r1"}},
	})
	card, err := NewCard(FromLDS(doc))
	if err != nil {
		t.Fatal(err)
	}
	startEmulator(t, srv, card)
	_, pc := pcscConnect(t, srv)
	tm := &terminal{t: t, tx: pcscTx(pc)}
	ca, sw := tm.readFile(0x011C, 0xDF)
	if sw != swOK || !bytes.Equal(ca, doc.Files[FileCardAccess]) {
		t.Fatalf("EF.CardAccess: %04X", sw)
	}
	if sw := tm.pace(lds.SuiteAES128, ecc.BrainpoolP256r1(), 1, mrzPassword(FromLDS(doc).MRZ)); sw != swOK {
		t.Fatalf("PACE: %04X", sw)
	}
	if sw := tm.selectApp(); sw != swOK {
		t.Fatalf("select: %04X", sw)
	}
	for name, fid := range map[string]uint16{"COM": 0x011E, "SOD": 0x011D, "DG1": 0x0101, "DG2": 0x0102, "DG14": 0x010E, "DG15": 0x010F} {
		got, sw := tm.readFile(fid, 1024)
		if sw != swOK || !bytes.Equal(got, doc.Files[name]) {
			t.Fatalf("%s: %04X", name, sw)
		}
	}
	challenge := []byte("8 bytes!")
	sig, sw := tm.send(Command{INS: 0x88, Data: challenge, Ne: 256})
	if sw != swOK {
		t.Fatalf("AA: %04X", sw)
	}
	if err := verifyAA(t, doc.Files["DG15"], doc.AAHash, challenge, sig); err != nil {
		t.Fatal(err)
	}
	if sw := tm.chipAuthenticate(doc.Files["DG14"], false); sw != swOK {
		t.Fatalf("CA: %04X", sw)
	}
	if got, sw := tm.readFile(0x0101, 0xDF); sw != swOK || !bytes.Equal(got, doc.Files["DG1"]) {
		t.Fatalf("DG1 under CA keys: %04X", sw)
	}
}
