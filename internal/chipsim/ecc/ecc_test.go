package ecc

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"math/big"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCurveParameters(t *testing.T) {
	for _, c := range All() {
		g := c.G()
		if !c.IsOnCurve(g) {
			t.Errorf("%s: G not on the curve", c.Name)
		}
		if !c.ScalarMult(g, c.N).Infinity() {
			t.Errorf("%s: N·G is not the point at infinity", c.Name)
		}
		if c.ScalarMult(g, new(big.Int).Sub(c.N, big.NewInt(1))).Equal(g) {
			t.Errorf("%s: (N-1)·G = G", c.Name)
		}
		if ByPACEID(c.PACEID) != c || ByOID(c.OID) != c || ByName(c.Name) != c {
			t.Errorf("%s: lookups disagree", c.Name)
		}
	}
}

// Base-point multiples for the Brainpool curves, RFC 6932 (§A.2, A.5 and
// the matching test vectors of RFC 7027 §A.1, A.2): k → k·G.
func TestBrainpoolPublishedVectors(t *testing.T) {
	cases := []struct {
		c    *Curve
		k, p string
	}{
		{BrainpoolP256r1(), "041EB8B1E2BC681BCE8E39963B2E9FC415B05283313DD1A8BCC055F11AE49699",
			"0478028496B5ECAAB3C8B6C12E45DB1E02C9E4D26B4113BC4F015F60C5CCC0D206A2AE1762A3831C1D20F03F8D1E3C0C39AFE6F09B4D44BBE80CD100987B05F92B"},
		{BrainpoolP256r1(), "06F5240EACDB9837BC96D48274C8AA834B6C87BA9CC3EEDD81F99A16B8D804D3",
			"048E07E219BA588916C5B06AA30A2F464C2F2ACFC1610A3BE2FB240B635341F0DB148EA1D7D1E7E54B9555B6C9AC90629C18B63BEE5D7AA6949EBBF47B24FDE40D"},
		{BrainpoolP384r1(), "014EC0755B78594BA47FB0A56F6173045B4331E74BA1A6F47322E70D79D828D97E095884CA72B73FDABD5910DF0FA76A",
			"0445CB26E4384DAF6FB776885307B9A38B7AD1B5C692E0C32F0125332778F3B8D3F50CA358099B30DEB5EE69A95C058B4E8173A1C54AFFA7E781D0E1E1D12C0DC2B74F4DF58E4A4E3AF7026C5D32DC530A2CD89C859BB4B4B768497F49AB8CC859"},
		{BrainpoolP384r1(), "6B461CB79BD0EA519A87D6828815D8CE7CD9B3CAA0B5A8262CBCD550A015C90095B976F3529957506E1224A861711D54",
			"0401BF92A92EE4BE8DED1A911125C209B03F99E3161CFCC986DC7711383FC30AF9CE28CA3386D59E2C8D72CE1E7B4666E83289C4A3A4FEE035E39BDB885D509D224A142FF9FBCC5CFE5CCBB30268EE47487ED8044858D31D848F7A95C635A347AC"},
	}
	for _, tc := range cases {
		k := new(big.Int).SetBytes(unhex(t, tc.k))
		got := tc.c.Marshal(tc.c.ScalarBaseMult(k))
		if !bytes.Equal(got, unhex(t, tc.p)) {
			t.Errorf("%s: k·G = %X, want %s", tc.c.Name, got, tc.p)
		}
	}
	// The two RFC 7027 parties agree: dA·(dB·G) = dB·(dA·G).
	for _, c := range []*Curve{BrainpoolP256r1(), BrainpoolP384r1()} {
		a := new(big.Int).SetBytes(unhex(t, cases[0].k))
		b := new(big.Int).SetBytes(unhex(t, cases[1].k))
		if c == BrainpoolP384r1() {
			a.SetBytes(unhex(t, cases[2].k))
			b.SetBytes(unhex(t, cases[3].k))
		}
		z1, err := c.ECDH(a, c.ScalarBaseMult(b))
		if err != nil {
			t.Fatal(err)
		}
		z2, _ := c.ECDH(b, c.ScalarBaseMult(a))
		if !bytes.Equal(z1, z2) {
			t.Errorf("%s: ECDH disagrees", c.Name)
		}
	}
}

// The NIST curves are checked against Go's own implementation.
func TestNISTAgainstCryptoECDH(t *testing.T) {
	for _, tc := range []struct {
		c *Curve
		e ecdh.Curve
	}{{P256(), ecdh.P256()}, {P384(), ecdh.P384()}} {
		for i := 0; i < 5; i++ {
			a, _ := tc.e.GenerateKey(rand.Reader)
			b, _ := tc.e.GenerateKey(rand.Reader)
			da := new(big.Int).SetBytes(a.Bytes())
			if got := tc.c.Marshal(tc.c.ScalarBaseMult(da)); !bytes.Equal(got, a.PublicKey().Bytes()) {
				t.Fatalf("%s: public key differs from crypto/ecdh", tc.c.Name)
			}
			peer, err := tc.c.Unmarshal(b.PublicKey().Bytes())
			if err != nil {
				t.Fatal(err)
			}
			got, err := tc.c.ECDH(da, peer)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := a.ECDH(b.PublicKey())
			if !bytes.Equal(got, want) {
				t.Fatalf("%s: shared secret differs from crypto/ecdh", tc.c.Name)
			}
		}
	}
}

func TestUnmarshalRejects(t *testing.T) {
	c := BrainpoolP256r1()
	good := c.Marshal(c.G())
	bad := bytes.Clone(good)
	bad[len(bad)-1] ^= 1
	for name, b := range map[string][]byte{
		"off curve":  bad,
		"short":      good[:len(good)-1],
		"compressed": append([]byte{2}, good[1:33]...),
		"empty":      nil,
		"x = p":      append(append([]byte{4}, c.FieldBytes(c.P)...), good[33:]...),
	} {
		if _, err := c.Unmarshal(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := c.ECDH(big.NewInt(5), Point{big.NewInt(1), big.NewInt(1)}); err == nil {
		t.Error("ECDH with a point off the curve accepted")
	}
}

func TestSignVerify(t *testing.T) {
	digest := sha256.Sum256([]byte("challenge"))
	for _, c := range All() {
		d, pub, err := c.GenerateKey(nil)
		if err != nil {
			t.Fatal(err)
		}
		sig, err := c.Sign(nil, d, digest[:])
		if err != nil {
			t.Fatal(err)
		}
		if !c.Verify(pub, digest[:], sig) {
			t.Errorf("%s: own signature does not verify", c.Name)
		}
		sig[3] ^= 1
		if c.Verify(pub, digest[:], sig) {
			t.Errorf("%s: altered signature verifies", c.Name)
		}
	}
	// A P-256 signature made here verifies with crypto/ecdsa.
	c := P256()
	d, pub, _ := c.GenerateKey(nil)
	sig, _ := c.Sign(nil, d, digest[:])
	pk := &ecdsa.PublicKey{Curve: elliptic.P256(), X: pub.X, Y: pub.Y}
	if !ecdsa.Verify(pk, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		t.Error("crypto/ecdsa rejects a P-256 signature made here")
	}
}

func BenchmarkScalarBaseMult(b *testing.B) {
	for _, c := range All() {
		k, _, _ := c.GenerateKey(nil)
		b.Run(c.Name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				c.ScalarBaseMult(k)
			}
		})
	}
}
