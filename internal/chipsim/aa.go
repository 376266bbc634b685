package chipsim

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	_ "crypto/sha1" // AA digests
	_ "crypto/sha256"
	_ "crypto/sha512"
	"fmt"
	"io"
	"math/big"

	"github.com/checkpoint-edge/checkpoint/internal/chipsim/ecc"
)

// Active Authentication (Doc 9303 Part 11 §6.1): INTERNAL AUTHENTICATE with
// an 8-byte challenge, signed with the private key whose public half is in
// DG15. RSA signs with ISO/IEC 9796-2 digital signature scheme 1 (partial
// message recovery); ECDSA signs the challenge's digest, plain r || s
// (BSI TR-03111).

type aaKey struct {
	rsa  *rsa.PrivateKey
	ec   *ecc.PrivateKey
	hash crypto.Hash
}

// iso9796Trailer gives the trailer of ISO/IEC 9796-2 for a digest: BC
// (SHA-1 implied) or the hash identifier followed by CC.
var iso9796Trailer = map[crypto.Hash][]byte{
	crypto.SHA1:   {0xBC},
	crypto.SHA224: {0x38, 0xCC},
	crypto.SHA256: {0x34, 0xCC},
	crypto.SHA384: {0x36, 0xCC},
	crypto.SHA512: {0x35, 0xCC},
}

func newAAKey(k crypto.PrivateKey, h crypto.Hash, clone bool, r io.Reader) (*aaKey, error) {
	if k == nil {
		return nil, nil
	}
	a := &aaKey{hash: h}
	switch k := k.(type) {
	case *rsa.PrivateKey:
		if a.hash == 0 {
			a.hash = crypto.SHA1
		}
		if _, ok := iso9796Trailer[a.hash]; !ok {
			return nil, fmt.Errorf("%w: AA digest %v", ErrConfig, a.hash)
		}
		if k.N.BitLen()%8 != 0 {
			return nil, fmt.Errorf("%w: AA RSA modulus of %d bits (want a multiple of 8)", ErrConfig, k.N.BitLen())
		}
		a.rsa = k
		if clone {
			fresh, err := rsa.GenerateKey(r, k.N.BitLen())
			if err != nil {
				return nil, err
			}
			a.rsa = fresh
		}
	case *ecdsa.PrivateKey, *ecc.PrivateKey:
		if a.hash == 0 {
			a.hash = crypto.SHA256
		}
		if _, ok := iso9796Trailer[a.hash]; !ok {
			return nil, fmt.Errorf("%w: AA digest %v", ErrConfig, a.hash)
		}
		if e, ok := k.(*ecdsa.PrivateKey); ok {
			var err error
			if a.ec, err = ecc.FromECDSA(e); err != nil {
				return nil, fmt.Errorf("%w: AA key: %v", ErrConfig, err)
			}
		} else {
			a.ec = k.(*ecc.PrivateKey)
		}
		if clone {
			fresh, err := ecc.GenerateKey(a.ec.Curve, r)
			if err != nil {
				return nil, err
			}
			a.ec = fresh
		}
	default:
		return nil, fmt.Errorf("%w: AA key of type %T", ErrConfig, k)
	}
	return a, nil
}

// internalAuthenticate signs the terminal's challenge.
func (c *Card) internalAuthenticate(cmd Command, secured bool) ([]byte, uint16) {
	if c.aa == nil {
		return nil, swINSNotSupported
	}
	if !secured {
		return nil, swSecurityStatus
	}
	if cmd.P1 != 0 || cmd.P2 != 0 {
		return nil, swWrongP1P2
	}
	if len(cmd.Data) != 8 {
		return nil, swWrongLength
	}
	sig, err := c.aa.sign(c.rand, cmd.Data)
	if err != nil {
		return nil, swNoPreciseDiagnosis
	}
	c.count(func(s *statsCounters) { s.aaSignatures++ })
	return sig, swOK
}

func (a *aaKey) sign(r io.Reader, challenge []byte) ([]byte, error) {
	h := a.hash.New()
	if a.ec != nil {
		h.Write(challenge)
		return a.ec.Curve.Sign(r, a.ec.D, h.Sum(nil))
	}
	return iso9796Sign(r, a.rsa, a.hash, challenge)
}

// iso9796Sign is ISO/IEC 9796-2 scheme 1 with partial recovery: the
// representative F = 6A || M1 || H(M1 || M2) || trailer, M1 random bytes
// filling the modulus, M2 the challenge (not recoverable); the signature
// is F^d mod n.
func iso9796Sign(r io.Reader, k *rsa.PrivateKey, hash crypto.Hash, m2 []byte) ([]byte, error) {
	trailer := iso9796Trailer[hash]
	n := k.N.BitLen() / 8
	m1 := make([]byte, n-hash.Size()-len(trailer)-1)
	if len(m1) < 1 {
		return nil, fmt.Errorf("modulus too short for %v", hash)
	}
	if _, err := io.ReadFull(r, m1); err != nil {
		return nil, err
	}
	h := hash.New()
	h.Write(m1)
	h.Write(m2)
	f := append([]byte{0x6A}, m1...)
	f = append(f, h.Sum(nil)...)
	f = append(f, trailer...)
	s := new(big.Int).Exp(new(big.Int).SetBytes(f), k.D, k.N)
	return s.FillBytes(make([]byte, n)), nil
}
