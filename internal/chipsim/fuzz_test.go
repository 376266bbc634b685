package chipsim

import (
	"bytes"
	"encoding/hex"
	"sync"
	"testing"

	"github.com/checkpoint-edge/checkpoint/internal/chipsim/issuer"
)

var apduSeeds = []string{
	"00A4040C07A0000002471001", "0084000008", "00B0000004", "00B0810004", "00B0000000", "00B00000000000",
	"00B1000000000554030080000000", "0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800",
	"0CB000000D9701048E08ED6705417E96BA5500", "0022C1A40F800A04007F00070202040202830101",
	"10860000027C0000", "008600000C7C0A8508C2B0BD78D94BA86600", "0088000008010203040506070800",
	"0082000028" + "72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F25F1448EEA8AD90A728",
	"00", "00A4", "00A40000", "00A4000001", "00A400000000", "00A4000000000100", "00A40000000001FF0000",
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range apduSeeds {
		b, _ := hex.DecodeString(s)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCommand(b)
		if err != nil {
			return
		}
		if c.Ne < 0 || c.Ne > 65536 {
			t.Fatalf("Ne %d", c.Ne)
		}
		// Re-encoding gives the same command.
		again, err := ParseCommand(c.Bytes())
		if err != nil {
			t.Fatalf("re-encoded %X: %v", c.Bytes(), err)
		}
		if again.CLA != c.CLA || again.INS != c.INS || again.P1 != c.P1 || again.P2 != c.P2 ||
			!bytes.Equal(again.Data, c.Data) || again.Ne != c.Ne {
			t.Fatalf("%+v became %+v", c, again)
		}
	})
}

var (
	fuzzDocOnce sync.Once
	fuzzDoc     *issuer.LDS
)

// FuzzCardProcess feeds sequences of APDUs (each prefixed by its length
// byte) to chips in the states a reader leaves them in: fresh, after BAC
// (with the Appendix D session), and with PACE, AA and CA available. The
// chip must always answer with a status word, and never hand out a
// protected file in the clear.
func FuzzCardProcess(f *testing.F) {
	for _, s := range apduSeeds {
		b, _ := hex.DecodeString(s)
		f.Add(append([]byte{byte(len(b))}, b...))
	}
	seq := func(apdus ...string) []byte {
		var out []byte
		for _, s := range apdus {
			b, _ := hex.DecodeString(s)
			out = append(append(out, byte(len(b))), b...)
		}
		return out
	}
	f.Add(seq("00A4040C07A0000002471001", "0084000008",
		"0082000028"+"72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F25F1448EEA8AD90A728",
		"0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800", "0CB000000D9701048E08ED6705417E96BA5500"))
	f.Add(seq("0022C1A40F800A04007F00070202040202830101", "10860000027C0000", "10860000457C438141"+g1PKMapIFD+"00"))
	f.Add(seq("0022C1A412800A04007F0007020204020283010184010D", "10860000027C0000", "0022C1A40F800A04007F00070202040202830102"))
	f.Add(seq("00A4020C02011C", "00B0000000", "00B1000000000354010100"))

	f.Fuzz(func(t *testing.T, in []byte) {
		fuzzDocOnce.Do(func() {
			fuzzDoc = issue(t, issuer.Options{AAKey: "ecdsa-p256", CAKey: "ecdsa-p256",
				PACE: []issuer.PACEParams{{Suite: 2, Curve: "brainpoolP256r1"}}})
		})
		var apdus [][]byte
		for len(in) > 0 && len(apdus) < 16 {
			n := int(in[0])
			in = in[1:]
			n = min(n, len(in))
			apdus = append(apdus, in[:n])
			in = in[n:]
		}
		specimen, _ := NewCard(Config{
			MRZ:   specimenKey,
			Files: map[string][]byte{FileCOM: unhex(t, specimenCOM), "DG1": {0x61, 0x03, 0x5F, 0x1F, 0x00}},
			Rand:  &loopReader{b: unhex(t, "4608F91988702212"+"0B4F80323EB3191CB04970CB4052790B")},
		})
		full, _ := NewCard(FromLDS(fuzzDoc))
		secret := fuzzDoc.Files["DG1"][5:40] // part of the MRZ
		for _, card := range []*Card{specimen, full} {
			for _, a := range apdus {
				resp := card.Process(a)
				if len(resp) < 2 {
					t.Fatalf("answer % X to % X", resp, a)
				}
				if card.sm == nil && bytes.Contains(resp, secret) {
					t.Fatalf("DG1 content in the clear before authentication: % X", a)
				}
			}
		}
	})
}

// loopReader repeats b forever (deterministic chip randomness).
type loopReader struct {
	b []byte
	i int
}

func (r *loopReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r.b[r.i%len(r.b)]
		r.i++
	}
	return len(p), nil
}

func FuzzParseProfile(f *testing.F) {
	f.Add([]byte(profileJSON))
	f.Add([]byte(`{"faults": {"response_delay": "1ms", "malformed_length": ["DG1"]}}`))
	f.Add([]byte(`{"chip": {"pace": [{"suite": "AES-128", "curve": "P-256"}]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseProfile(b, "testdata")
		if err != nil {
			return
		}
		// Building may fail (bad values) but never panics. Profiles that
		// name files are not built: the fuzzer could name /dev/zero.
		if p.Traveller.Face == "" && p.Chip.AAKeyFile == "" && p.Chip.CAKeyFile == "" {
			_, _, _ = p.Build(nil)
		}
	})
}
