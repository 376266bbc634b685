package emrtd_test

import (
	"context"
	"crypto/x509"
	"image"
	"image/color"
	"strings"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/device/chip"
	"github.com/checkpoint-edge/checkpoint/emrtd"
	"github.com/checkpoint-edge/checkpoint/emrtd/lds"
	"github.com/checkpoint-edge/checkpoint/emrtd/pa"
	"github.com/checkpoint-edge/checkpoint/internal/chipsim"
	"github.com/checkpoint-edge/checkpoint/internal/chipsim/issuer"
	chiplds "github.com/checkpoint-edge/checkpoint/internal/chipsim/lds"
	"github.com/checkpoint-edge/checkpoint/internal/pcsctest"
	"github.com/checkpoint-edge/checkpoint/mrz"
)

// The chip emulator's own issuer (written by another hand, from the
// specifications) makes these documents; the reader side reads and
// verifies them through pcscd. Each side checks the other.
func TestCrossCheckWithEmulatorIssuer(t *testing.T) {
	now := time.Now()
	pki, err := issuer.NewPKI("UTO", issuer.PKIOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	pss, err := issuer.NewPKI("UTO", issuer.PKIOptions{Now: now, PSS: true, DSKey: "rsa2048"})
	if err != nil {
		t.Fatal(err)
	}
	// Trust comes from the issuer's own master list and CRL, imported as a
	// technician would.
	ml, mlInfo, err := pa.Parse(pki.MasterList)
	if err != nil || mlInfo == nil || !mlInfo.SignatureOK {
		t.Fatalf("issuer's master list: %v %+v", err, mlInfo)
	}
	crl, _, err := pa.Parse(pki.CRL)
	if err != nil {
		t.Fatal(err)
	}
	store := pa.NewStore()
	if err := store.InstallTrust(pa.Merge(pa.Merge(ml, crl), pa.Set{CSCAs: []*x509.Certificate{pss.CSCA.Cert}})); err != nil {
		t.Fatal(err)
	}
	img := image.NewRGBA(image.Rect(0, 0, 120, 160))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	img.Set(0, 0, color.RGBA{1, 2, 3, 255})
	jp2, err := issuer.EncodeJPEG2000(img, 20)
	if err != nil {
		t.Fatal(err)
	}
	trav := issuer.Traveller{IssuingState: "UTO", Surname: "ERIKSSON", GivenNames: []string{"ANNA", "MARIA"}, DocumentNumber: "L898902C3",
		Nationality: "UTO", BirthDate: time.Date(1974, 8, 12, 0, 0, 0, 0, time.UTC), ExpiryDate: now.AddDate(5, 0, 0), Sex: "F",
		Face: issuer.FaceImage{Data: jp2}, Details: &issuer.PersonalDetails{FullName: "ERIKSSON<<ANNA<MARIA", PlaceOfBirth: "ZENITH"},
		Document: &issuer.DocumentDetails{IssuingAuthority: "UTOPIA", DateOfIssue: now.AddDate(-1, 0, 0)}}

	cases := []struct {
		name    string
		ds      *issuer.CertKey
		opt     issuer.Options
		verdict emrtd.Verdict
		reason  string
		jpeg    bool // a JPEG face instead of JPEG 2000
		check   func(t *testing.T, d *emrtd.Dump, r *emrtd.Report)
	}{
		{name: "genuine: PACE brainpoolP384r1, AA ECDSA brainpool, CA brainpool, JPEG 2000 face, DG11/12", ds: pki.DS, verdict: emrtd.Genuine,
			opt: issuer.Options{AAKey: "ec-brainpoolP256r1", CAKey: "ec-brainpoolP256r1", PACE: []issuer.PACEParams{{Suite: chiplds.SuiteAES256, Curve: "brainpoolP384r1"}}},
			check: func(t *testing.T, d *emrtd.Dump, r *emrtd.Report) {
				if d.Access != "PACE" || r.AA.Status != emrtd.CheckOK || r.CA.Status != emrtd.CheckOK || r.Face.Format != lds.FormatJPEG2000 ||
					r.DG11 == nil || r.DG11.PlaceOfBirth != "ZENITH" || r.DG12 == nil || r.DG12.IssuingAuthority != "UTOPIA" {
					t.Fatalf("access %s AA %+v CA %+v face %+v DG11 %+v DG12 %+v", d.Access, r.AA, r.CA, r.Face, r.DG11, r.DG12)
				}
			}},
		{name: "genuine: RSA-PSS signer, AA RSA SHA-256, 3DES CA", ds: pss.DS, verdict: emrtd.Genuine,
			opt: issuer.Options{AAKey: "rsa1024", AAHash: 5 /* crypto.SHA256 */, CAKey: "ecdsa-p256", CASuite: chiplds.Suite3DES}},
		{name: "unknown tags and a signer named by key identifier", ds: pki.DS, verdict: emrtd.Genuine,
			opt: issuer.Options{SignerKeyID: true, SODVersion1: true, Tamper: issuer.Tamper{UnknownTags: []string{"DG1", "DG2", "DG11"}}}},
		{name: "DG1 altered", ds: pki.DS, verdict: emrtd.Failed, reason: "DG1 does not match the signed hash",
			opt: issuer.Options{Tamper: issuer.Tamper{AlterAfterSigning: []string{"DG1"}}}},
		{name: "DG11 left out of the security object", ds: pki.DS, verdict: emrtd.Failed, reason: "DG11 is not listed",
			opt: issuer.Options{Tamper: issuer.Tamper{OmitHash: []string{"DG11"}}}},
		{name: "expired DS", ds: pki.ExpiredDS, verdict: emrtd.Failed, reason: "not now"},
		{name: "revoked DS", ds: pki.RevokedDS, verdict: emrtd.Failed, reason: "revoked"},
		{name: "unchained DS", ds: pki.UnchainedDS, verdict: emrtd.Failed, reason: "not signed by any trusted CSCA"},
		{name: "rogue CSCA", ds: pki.RogueDS, verdict: emrtd.Failed, reason: "not signed by any trusted CSCA"},
		{name: "oversized DG2", ds: pki.DS, verdict: emrtd.Genuine, jpeg: true,
			opt: issuer.Options{Tamper: issuer.Tamper{OversizeDG2: 300 << 10}},
			check: func(t *testing.T, d *emrtd.Dump, r *emrtd.Report) {
				if !strings.Contains(d.Unavailable["DG2"], "larger than allowed") {
					t.Fatalf("unavailable %v", d.Unavailable)
				}
			}},
	}
	srv := pcsctest.StartTB(t, pcsctest.Options{})
	r, err := chip.Open(chip.Config{Socket: srv.SocketPath, Reader: srv.Reader, Poll: 20 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { r.Run(context.Background()); close(done) }()
	defer func() { r.Close(); <-done }()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := trav
			if c.jpeg {
				tr.Face = issuer.FaceImage{Data: faceJPEG(t, 8000)}
			}
			l, err := issuer.Issue(tr, c.ds, c.opt)
			if err != nil {
				t.Fatal(err)
			}
			card, err := chipsim.NewCard(chipsim.FromLDS(l))
			if err != nil {
				t.Fatal(err)
			}
			ins := r.State().Insertions
			em := chipsim.NewEmulator(srv.VPCDAddr, card, nil)
			if err := em.Insert(); err != nil {
				t.Fatal(err)
			}
			defer func() {
				em.Close()
				waitUntil(t, "removal", func() bool { return !r.State().CardPresent })
			}()
			waitUntil(t, "insertion", func() bool { return r.State().Insertions > ins })
			key := emrtd.Key{DocumentNumber: l.DocumentNumber, BirthDate: l.DateOfBirth, ExpiryDate: l.DateOfExpiry}
			d, err := emrtd.Read(context.Background(), emrtd.FromReader(r), key, emrtd.Options{Timeout: 30 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			rep := emrtd.Verify(d, store, mrz.Parse(l.MRZ, mrz.Options{}), emrtd.VerifyOptions{})
			if rep.Verdict != c.verdict || !strings.Contains(rep.Reason, c.reason) {
				t.Fatalf("verdict %s %q (PA %s at %s), want %s %q", rep.Verdict, rep.Reason, rep.PA.Status, rep.PA.FailedStep, c.verdict, c.reason)
			}
			if c.check != nil {
				c.check(t, d, rep)
			}
		})
	}
}
