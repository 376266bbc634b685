package ecc

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/hex"
	"encoding/json"
	"math/big"
	mrand "math/rand/v2"
	"os"
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

// TestECDSAWycheproof checks verification against published Brainpool
// vectors (an excerpt of Wycheproof's, testdata/), and against signatures
// derived from the valid ones that must fail: values out of range, r and s
// swapped, another message.
func TestECDSAWycheproof(t *testing.T) {
	b, err := os.ReadFile("testdata/wycheproof_ecdsa_brainpoolP256r1_sha256.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Key   string
			Tests []struct {
				TcID             int
				Msg, Sig, Result string
			}
		}
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	c := BrainpoolP256r1
	valid, n := 0, 0
	for _, g := range f.Groups {
		pub, err := c.Unmarshal(hb(g.Key))
		if err != nil {
			t.Fatalf("key %s: %v", g.Key, err)
		}
		for _, tc := range g.Tests {
			n++
			d := sha256.Sum256(hb(tc.Msg))
			var sig struct{ R, S *big.Int }
			rest, err := asn1.Unmarshal(hb(tc.Sig), &sig)
			ok := err == nil && len(rest) == 0 && c.VerifyECDSA(pub, d[:], sig.R, sig.S)
			if ok != (tc.Result == "valid") {
				t.Errorf("tcId %d: verified %v, want %s", tc.TcID, ok, tc.Result)
			}
			if tc.Result != "valid" {
				continue
			}
			valid++
			other := sha256.Sum256(append(hb(tc.Msg), 0))
			nr := new(big.Int).Add(sig.R, c.N)
			ns := new(big.Int).Add(sig.S, c.N)
			for name, rs := range map[string][2]*big.Int{
				"r+n": {nr, sig.S}, "s+n": {sig.R, ns}, "r=0": {new(big.Int), sig.S}, "s=0": {sig.R, new(big.Int)},
				"r=n": {c.N, sig.S}, "s=n": {sig.R, c.N}, "swapped": {sig.S, sig.R}, "-r": {new(big.Int).Neg(sig.R), sig.S},
			} {
				if c.VerifyECDSA(pub, d[:], rs[0], rs[1]) {
					t.Errorf("tcId %d %s: accepted", tc.TcID, name)
				}
			}
			if c.VerifyECDSA(pub, other[:], sig.R, sig.S) {
				t.Errorf("tcId %d: accepted for another message", tc.TcID)
			}
			// s and n−s both verify (ECDSA is malleable; tcId 5 and 6).
			if !c.VerifyECDSA(pub, d[:], sig.R, new(big.Int).Sub(c.N, sig.S)) {
				t.Errorf("tcId %d: n−s refused", tc.TcID)
			}
		}
	}
	if valid < 8 || n < 14 {
		t.Fatalf("only %d vectors (%d valid)", n, valid)
	}
}

// TestMulAddMatchesSeparateMultiplications checks Shamir's trick against
// two multiplications and an addition, edge cases included.
func TestMulAddMatchesSeparateMultiplications(t *testing.T) {
	for _, c := range []*Curve{P256, BrainpoolP256r1, BrainpoolP384r1, BrainpoolP512r1} {
		q := c.mulSlow(c.G, hexInt("1234567890ABCDEF"))
		negG := Point{c.G.X, new(big.Int).Sub(c.P, c.G.Y)}
		for i, tc := range []struct {
			u1, u2 *big.Int
			q      Point
		}{
			{hexInt("A73FB703AC1436A18E0CFA5ABB3F7BEC"), hexInt("7F4EF07B9EA82FD78AD689B38D0BC78C"), q},
			{big.NewInt(0), big.NewInt(5), q},
			{big.NewInt(7), big.NewInt(0), q},
			{big.NewInt(3), big.NewInt(3), c.G},  // p = q: doubling inside
			{big.NewInt(3), big.NewInt(3), negG}, // p = −q: p+q is infinity
			{new(big.Int).Sub(c.N, big.NewInt(1)), big.NewInt(1), c.G},
		} {
			want := c.Add(c.mulSlow(c.G, tc.u1), c.mulSlow(tc.q, tc.u2))
			got := c.mulAdd(tc.u1, c.G, tc.u2, tc.q)
			if got.Inf() != want.Inf() || (!got.Inf() && (got.X.Cmp(want.X) != 0 || got.Y.Cmp(want.Y) != 0)) {
				t.Errorf("%s case %d: %v, want %v", c.Name, i, got, want)
			}
		}
	}
}

// TestFastArithmeticMatchesReference compares the Montgomery field and
// Jacobian code with math/big: field products of random and extreme
// values, and scalar multiplications by random scalars.
func TestFastArithmeticMatchesReference(t *testing.T) {
	r := mrand.New(mrand.NewPCG(3, 4))
	rnd := func(max *big.Int) *big.Int {
		b := make([]byte, (max.BitLen()+7)/8+8)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return new(big.Int).Mod(new(big.Int).SetBytes(b), max)
	}
	for _, c := range []*Curve{P224, P256, P384, P521, BrainpoolP256r1, BrainpoolP384r1, BrainpoolP512r1} {
		f := c.mont
		pm1 := new(big.Int).Sub(c.P, big.NewInt(1))
		vals := []*big.Int{big.NewInt(0), big.NewInt(1), big.NewInt(2), pm1, new(big.Int).Rsh(c.P, 1)}
		for i := 0; i < 40; i++ {
			vals = append(vals, rnd(c.P))
		}
		for i, x := range vals {
			y := vals[(i*7+3)%len(vals)]
			mx, my := f.toMont(x), f.toMont(y)
			var z fe
			f.mul(&z, &mx, &my)
			if want := new(big.Int).Mod(new(big.Int).Mul(x, y), c.P); f.fromMont(&z).Cmp(want) != 0 {
				t.Fatalf("%s: %v·%v", c.Name, x, y)
			}
			f.add(&z, &mx, &my)
			if want := new(big.Int).Mod(new(big.Int).Add(x, y), c.P); f.fromMont(&z).Cmp(want) != 0 {
				t.Fatalf("%s: %v+%v", c.Name, x, y)
			}
			f.sub(&z, &mx, &my)
			if want := new(big.Int).Mod(new(big.Int).Sub(x, y), c.P); f.fromMont(&z).Cmp(want) != 0 {
				t.Fatalf("%s: %v−%v", c.Name, x, y)
			}
		}
		for i := 0; i < 4; i++ {
			k := rnd(c.N)
			p := c.mulSlow(c.G, rnd(c.N))
			got, want := c.Mul(p, k), c.mulSlow(p, k)
			if got.X.Cmp(want.X) != 0 || got.Y.Cmp(want.Y) != 0 {
				t.Fatalf("%s: k·P differs", c.Name)
			}
		}
		if !c.Mul(c.G, c.N).Inf() || !c.Mul(c.G, big.NewInt(0)).Inf() || !c.Mul(Point{}, big.NewInt(5)).Inf() {
			t.Fatalf("%s: n·G, 0·G or k·∞ is not infinity", c.Name)
		}
	}
}

func BenchmarkVerifyECDSA(b *testing.B) {
	// The peer: crypto/ecdsa on P-256 (assembly, constant time).
	b.Run("crypto-ecdsa-P-256", func(b *testing.B) {
		k, _ := ecdsa.GenerateKey(P256.ECDSA(P256.G).Curve, rand.Reader)
		h := sha256.Sum256([]byte("bench"))
		sig, _ := ecdsa.SignASN1(rand.Reader, k, h[:])
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			ecdsa.VerifyASN1(&k.PublicKey, h[:], sig)
		}
	})
	for _, c := range []*Curve{P256, BrainpoolP256r1, BrainpoolP384r1, BrainpoolP512r1} {
		b.Run(c.Name, func(b *testing.B) {
			d := hexInt("A73FB703AC1436A18E0CFA5ABB3F7BEC7A070E7A6788486BEE230C4A22762595")
			pub := c.Mul(c.G, d)
			// A signature computed here (k fixed: a benchmark, not a signer).
			k := hexInt("7F4EF07B9EA82FD78AD689B38D0BC78CF21F249D953BC46F4C6E19259C010F99")
			h := sha256.Sum256([]byte("bench"))
			e := new(big.Int).SetBytes(h[:])
			r := new(big.Int).Mod(c.Mul(c.G, k).X, c.N)
			s := new(big.Int).Mul(r, d)
			s.Add(s, e)
			s.Mul(s, new(big.Int).ModInverse(k, c.N))
			s.Mod(s, c.N)
			if !c.VerifyECDSA(pub, h[:], r, s) {
				b.Fatal("benchmark signature does not verify")
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				c.VerifyECDSA(pub, h[:], r, s)
			}
		})
	}
	// The math/big affine code this package had before (kept as the
	// tests' reference): u1·G + u2·Q by two multiplications.
	b.Run("brainpoolP256r1-math-big-reference", func(b *testing.B) {
		c := BrainpoolP256r1
		u1, u2 := hexInt("A73FB703AC1436A18E0CFA5ABB3F7BEC7A070E7A6788486BEE230C4A22762595"), hexInt("7F4EF07B9EA82FD78AD689B38D0BC78CF21F249D953BC46F4C6E19259C010F99")
		q := c.mulSlow(c.G, u2)
		for i := 0; i < b.N; i++ {
			c.Add(c.mulSlow(c.G, u1), c.mulSlow(q, u2))
		}
	})
}
