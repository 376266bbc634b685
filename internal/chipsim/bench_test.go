package chipsim

import (
	"bytes"
	"testing"

	"github.com/checkpoint-edge/checkpoint/internal/chipsim/ecc"
	"github.com/checkpoint-edge/checkpoint/internal/chipsim/issuer"
	"github.com/checkpoint-edge/checkpoint/internal/chipsim/lds"
	"github.com/checkpoint-edge/checkpoint/internal/pcsctest"
)

// BenchmarkRead is the issue's chip budget: open the chip (BAC or PACE),
// then read DG1, a 20 KB DG2 and EF.SOD, through pcscd and vpcd, with the
// reads of a cautious reader (short Le 0xDF, as most do under secure
// messaging) and of one using extended length (4 KB answers). The same
// session without any transport ("direct") shows what pcscd and vpcd cost.
//
//	go test -run '^$' -bench BenchmarkRead -benchtime 20x ./internal/chipsim/
func BenchmarkRead(b *testing.B) {
	doc := issueFace(b, issuer.Options{
		PACE:   []issuer.PACEParams{{Suite: lds.SuiteAES128, Curve: "brainpoolP256r1"}, {Suite: lds.SuiteAES128, Curve: "P-256"}},
		Tamper: issuer.Tamper{OversizeDG2: 20000},
	}, syntheticFace(b, 120, 160))
	if n := len(doc.Files["DG2"]); n < 20000 || n > 21000 {
		b.Fatalf("DG2 of %d bytes", n)
	}
	cfg := FromLDS(doc)
	srv := pcsctest.StartTB(b, pcsctest.Options{})
	card, err := NewCard(cfg)
	if err != nil {
		b.Fatal(err)
	}
	startEmulator(b, srv, card)
	_, pc := pcscConnect(b, srv)
	viaPCSC := pcscTx(pc)
	directCard, _ := NewCard(cfg)

	files := map[string]uint16{"DG1": 0x0101, "DG2": 0x0102, "SOD": 0x011D}
	read := func(b *testing.B, tx transmitter, open func(*terminal) uint16, chunk int) {
		tm := &terminal{t: b, tx: tx}
		if sw := open(tm); sw != swOK {
			b.Fatalf("open: %04X", sw)
		}
		if sw := tm.selectApp(); sw != swOK {
			b.Fatalf("select: %04X", sw)
		}
		for name, fid := range files {
			got, sw := tm.readFile(fid, chunk)
			if sw != swOK || !bytes.Equal(got, doc.Files[name]) {
				b.Fatalf("%s: %04X", name, sw)
			}
		}
	}
	bac := func(tm *terminal) uint16 {
		if sw := tm.selectApp(); sw != swOK {
			return sw
		}
		return tm.bac(cfg.MRZ, nil, nil)
	}
	pace := func(c *ecc.Curve) func(*terminal) uint16 {
		return func(tm *terminal) uint16 {
			tm.send(Command{INS: 0xA4, P1: 0x00, P2: 0x0C}) // back to the master file
			return tm.pace(lds.SuiteAES128, c, 1, mrzPassword(cfg.MRZ))
		}
	}
	total := int64(len(doc.Files["DG1"]) + len(doc.Files["DG2"]) + len(doc.Files["SOD"]))
	for _, bc := range []struct {
		name  string
		tx    transmitter
		open  func(*terminal) uint16
		chunk int
	}{
		{"pcscd/BAC/Le=DF", viaPCSC, bac, 0xDF},
		{"pcscd/BAC/Le=4096", viaPCSC, bac, 4096},
		{"pcscd/PACE-P256/Le=4096", viaPCSC, pace(ecc.P256()), 4096},
		{"pcscd/PACE-brainpoolP256r1/Le=4096", viaPCSC, pace(ecc.BrainpoolP256r1()), 4096},
		{"direct/BAC/Le=DF", direct(directCard), bac, 0xDF},
		{"direct/BAC/Le=4096", direct(directCard), bac, 4096},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(total)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				read(b, bc.tx, bc.open, bc.chunk)
			}
		})
	}
}
