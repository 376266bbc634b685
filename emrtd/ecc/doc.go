// Package ecc is prime-field elliptic-curve arithmetic on short
// Weierstrass curves with math/big: the NIST curves and the Brainpool
// curves (RFC 5639) that eMRTD chips announce for PACE and Chip
// Authentication. Go's crypto/ecdh has no Brainpool curves and no way to
// use another generator, which PACE Generic Mapping needs (the mapped
// generator G' = s·G + H).
//
// Arithmetic is not constant-time. The secrets it handles are ephemeral
// (one PACE or CA run), and the terminal side is not exposed to timing
// measurements by a chip; do not use it for long-term keys.
package ecc
