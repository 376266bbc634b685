package emrtd

import (
	"bytes"
	"crypto"
	"crypto/subtle"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"

	_ "crypto/sha1" // hash functions ISO 9796-2 trailers may name
	_ "crypto/sha256"
	_ "crypto/sha512"

	"github.com/checkpoint-edge/checkpoint/emrtd/lds"
)

// ErrAA is returned when an Active Authentication signature does not
// verify: the chip does not hold the private key of DG15 (a clone).
var ErrAA = errors.New("active authentication failed: the chip does not hold the document's key")

// VerifyAA checks the chip's answer to an INTERNAL AUTHENTICATE challenge
// (9303-11 §6.1): RSA with ISO/IEC 9796-2 scheme 1 message recovery, or
// ECDSA (plain or DER signature) with the hash the DG14 AA info names.
func VerifyAA(key *lds.AAKey, aaInfo *lds.AAInfo, challenge, sig []byte) error {
	if key.RSA != nil {
		return verifyAARSA(key, challenge, sig)
	}
	h := crypto.SHA256
	if aaInfo != nil {
		switch aaInfo.SignatureAlgorithm {
		case "1.2.840.10045.4.1":
			h = crypto.SHA1
		case "1.2.840.10045.4.3.1":
			h = crypto.SHA224
		case "1.2.840.10045.4.3.2":
			h = crypto.SHA256
		case "1.2.840.10045.4.3.3":
			h = crypto.SHA384
		case "1.2.840.10045.4.3.4":
			h = crypto.SHA512
		}
	}
	d := h.New()
	d.Write(challenge)
	digest := d.Sum(nil)
	var r, s *big.Int
	n := key.Curve.Size()
	if len(sig) == 2*n {
		r, s = new(big.Int).SetBytes(sig[:n]), new(big.Int).SetBytes(sig[n:])
	} else {
		var es struct{ R, S *big.Int }
		if _, err := asn1.Unmarshal(sig, &es); err != nil || es.R == nil || es.S == nil {
			return fmt.Errorf("%w: ECDSA signature of %d bytes is malformed", ErrAA, len(sig))
		}
		r, s = es.R, es.S
	}
	if !key.Curve.VerifyECDSA(key.Point, digest, r, s) {
		return fmt.Errorf("%w (ECDSA)", ErrAA)
	}
	return nil
}

func verifyAARSA(key *lds.AAKey, challenge, sig []byte) error {
	k := key.RSA
	size := (k.N.BitLen() + 7) / 8
	if len(sig) != size {
		return fmt.Errorf("%w: RSA signature of %d bytes for a %d-byte key", ErrAA, len(sig), size)
	}
	m := new(big.Int).Exp(new(big.Int).SetBytes(sig), big.NewInt(int64(k.E)), k.N)
	f := m.FillBytes(make([]byte, size))
	// ISO 9796-2 allows the alternative representation n - f.
	if f[len(f)-1]&0x0F != 0x0C {
		alt := new(big.Int).Sub(k.N, m)
		f = alt.FillBytes(make([]byte, size))
	}
	if f[0]&0xC0 != 0x40 {
		return fmt.Errorf("%w: ISO 9796-2 header missing", ErrAA)
	}
	var h crypto.Hash
	trailer := 1
	switch {
	case f[len(f)-1] == 0xBC:
		h = crypto.SHA1
	case f[len(f)-1] == 0xCC && len(f) >= 2:
		trailer = 2
		switch f[len(f)-2] {
		case 0x33:
			h = crypto.SHA1
		case 0x34:
			h = crypto.SHA256
		case 0x35:
			h = crypto.SHA512
		case 0x36:
			h = crypto.SHA384
		case 0x38:
			h = crypto.SHA224
		default:
			return fmt.Errorf("%w: unknown ISO 9796-2 hash identifier %02X", ErrAA, f[len(f)-2])
		}
	default:
		return fmt.Errorf("%w: ISO 9796-2 trailer missing", ErrAA)
	}
	hl := h.Size()
	if len(f) < 1+hl+trailer {
		return fmt.Errorf("%w: key too small for the hash", ErrAA)
	}
	m1 := f[1 : len(f)-hl-trailer]
	d := f[len(f)-hl-trailer : len(f)-trailer]
	hh := h.New()
	hh.Write(m1)
	hh.Write(challenge)
	if subtle.ConstantTimeCompare(hh.Sum(nil), d) != 1 {
		return fmt.Errorf("%w (RSA ISO 9796-2)", ErrAA)
	}
	if bytes.Equal(m1, make([]byte, len(m1))) && len(m1) > 0 {
		// Not a failure by itself; a chip is free to choose M1.
		return nil
	}
	return nil
}
