package ecc

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"math/big"
	"testing"
)

func TestCurvesConsistent(t *testing.T) {
	for _, c := range []*Curve{P224, P256, P384, P521, BrainpoolP256r1, BrainpoolP384r1, BrainpoolP512r1} {
		if !c.OnCurve(c.G) {
			t.Errorf("%s: G not on curve", c.Name)
		}
		if !c.Mul(c.G, c.N).Inf() {
			t.Errorf("%s: n·G is not infinity", c.Name)
		}
	}
}

func hb(s string) []byte { b, _ := hex.DecodeString(s); return b }

// TestPACEGenericMapping follows Doc 9303 Part 11 Appendix G.1
// (brainpoolP256r1).
func TestPACEGenericMapping(t *testing.T) {
	c := BrainpoolP256r1
	skMap := hexInt("7F4EF07B9EA82FD78AD689B38D0BC78CF21F249D953BC46F4C6E19259C010F99")
	pkMap := c.Mul(c.G, skMap)
	if !bytes.Equal(c.Marshal(pkMap), hb("047ACF3EFC982EC45565A4B155129EFBC74650DCBFA6362D896FC70262E0C2CC5E544552DCB6725218799115B55C9BAA6D9F6BC3A9618E70C25AF71777A9C4922D")) {
		t.Fatalf("PK_map,IFD %X", c.Marshal(pkMap))
	}
	pkIC, err := c.Unmarshal(hb("04824FBA91C9CBE26BEF53A0EBE7342A3BF178CEA9F45DE0B70AA601651FBA3F5730D8C879AAA9C9F73991E61B58F4D52EB87A0A0C709A49DC63719363CCD13C54"))
	if err != nil {
		t.Fatal(err)
	}
	h := c.Mul(pkIC, skMap)
	if !bytes.Equal(c.Marshal(h), hb("0460332EF2450B5D247EF6D3868397D398852ED6E8CAF6FFEEF6BF85CA57057FD50840CA7415BAF3E43BD414D35AA4608B93A2CAF3A4E3EA4E82C9C13D03EB7181")) {
		t.Fatalf("H %X", c.Marshal(h))
	}
	s := new(big.Int).SetBytes(hb("3F00C4D39D153F2B2A214A078D899B22"))
	g := c.Add(c.Mul(c.G, s), h)
	if !bytes.Equal(c.Marshal(g), hb("048CED63C91426D4F0EB1435E7CB1D74A46723A0AF21C89634F65A9AE87A9265E28C879506743F8611AC33645C5B985C80B5F09A0B83407C1B6A4D857AE76FE522")) {
		t.Fatalf("G' %X", c.Marshal(g))
	}
	sk := hexInt("A73FB703AC1436A18E0CFA5ABB3F7BEC7A070E7A6788486BEE230C4A22762595")
	if pk := c.Mul(g, sk); !bytes.Equal(c.Marshal(pk), hb("042DB7A64C0355044EC9DF190514C625CBA2CEA48754887122F3A5EF0D5EDD301C3556F3B3B186DF10B857B58F6A7EB80F20BA5DC7BE1D43D9BF850149FBB36462")) {
		t.Fatalf("PK_DH,IFD %X", c.Marshal(pk))
	}
	pkDH, err := c.Unmarshal(hb("049E880F842905B8B3181F7AF7CAA9F0EFB743847F44A306D2D28C1D9EC65DF6DB7764B22277A2EDDC3C265A9F018F9CB852E111B768B326904B59A0193776F094"))
	if err != nil {
		t.Fatal(err)
	}
	k := c.Mul(pkDH, sk)
	if !bytes.Equal(k.X.FillBytes(make([]byte, 32)), hb("28768D20701247DAE81804C9E780EDE582A9996DB4A315020B2733197DB84925")) {
		t.Fatalf("shared %X", k.X)
	}
	if _, err := c.Unmarshal(append([]byte{4}, make([]byte, 64)...)); err == nil {
		t.Fatal("(0,0) accepted as a point")
	}
}

func TestVerifyECDSAAgainstStdlib(t *testing.T) {
	k, _ := ecdsa.GenerateKey(P256.ECDSA(P256.G).Curve, rand.Reader)
	d := sha256.Sum256([]byte("chip"))
	r, s, _ := ecdsa.Sign(rand.Reader, k, d[:])
	pub := Point{k.X, k.Y}
	if !P256.VerifyECDSA(pub, d[:], r, s) {
		t.Fatal("valid signature refused")
	}
	d[0] ^= 1
	if P256.VerifyECDSA(pub, d[:], r, s) {
		t.Fatal("signature over another hash accepted")
	}
}

func BenchmarkMulBrainpoolP256(b *testing.B) {
	k := hexInt("A73FB703AC1436A18E0CFA5ABB3F7BEC7A070E7A6788486BEE230C4A22762595")
	for i := 0; i < b.N; i++ {
		BrainpoolP256r1.Mul(BrainpoolP256r1.G, k)
	}
}
