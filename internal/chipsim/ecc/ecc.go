// Package ecc is short-Weierstrass elliptic-curve arithmetic over prime
// fields with math/big, for the chip emulator: the NIST and Brainpool curves
// that ICAO 9303 chips announce for PACE and Chip Authentication, the PACE
// Generic Mapping (which needs point addition, which crypto/ecdh does not
// offer) and ECDSA signatures on curves crypto/ecdsa does not know.
//
// It is for tests and the demo, never for production: nothing here runs in
// constant time.
package ecc

import (
	"crypto/rand"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
)

// ErrPoint is returned when an encoded point is malformed, not on the curve,
// or the point at infinity.
var ErrPoint = errors.New("ecc: invalid point")

// Curve is y² = x³ + ax + b over GF(p), with a base point G of prime order N
// (cofactor 1 for every curve here).
type Curve struct {
	Name   string
	P, A   *big.Int
	B      *big.Int
	Gx, Gy *big.Int
	N      *big.Int
	// OID names the curve in a SubjectPublicKeyInfo (RFC 5480, RFC 5639).
	OID asn1.ObjectIdentifier
	// PACEID is the standardized domain parameter ID of BSI TR-03110 Part 3
	// (Doc 9303 Part 11, table "standardized domain parameters").
	PACEID int
}

// Point is an affine point; X == nil is the point at infinity.
type Point struct {
	X, Y *big.Int
}

// Infinity reports whether p is the point at infinity.
func (p Point) Infinity() bool { return p.X == nil }

// Equal compares two points.
func (p Point) Equal(q Point) bool {
	if p.Infinity() || q.Infinity() {
		return p.Infinity() == q.Infinity()
	}
	return p.X.Cmp(q.X) == 0 && p.Y.Cmp(q.Y) == 0
}

// ByteLen is the length of one encoded field element.
func (c *Curve) ByteLen() int { return (c.P.BitLen() + 7) / 8 }

// G returns the base point.
func (c *Curve) G() Point { return Point{new(big.Int).Set(c.Gx), new(big.Int).Set(c.Gy)} }

// IsOnCurve reports whether p is a finite point of the curve with
// coordinates in [0, p).
func (c *Curve) IsOnCurve(p Point) bool {
	if p.Infinity() || p.X.Sign() < 0 || p.Y.Sign() < 0 || p.X.Cmp(c.P) >= 0 || p.Y.Cmp(c.P) >= 0 {
		return false
	}
	lhs := new(big.Int).Mul(p.Y, p.Y)
	lhs.Mod(lhs, c.P)
	rhs := new(big.Int).Mul(p.X, p.X)
	rhs.Mul(rhs, p.X)
	ax := new(big.Int).Mul(c.A, p.X)
	rhs.Add(rhs, ax)
	rhs.Add(rhs, c.B)
	rhs.Mod(rhs, c.P)
	return lhs.Cmp(rhs) == 0
}

// Add returns p + q.
func (c *Curve) Add(p, q Point) Point {
	if p.Infinity() {
		return q
	}
	if q.Infinity() {
		return p
	}
	if p.X.Cmp(q.X) == 0 {
		if p.Y.Cmp(q.Y) == 0 && p.Y.Sign() != 0 {
			return c.Double(p)
		}
		return Point{} // p = -q
	}
	// λ = (y2 - y1) / (x2 - x1)
	num := new(big.Int).Sub(q.Y, p.Y)
	den := new(big.Int).Sub(q.X, p.X)
	den.Mod(den, c.P)
	den.ModInverse(den, c.P)
	l := num.Mul(num, den)
	l.Mod(l, c.P)
	return c.finish(l, p, q.X)
}

// Double returns 2p.
func (c *Curve) Double(p Point) Point {
	if p.Infinity() || p.Y.Sign() == 0 {
		return Point{}
	}
	// λ = (3x² + a) / 2y
	num := new(big.Int).Mul(p.X, p.X)
	num.Mul(num, big.NewInt(3))
	num.Add(num, c.A)
	den := new(big.Int).Lsh(p.Y, 1)
	den.Mod(den, c.P)
	den.ModInverse(den, c.P)
	l := num.Mul(num, den)
	l.Mod(l, c.P)
	return c.finish(l, p, p.X)
}

// finish computes x3 = λ² - x1 - x2, y3 = λ(x1 - x3) - y1.
func (c *Curve) finish(l *big.Int, p Point, x2 *big.Int) Point {
	x3 := new(big.Int).Mul(l, l)
	x3.Sub(x3, p.X)
	x3.Sub(x3, x2)
	x3.Mod(x3, c.P)
	y3 := new(big.Int).Sub(p.X, x3)
	y3.Mul(y3, l)
	y3.Sub(y3, p.Y)
	y3.Mod(y3, c.P)
	return Point{x3, y3}
}

// ScalarMult returns k·p (k taken modulo nothing: any non-negative k). It
// doubles and adds in Jacobian coordinates (x = X/Z², y = Y/Z³), so that
// only the final conversion needs a modular inversion.
func (c *Curve) ScalarMult(p Point, k *big.Int) Point {
	if p.Infinity() || k.Sign() == 0 {
		return Point{}
	}
	var r jacobian // infinity: Z = 0
	r.x, r.y, r.z = new(big.Int), new(big.Int), new(big.Int)
	for i := k.BitLen() - 1; i >= 0; i-- {
		c.jDouble(&r)
		if k.Bit(i) == 1 {
			c.jAddAffine(&r, p)
		}
	}
	return c.affine(&r)
}

type jacobian struct{ x, y, z *big.Int }

func (c *Curve) mod(v *big.Int) *big.Int { return v.Mod(v, c.P) }

// jDouble sets r = 2r: S = 4XY², M = 3X² + aZ⁴, X' = M² − 2S,
// Y' = M(S − X') − 8Y⁴, Z' = 2YZ.
func (c *Curve) jDouble(r *jacobian) {
	if r.z.Sign() == 0 || r.y.Sign() == 0 {
		r.z.SetInt64(0)
		return
	}
	y2 := c.mod(new(big.Int).Mul(r.y, r.y))
	s := c.mod(new(big.Int).Mul(r.x, y2))
	s.Lsh(s, 2)
	z2 := c.mod(new(big.Int).Mul(r.z, r.z))
	z4 := c.mod(new(big.Int).Mul(z2, z2))
	m := new(big.Int).Mul(r.x, r.x)
	m.Mul(m, big.NewInt(3))
	m.Add(m, new(big.Int).Mul(c.A, z4))
	c.mod(m)
	x := new(big.Int).Mul(m, m)
	x.Sub(x, new(big.Int).Lsh(s, 1))
	c.mod(x)
	y4 := c.mod(new(big.Int).Mul(y2, y2))
	y := new(big.Int).Sub(s, x)
	y.Mul(y, m)
	y.Sub(y, y4.Lsh(y4, 3))
	c.mod(y)
	z := new(big.Int).Mul(r.y, r.z)
	z.Lsh(z, 1)
	c.mod(z)
	r.x, r.y, r.z = x, y, z
}

// jAddAffine sets r = r + q for an affine q: U2 = x2Z², S2 = y2Z³,
// H = U2 − X, R = S2 − Y, X' = R² − H³ − 2XH², Y' = R(XH² − X') − YH³,
// Z' = ZH.
func (c *Curve) jAddAffine(r *jacobian, q Point) {
	if r.z.Sign() == 0 {
		r.x.Set(q.X)
		r.y.Set(q.Y)
		r.z.SetInt64(1)
		return
	}
	z2 := c.mod(new(big.Int).Mul(r.z, r.z))
	u2 := c.mod(new(big.Int).Mul(q.X, z2))
	s2 := c.mod(new(big.Int).Mul(q.Y, c.mod(new(big.Int).Mul(z2, r.z))))
	h := c.mod(new(big.Int).Sub(u2, r.x))
	rr := c.mod(new(big.Int).Sub(s2, r.y))
	if h.Sign() == 0 {
		if rr.Sign() == 0 {
			c.jDouble(r)
		} else {
			r.z.SetInt64(0)
		}
		return
	}
	h2 := c.mod(new(big.Int).Mul(h, h))
	h3 := c.mod(new(big.Int).Mul(h2, h))
	xh2 := c.mod(new(big.Int).Mul(r.x, h2))
	x := new(big.Int).Mul(rr, rr)
	x.Sub(x, h3)
	x.Sub(x, new(big.Int).Lsh(xh2, 1))
	c.mod(x)
	y := new(big.Int).Sub(xh2, x)
	y.Mul(y, rr)
	y.Sub(y, new(big.Int).Mul(r.y, h3))
	c.mod(y)
	z := c.mod(new(big.Int).Mul(r.z, h))
	r.x, r.y, r.z = x, y, z
}

// affine converts back: x = X/Z², y = Y/Z³.
func (c *Curve) affine(r *jacobian) Point {
	if r.z.Sign() == 0 {
		return Point{}
	}
	zi := new(big.Int).ModInverse(r.z, c.P)
	zi2 := c.mod(new(big.Int).Mul(zi, zi))
	x := c.mod(new(big.Int).Mul(r.x, zi2))
	y := c.mod(new(big.Int).Mul(r.y, c.mod(new(big.Int).Mul(zi2, zi))))
	return Point{x, y}
}

// ScalarBaseMult returns k·G.
func (c *Curve) ScalarBaseMult(k *big.Int) Point { return c.ScalarMult(c.G(), k) }

// Marshal encodes a finite point uncompressed: 04 || X || Y, each coordinate
// on ByteLen bytes (SEC 1, as PACE and Chip Authentication send them).
func (c *Curve) Marshal(p Point) []byte {
	n := c.ByteLen()
	out := make([]byte, 1+2*n)
	out[0] = 4
	p.X.FillBytes(out[1 : 1+n])
	p.Y.FillBytes(out[1+n:])
	return out
}

// Unmarshal decodes an uncompressed point and checks that it lies on the
// curve (a point off the curve would leak the private key in ECDH).
func (c *Curve) Unmarshal(b []byte) (Point, error) {
	n := c.ByteLen()
	if len(b) != 1+2*n || b[0] != 4 {
		return Point{}, fmt.Errorf("%w: %d bytes, want 04 || X || Y of %d", ErrPoint, len(b), 1+2*n)
	}
	p := Point{new(big.Int).SetBytes(b[1 : 1+n]), new(big.Int).SetBytes(b[1+n:])}
	if !c.IsOnCurve(p) {
		return Point{}, fmt.Errorf("%w: not on %s", ErrPoint, c.Name)
	}
	return p, nil
}

// FieldBytes encodes a field element (such as an ECDH shared x-coordinate)
// on ByteLen bytes.
func (c *Curve) FieldBytes(x *big.Int) []byte {
	return x.FillBytes(make([]byte, c.ByteLen()))
}

// RandomScalar draws a scalar in [1, N-1]: the byte length of N from r,
// read big-endian, drawn again while out of range. (Drawing whole bytes
// lets tests replay the private keys of published examples.)
func (c *Curve) RandomScalar(r io.Reader) (*big.Int, error) {
	if r == nil {
		r = rand.Reader
	}
	buf := make([]byte, (c.N.BitLen()+7)/8)
	for i := 0; i < 1000; i++ {
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		k := new(big.Int).SetBytes(buf)
		if k.Sign() > 0 && k.Cmp(c.N) < 0 {
			return k, nil
		}
	}
	return nil, errors.New("ecc: randomness source never gave a scalar below N")
}

// GenerateKey returns a private scalar in [1, N-1] and its public point.
func (c *Curve) GenerateKey(r io.Reader) (*big.Int, Point, error) {
	k, err := c.RandomScalar(r)
	if err != nil {
		return nil, Point{}, err
	}
	return k, c.ScalarBaseMult(k), nil
}

// ECDH returns the x-coordinate of d·peer, checking the peer point first.
func (c *Curve) ECDH(d *big.Int, peer Point) ([]byte, error) {
	if !c.IsOnCurve(peer) {
		return nil, fmt.Errorf("%w: peer key not on %s", ErrPoint, c.Name)
	}
	s := c.ScalarMult(peer, d)
	if s.Infinity() {
		return nil, fmt.Errorf("%w: shared point at infinity", ErrPoint)
	}
	return c.FieldBytes(s.X), nil
}

// Sign is ECDSA (SEC 1 §4.1.3) over a message digest: r and s, each on the
// byte length of N. The digest is truncated to the bit length of N.
func (c *Curve) Sign(r io.Reader, d *big.Int, digest []byte) (rs []byte, err error) {
	e := hashToInt(digest, c.N)
	for {
		k, p, err := c.GenerateKey(r)
		if err != nil {
			return nil, err
		}
		rr := new(big.Int).Mod(p.X, c.N)
		if rr.Sign() == 0 {
			continue
		}
		kinv := new(big.Int).ModInverse(k, c.N)
		s := new(big.Int).Mul(d, rr)
		s.Add(s, e)
		s.Mul(s, kinv)
		s.Mod(s, c.N)
		if s.Sign() == 0 {
			continue
		}
		n := (c.N.BitLen() + 7) / 8
		out := make([]byte, 2*n)
		rr.FillBytes(out[:n])
		s.FillBytes(out[n:])
		return out, nil
	}
}

// Verify checks a plain (r || s) ECDSA signature; tests use it.
func (c *Curve) Verify(pub Point, digest, rs []byte) bool {
	n := (c.N.BitLen() + 7) / 8
	if len(rs) != 2*n || !c.IsOnCurve(pub) {
		return false
	}
	r := new(big.Int).SetBytes(rs[:n])
	s := new(big.Int).SetBytes(rs[n:])
	if r.Sign() == 0 || s.Sign() == 0 || r.Cmp(c.N) >= 0 || s.Cmp(c.N) >= 0 {
		return false
	}
	e := hashToInt(digest, c.N)
	w := new(big.Int).ModInverse(s, c.N)
	u1 := new(big.Int).Mul(e, w)
	u1.Mod(u1, c.N)
	u2 := new(big.Int).Mul(r, w)
	u2.Mod(u2, c.N)
	p := c.Add(c.ScalarBaseMult(u1), c.ScalarMult(pub, u2))
	if p.Infinity() {
		return false
	}
	v := new(big.Int).Mod(p.X, c.N)
	return v.Cmp(r) == 0
}

func hashToInt(digest []byte, n *big.Int) *big.Int {
	bits := n.BitLen()
	if len(digest)*8 > bits {
		digest = digest[:(bits+7)/8]
	}
	e := new(big.Int).SetBytes(digest)
	if excess := len(digest)*8 - bits; excess > 0 {
		e.Rsh(e, uint(excess))
	}
	return e
}
