package pa

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"

	_ "crypto/sha1" // hash functions an SOD may name
	_ "crypto/sha256"
	_ "crypto/sha512"

	"github.com/checkpoint-edge/checkpoint/emrtd/ecc"
)

// ErrAlgorithm is returned for a hash or signature algorithm we do not
// support.
var ErrAlgorithm = errors.New("pa: unsupported algorithm")

// HashByOID returns the hash function an algorithm identifier names
// (digest OIDs, and signature OIDs that imply one).
func HashByOID(oid asn1.ObjectIdentifier) (crypto.Hash, error) {
	switch oid.String() {
	case "1.3.14.3.2.26", "1.2.840.113549.1.1.5", "1.2.840.10045.4.1":
		return crypto.SHA1, nil
	case "2.16.840.1.101.3.4.2.4", "1.2.840.113549.1.1.14", "1.2.840.10045.4.3.1":
		return crypto.SHA224, nil
	case "2.16.840.1.101.3.4.2.1", "1.2.840.113549.1.1.11", "1.2.840.10045.4.3.2":
		return crypto.SHA256, nil
	case "2.16.840.1.101.3.4.2.2", "1.2.840.113549.1.1.12", "1.2.840.10045.4.3.3":
		return crypto.SHA384, nil
	case "2.16.840.1.101.3.4.2.3", "1.2.840.113549.1.1.13", "1.2.840.10045.4.3.4":
		return crypto.SHA512, nil
	}
	return 0, fmt.Errorf("%w: %v", ErrAlgorithm, oid)
}

var (
	oidRSAEncryption = "1.2.840.113549.1.1.1"
	oidRSAPSS        = "1.2.840.113549.1.1.10"
)

type pssParams struct {
	Hash algorithmIdentifier `asn1:"explicit,optional,tag:0"`
	MGF  algorithmIdentifier `asn1:"explicit,optional,tag:1"`
	Salt int                 `asn1:"explicit,optional,tag:2,default:20"`
}

type ecdsaSig struct{ R, S *big.Int }

// verifySignature checks sig over msg with pub, for the CMS signature
// algorithm alg (digest taken from alg, or from digestAlg for plain
// rsaEncryption/ecPublicKey identifiers).
func verifySignature(pub any, alg algorithmIdentifier, digestAlg asn1.ObjectIdentifier, msg, sig []byte) error {
	oid := alg.Algorithm.String()
	h, err := HashByOID(alg.Algorithm)
	if err != nil {
		if oid == oidRSAPSS {
			var p pssParams
			if _, err := asn1.Unmarshal(alg.Parameters.FullBytes, &p); err != nil {
				return fmt.Errorf("%w: RSA-PSS parameters: %w", ErrAlgorithm, err)
			}
			h = crypto.SHA1
			if len(p.Hash.Algorithm) > 0 {
				if h, err = HashByOID(p.Hash.Algorithm); err != nil {
					return err
				}
			}
			k, ok := pub.(*rsa.PublicKey)
			if !ok {
				return fmt.Errorf("%w: RSA-PSS with a non-RSA key", ErrAlgorithm)
			}
			d := h.New()
			d.Write(msg)
			salt := p.Salt
			if salt == 0 && len(alg.Parameters.FullBytes) <= 2 {
				salt = 20
			}
			return rsa.VerifyPSS(k, h, d.Sum(nil), sig, &rsa.PSSOptions{SaltLength: salt, Hash: h})
		}
		// rsaEncryption or id-ecPublicKey as "signature algorithm": the
		// digest algorithm says which hash.
		if h, err = HashByOID(digestAlg); err != nil {
			return err
		}
	}
	d := h.New()
	d.Write(msg)
	digest := d.Sum(nil)
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(k, h, digest, sig)
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(k, digest, sig) {
			return errors.New("ECDSA signature does not verify")
		}
		return nil
	case ecKey:
		var s ecdsaSig
		if _, err := asn1.Unmarshal(sig, &s); err != nil || s.R == nil || s.S == nil {
			return errors.New("ECDSA signature malformed")
		}
		if !k.Curve.VerifyECDSA(k.Point, digest, s.R, s.S) {
			return errors.New("ECDSA signature does not verify")
		}
		return nil
	}
	return fmt.Errorf("%w: key type %T", ErrAlgorithm, pub)
}

// ecKey is an EC public key on a curve the standard library lacks.
type ecKey struct {
	Curve *ecc.Curve
	Point ecc.Point
}

// publicKey returns a certificate's key in a form verifySignature takes.
func publicKey(c *x509.Certificate) any { return c.PublicKey }
