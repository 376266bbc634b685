package issuer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"strconv"
	"strings"

	"github.com/checkpoint-edge/checkpoint/internal/chipsim/ecc"
)

// Key specifications accepted wherever a key is generated:
//
//	rsa1024 rsa2048 rsa3072 rsa4096   RSA with that modulus
//	ecdsa-p256 ecdsa-p384             NIST curves (certificates, AA, CA)
//	ec-brainpoolP256r1 ec-brainpoolP384r1  Brainpool (AA and CA only: Go's
//	                                  x509 cannot put them in certificates)
//
// GenerateSigner makes certificate keys (RSA or NIST ECDSA);
// GenerateChipKey makes chip keys (any of the above; EC keys as
// *ecc.PrivateKey).

// GenerateSigner makes a key for a certificate or a signer.
func GenerateSigner(spec string) (crypto.Signer, error) {
	switch {
	case strings.HasPrefix(spec, "rsa"):
		bits, err := strconv.Atoi(spec[3:])
		if err != nil || bits < 1024 || bits > 8192 || bits%8 != 0 {
			return nil, fmt.Errorf("%w: key %q", ErrSpec, spec)
		}
		return rsa.GenerateKey(rand.Reader, bits)
	case spec == "ecdsa-p256":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case spec == "ecdsa-p384":
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	}
	return nil, fmt.Errorf("%w: certificate key %q (want rsaNNNN, ecdsa-p256 or ecdsa-p384)", ErrSpec, spec)
}

// GenerateChipKey makes an Active or Chip Authentication key: an
// *rsa.PrivateKey or an *ecc.PrivateKey.
func GenerateChipKey(spec string) (crypto.PrivateKey, error) {
	if strings.HasPrefix(spec, "rsa") {
		return GenerateSigner(spec)
	}
	c := chipCurve(spec)
	if c == nil {
		return nil, fmt.Errorf("%w: chip key %q", ErrSpec, spec)
	}
	return ecc.GenerateKey(c, rand.Reader)
}

func chipCurve(spec string) *ecc.Curve {
	switch spec {
	case "ecdsa-p256", "ec-p256":
		return ecc.P256()
	case "ecdsa-p384", "ec-p384":
		return ecc.P384()
	case "ec-brainpoolP256r1", "ecdsa-brainpoolP256r1":
		return ecc.BrainpoolP256r1()
	case "ec-brainpoolP384r1", "ecdsa-brainpoolP384r1":
		return ecc.BrainpoolP384r1()
	}
	return nil
}
