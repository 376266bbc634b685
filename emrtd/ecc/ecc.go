package ecc

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"
)

// ErrPoint is returned for an encoding that is not a point on the curve.
var ErrPoint = errors.New("ecc: not a point on the curve")

// Curve is y² = x³ + ax + b over GF(p) with a generator of order n.
type Curve struct {
	Name    string
	P, A, B *big.Int
	G       Point
	N       *big.Int
	H       int // cofactor
}

// Point is an affine point; the point at infinity has nil X.
type Point struct{ X, Y *big.Int }

// Inf reports whether p is the point at infinity.
func (p Point) Inf() bool { return p.X == nil }

// Size is the byte length of a coordinate.
func (c *Curve) Size() int { return (c.P.BitLen() + 7) / 8 }

// OnCurve reports whether p satisfies the curve equation.
func (c *Curve) OnCurve(p Point) bool {
	if p.Inf() {
		return false
	}
	if p.X.Sign() < 0 || p.X.Cmp(c.P) >= 0 || p.Y.Sign() < 0 || p.Y.Cmp(c.P) >= 0 {
		return false
	}
	l := new(big.Int).Mul(p.Y, p.Y)
	l.Mod(l, c.P)
	r := new(big.Int).Mul(p.X, p.X)
	r.Mul(r, p.X)
	ax := new(big.Int).Mul(c.A, p.X)
	r.Add(r, ax)
	r.Add(r, c.B)
	r.Mod(r, c.P)
	return l.Cmp(r) == 0
}

// Add returns p + q.
func (c *Curve) Add(p, q Point) Point {
	if p.Inf() {
		return q
	}
	if q.Inf() {
		return p
	}
	var lambda *big.Int
	if p.X.Cmp(q.X) == 0 {
		sum := new(big.Int).Add(p.Y, q.Y)
		if sum.Mod(sum, c.P).Sign() == 0 {
			return Point{}
		}
		// Doubling: (3x² + a) / 2y.
		num := new(big.Int).Mul(p.X, p.X)
		num.Mul(num, big.NewInt(3))
		num.Add(num, c.A)
		den := new(big.Int).Lsh(p.Y, 1)
		den.ModInverse(den.Mod(den, c.P), c.P)
		lambda = num.Mul(num, den)
	} else {
		num := new(big.Int).Sub(q.Y, p.Y)
		den := new(big.Int).Sub(q.X, p.X)
		den.Mod(den, c.P)
		den.ModInverse(den, c.P)
		lambda = num.Mul(num, den)
	}
	lambda.Mod(lambda, c.P)
	x := new(big.Int).Mul(lambda, lambda)
	x.Sub(x, p.X)
	x.Sub(x, q.X)
	x.Mod(x, c.P)
	y := new(big.Int).Sub(p.X, x)
	y.Mul(y, lambda)
	y.Sub(y, p.Y)
	y.Mod(y, c.P)
	return Point{x, y}
}

// Mul returns k·p (double-and-add, Jacobian-free for clarity).
func (c *Curve) Mul(p Point, k *big.Int) Point {
	r := Point{}
	for i := k.BitLen() - 1; i >= 0; i-- {
		r = c.Add(r, r)
		if k.Bit(i) == 1 {
			r = c.Add(r, p)
		}
	}
	return r
}

// Marshal encodes p uncompressed (04 || X || Y).
func (c *Curve) Marshal(p Point) []byte {
	n := c.Size()
	out := make([]byte, 1+2*n)
	out[0] = 4
	p.X.FillBytes(out[1 : 1+n])
	p.Y.FillBytes(out[1+n:])
	return out
}

// Unmarshal decodes an uncompressed point and checks it is on the curve.
func (c *Curve) Unmarshal(b []byte) (Point, error) {
	n := c.Size()
	if len(b) != 1+2*n || b[0] != 4 {
		return Point{}, fmt.Errorf("%w: %d bytes", ErrPoint, len(b))
	}
	p := Point{new(big.Int).SetBytes(b[1 : 1+n]), new(big.Int).SetBytes(b[1+n:])}
	if !c.OnCurve(p) {
		return Point{}, ErrPoint
	}
	return p, nil
}

// GenerateKey returns a private scalar in [1, n-1] and its public point
// on generator g.
func (c *Curve) GenerateKey(rnd io.Reader, g Point) (*big.Int, Point, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	for {
		b := make([]byte, (c.N.BitLen()+7)/8+8)
		if _, err := io.ReadFull(rnd, b); err != nil {
			return nil, Point{}, err
		}
		k := new(big.Int).SetBytes(b)
		k.Mod(k, new(big.Int).Sub(c.N, big.NewInt(1)))
		k.Add(k, big.NewInt(1))
		return k, c.Mul(g, k), nil
	}
}

// VerifyECDSA checks an ECDSA signature (r, s) over a hash, truncated to
// the order's bit length as in FIPS 186.
func (c *Curve) VerifyECDSA(pub Point, hash []byte, r, s *big.Int) bool {
	if r.Sign() <= 0 || s.Sign() <= 0 || r.Cmp(c.N) >= 0 || s.Cmp(c.N) >= 0 || !c.OnCurve(pub) {
		return false
	}
	e := new(big.Int).SetBytes(hash)
	if excess := len(hash)*8 - c.N.BitLen(); excess > 0 {
		e.Rsh(e, uint(excess))
	}
	w := new(big.Int).ModInverse(s, c.N)
	u1 := new(big.Int).Mul(e, w)
	u1.Mod(u1, c.N)
	u2 := new(big.Int).Mul(r, w)
	u2.Mod(u2, c.N)
	p := c.Add(c.Mul(c.G, u1), c.Mul(pub, u2))
	if p.Inf() {
		return false
	}
	v := new(big.Int).Mod(p.X, c.N)
	return v.Cmp(r) == 0
}

// ECDSA returns the standard library key for a NIST curve point, nil for
// other curves.
func (c *Curve) ECDSA(pub Point) *ecdsa.PublicKey {
	var ec elliptic.Curve
	switch c.Name {
	case "P-224":
		ec = elliptic.P224()
	case "P-256":
		ec = elliptic.P256()
	case "P-384":
		ec = elliptic.P384()
	case "P-521":
		ec = elliptic.P521()
	default:
		return nil
	}
	return &ecdsa.PublicKey{Curve: ec, X: pub.X, Y: pub.Y}
}
