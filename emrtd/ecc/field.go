package ecc

import (
	"math/big"
	"math/bits"
)

// Field arithmetic in Montgomery form on 64-bit limbs, for the point
// arithmetic of scalar multiplication and ECDSA verification. With
// math/big every modular multiplication is a long division; here it is a
// handful of word multiplications, about fifty times faster for 256 bits,
// which keeps passive authentication of Brainpool-signed documents within
// its budget. The big.Int affine code (Add) stays as the reference the
// tests compare against.

// maxLimbs covers P-521 (9 × 64 bits).
const maxLimbs = 9

// fe is a field element in Montgomery form (x·R mod p, R = 2^(64n)),
// little-endian limbs; limbs past the field's n are zero.
type fe [maxLimbs]uint64

// montField is GF(p) for an odd p.
type montField struct {
	n    int
	p    fe
	pinv uint64 // −p⁻¹ mod 2⁶⁴
	r2   fe     // R² mod p (plain limbs)
	one  fe     // 1 in Montgomery form (R mod p)
	a    fe     // the curve's a in Montgomery form
	pBig *big.Int
}

func newMontField(p, a *big.Int) *montField {
	f := &montField{n: (p.BitLen() + 63) / 64, pBig: p}
	f.p = limbs(p)
	// Newton iteration for p⁻¹ mod 2⁶⁴ (p odd): each step doubles the
	// correct low bits.
	inv := uint64(1)
	for i := 0; i < 6; i++ {
		inv *= 2 - f.p[0]*inv
	}
	f.pinv = -inv
	r := new(big.Int).Lsh(big.NewInt(1), uint(64*f.n))
	f.one = limbs(new(big.Int).Mod(r, p))
	f.r2 = limbs(new(big.Int).Mod(new(big.Int).Mul(r, r), p))
	f.a = f.toMont(new(big.Int).Mod(a, p))
	return f
}

// limbs converts 0 ≤ x < 2^(64·maxLimbs) to limbs.
func limbs(x *big.Int) fe {
	var out fe
	var buf [maxLimbs * 8]byte
	x.FillBytes(buf[:])
	for i := 0; i < maxLimbs; i++ {
		for j := 0; j < 8; j++ {
			out[i] |= uint64(buf[len(buf)-1-(8*i+j)]) << (8 * j)
		}
	}
	return out
}

func (f *montField) toMont(x *big.Int) fe {
	v := limbs(x)
	var z fe
	f.mul(&z, &v, &f.r2)
	return z
}

func (f *montField) fromMont(x *fe) *big.Int {
	one := fe{1}
	var z fe
	f.mul(&z, x, &one)
	var buf [maxLimbs * 8]byte
	for i := 0; i < f.n; i++ {
		for j := 0; j < 8; j++ {
			buf[len(buf)-1-(8*i+j)] = byte(z[i] >> (8 * j))
		}
	}
	return new(big.Int).SetBytes(buf[:])
}

// mul sets z = x·y·R⁻¹ mod p (CIOS Montgomery multiplication). z may
// alias x or y.
func (f *montField) mul(z, x, y *fe) {
	n := f.n
	var t [maxLimbs + 2]uint64
	for i := 0; i < n; i++ {
		var c, cc uint64
		yi := y[i]
		for j := 0; j < n; j++ {
			hi, lo := bits.Mul64(x[j], yi)
			lo, cc = bits.Add64(lo, t[j], 0)
			hi += cc
			lo, cc = bits.Add64(lo, c, 0)
			hi += cc
			t[j], c = lo, hi
		}
		t[n], cc = bits.Add64(t[n], c, 0)
		t[n+1] = cc
		m := t[0] * f.pinv
		hi, lo := bits.Mul64(m, f.p[0])
		_, cc = bits.Add64(lo, t[0], 0)
		c = hi + cc
		for j := 1; j < n; j++ {
			hi, lo = bits.Mul64(m, f.p[j])
			lo, cc = bits.Add64(lo, t[j], 0)
			hi += cc
			lo, cc = bits.Add64(lo, c, 0)
			hi += cc
			t[j-1], c = lo, hi
		}
		t[n-1], cc = bits.Add64(t[n], c, 0)
		t[n] = t[n+1] + cc
	}
	// t < 2p: subtract p once if t ≥ p.
	var d fe
	var borrow uint64
	for j := 0; j < n; j++ {
		d[j], borrow = bits.Sub64(t[j], f.p[j], borrow)
	}
	_, borrow = bits.Sub64(t[n], 0, borrow)
	if borrow == 0 {
		*z = d
		return
	}
	var r fe
	copy(r[:n], t[:n])
	*z = r
}

// add sets z = x + y mod p.
func (f *montField) add(z, x, y *fe) {
	n := f.n
	var s, d fe
	var c, b uint64
	for j := 0; j < n; j++ {
		s[j], c = bits.Add64(x[j], y[j], c)
	}
	for j := 0; j < n; j++ {
		d[j], b = bits.Sub64(s[j], f.p[j], b)
	}
	// Keep the difference when the sum carried out or did not borrow.
	if c == 1 || b == 0 {
		*z = d
		return
	}
	*z = s
}

// sub sets z = x − y mod p.
func (f *montField) sub(z, x, y *fe) {
	n := f.n
	var d fe
	var b, c uint64
	for j := 0; j < n; j++ {
		d[j], b = bits.Sub64(x[j], y[j], b)
	}
	if b == 1 {
		for j := 0; j < n; j++ {
			d[j], c = bits.Add64(d[j], f.p[j], c)
		}
	}
	*z = d
}

func (f *montField) isZero(x *fe) bool {
	var acc uint64
	for j := 0; j < f.n; j++ {
		acc |= x[j]
	}
	return acc == 0
}

// inv sets z = x⁻¹ (x ≠ 0) through math/big: a point multiplication
// needs one.
func (f *montField) inv(z, x *fe) {
	v := f.fromMont(x)
	v.ModInverse(v, f.pBig)
	*z = f.toMont(v)
}

// jac is a point in Jacobian coordinates (X/Z², Y/Z³), Montgomery form;
// Z = 0 is the point at infinity.
type jac struct{ x, y, z fe }

// double sets r = 2r (dbl-2007-bl, any a).
func (f *montField) double(r *jac) {
	if f.isZero(&r.z) || f.isZero(&r.y) {
		*r = jac{}
		return
	}
	var xx, yy, yyyy, zz, s, m, t, x3, y3, z3 fe
	f.mul(&xx, &r.x, &r.x)
	f.mul(&yy, &r.y, &r.y)
	f.mul(&yyyy, &yy, &yy)
	f.mul(&zz, &r.z, &r.z)
	// S = 2((X+YY)² − XX − YYYY)
	f.add(&s, &r.x, &yy)
	f.mul(&s, &s, &s)
	f.sub(&s, &s, &xx)
	f.sub(&s, &s, &yyyy)
	f.add(&s, &s, &s)
	// M = 3XX + a·ZZ²
	f.mul(&m, &zz, &zz)
	f.mul(&m, &m, &f.a)
	f.add(&t, &xx, &xx)
	f.add(&t, &t, &xx)
	f.add(&m, &m, &t)
	// X3 = M² − 2S
	f.mul(&x3, &m, &m)
	f.sub(&x3, &x3, &s)
	f.sub(&x3, &x3, &s)
	// Y3 = M(S − X3) − 8·YYYY
	f.sub(&y3, &s, &x3)
	f.mul(&y3, &y3, &m)
	f.add(&t, &yyyy, &yyyy)
	f.add(&t, &t, &t)
	f.add(&t, &t, &t)
	f.sub(&y3, &y3, &t)
	// Z3 = (Y+Z)² − YY − ZZ
	f.add(&z3, &r.y, &r.z)
	f.mul(&z3, &z3, &z3)
	f.sub(&z3, &z3, &yy)
	f.sub(&z3, &z3, &zz)
	r.x, r.y, r.z = x3, y3, z3
}

// addAffine sets r = r + (qx, qy) (madd-2007-bl).
func (f *montField) addAffine(r *jac, qx, qy *fe) {
	if f.isZero(&r.z) {
		r.x, r.y, r.z = *qx, *qy, f.one
		return
	}
	var z1z1, u2, s2, h, rr, hh, i, j, v, x3, y3, z3, t fe
	f.mul(&z1z1, &r.z, &r.z)
	f.mul(&u2, qx, &z1z1)
	f.mul(&s2, qy, &r.z)
	f.mul(&s2, &s2, &z1z1)
	f.sub(&h, &u2, &r.x)
	f.sub(&rr, &s2, &r.y)
	f.add(&rr, &rr, &rr)
	if f.isZero(&h) {
		if f.isZero(&rr) {
			f.double(r) // q is the point r stands for
		} else {
			*r = jac{} // q = −r
		}
		return
	}
	f.mul(&hh, &h, &h)
	f.add(&i, &hh, &hh)
	f.add(&i, &i, &i)
	f.mul(&j, &h, &i)
	f.mul(&v, &r.x, &i)
	// X3 = r² − J − 2V
	f.mul(&x3, &rr, &rr)
	f.sub(&x3, &x3, &j)
	f.sub(&x3, &x3, &v)
	f.sub(&x3, &x3, &v)
	// Y3 = r(V − X3) − 2·Y1·J
	f.sub(&y3, &v, &x3)
	f.mul(&y3, &y3, &rr)
	f.mul(&t, &r.y, &j)
	f.add(&t, &t, &t)
	f.sub(&y3, &y3, &t)
	// Z3 = (Z1 + H)² − Z1Z1 − HH
	f.add(&z3, &r.z, &h)
	f.mul(&z3, &z3, &z3)
	f.sub(&z3, &z3, &z1z1)
	f.sub(&z3, &z3, &hh)
	r.x, r.y, r.z = x3, y3, z3
}

func (f *montField) affine(r *jac) Point {
	if f.isZero(&r.z) {
		return Point{}
	}
	var zi, zi2, x, y fe
	f.inv(&zi, &r.z)
	f.mul(&zi2, &zi, &zi)
	f.mul(&x, &r.x, &zi2)
	f.mul(&y, &r.y, &zi2)
	f.mul(&y, &y, &zi)
	return Point{f.fromMont(&x), f.fromMont(&y)}
}

// mulAdd returns u1·p + u2·q (Shamir's trick: one chain of doublings,
// adding p, q or p+q at each bit); q may be the infinity point with u2 0.
func (f *montField) mulAdd(c *Curve, u1 *big.Int, p Point, u2 *big.Int, q Point) Point {
	var px, py, qx, qy, sx, sy fe
	hasP, hasQ := !p.Inf() && u1.Sign() != 0, !q.Inf() && u2.Sign() != 0
	if hasP {
		px, py = f.toMont(p.X), f.toMont(p.Y)
	}
	if hasQ {
		qx, qy = f.toMont(q.X), f.toMont(q.Y)
	}
	pq := Point{}
	if hasP && hasQ {
		pq = c.Add(p, q)
		if !pq.Inf() {
			sx, sy = f.toMont(pq.X), f.toMont(pq.Y)
		}
	}
	var r jac
	for i := max(u1.BitLen(), u2.BitLen()) - 1; i >= 0; i-- {
		f.double(&r)
		b1, b2 := hasP && u1.Bit(i) == 1, hasQ && u2.Bit(i) == 1
		switch {
		case b1 && b2:
			if !pq.Inf() {
				f.addAffine(&r, &sx, &sy)
			}
		case b1:
			f.addAffine(&r, &px, &py)
		case b2:
			f.addAffine(&r, &qx, &qy)
		}
	}
	return f.affine(&r)
}
