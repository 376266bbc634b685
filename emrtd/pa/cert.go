package pa

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/checkpoint-edge/checkpoint/emrtd/ecc"
	"github.com/checkpoint-edge/checkpoint/emrtd/lds"
)

// ErrCertificate is returned for a certificate neither crypto/x509 nor
// this package can read.
var ErrCertificate = errors.New("pa: unreadable certificate")

// ECPublicKey is an EC public key on a curve crypto/ecdsa lacks (the
// Brainpool curves): the PublicKey of the certificates ParseCertificate
// reads itself.
type ECPublicKey struct {
	Curve *ecc.Curve
	Point ecc.Point
}

// ParseCertificate parses one DER certificate. crypto/x509 reads what it
// can. Certificates whose key is an EC key on a curve it does not know
// (brainpoolP256r1, P384r1, P512r1: many states sign passports with them)
// or given by explicit domain parameters (as ICAO certificates often
// are) are read here into the same x509.Certificate fields, with the key
// as an *ECPublicKey (or an *ecdsa.PublicKey for a NIST curve given
// explicitly). Everything that checks certificates (chaining by
// signature, validity, key usage, CRLs) uses only those fields and
// CheckSignatureFrom, whichever parser read them.
//
// Such a certificate is not usable with crypto/x509's own methods
// (Verify, CheckSignatureFrom): they refuse its key type.
func ParseCertificate(der []byte) (*x509.Certificate, error) {
	c, err := x509.ParseCertificate(der)
	if err == nil {
		return c, nil
	}
	own, oerr := parseECCertificate(der)
	switch {
	case oerr == nil:
		return own, nil
	case errors.Is(oerr, errNotOurs):
		return nil, fmt.Errorf("%w: %w", ErrCertificate, err)
	}
	return nil, fmt.Errorf("%w: %w", ErrCertificate, oerr)
}

// errNotOurs marks a certificate this parser leaves to crypto/x509 (not
// an EC key, or on a curve crypto/x509 knows by name): its error stands.
var errNotOurs = errors.New("not an EC certificate on a curve crypto/x509 lacks")

var (
	oidECPublicKey = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidExtKeyUsage = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidExtBasic    = asn1.ObjectIdentifier{2, 5, 29, 19}
	oidExtSKI      = asn1.ObjectIdentifier{2, 5, 29, 14}
	oidExtAKI      = asn1.ObjectIdentifier{2, 5, 29, 35}
)

// x509Curves are the named curves crypto/x509 reads itself.
var x509Curves = map[string]bool{"1.3.132.0.33": true, "1.2.840.10045.3.1.7": true, "1.3.132.0.34": true, "1.3.132.0.35": true}

// signed is the outer structure of certificates and CRLs (RFC 5280
// §4.1.1.1, §5.1.1).
type signedDER struct {
	TBS       asn1.RawValue
	SigAlgRaw asn1.RawValue
	Sig       asn1.BitString
}

type signed struct {
	signedDER
	SigAlg pkix.AlgorithmIdentifier
}

type tbsCertificate struct {
	Raw        asn1.RawContent
	Version    int `asn1:"optional,explicit,default:0,tag:0"`
	Serial     *big.Int
	SigAlg     asn1.RawValue
	Issuer     asn1.RawValue
	Validity   validity
	Subject    asn1.RawValue
	SPKI       asn1.RawValue
	IssuerUID  asn1.BitString   `asn1:"optional,tag:1"`
	SubjectUID asn1.BitString   `asn1:"optional,tag:2"`
	Extensions []pkix.Extension `asn1:"optional,explicit,tag:3"`
}

type validity struct {
	NotBefore, NotAfter time.Time
}

type spkiHead struct {
	Algorithm struct {
		OID    asn1.ObjectIdentifier
		Params asn1.RawValue `asn1:"optional"`
	}
	Key asn1.BitString
}

type basicConstraints struct {
	IsCA       bool `asn1:"optional"`
	MaxPathLen int  `asn1:"optional,default:-1"`
}

type authorityKeyID struct {
	KeyID  []byte        `asn1:"optional,tag:0"`
	Issuer asn1.RawValue `asn1:"optional,tag:1"`
	Serial asn1.RawValue `asn1:"optional,tag:2"`
}

// parseSigned splits a certificate or CRL into its signed part, the
// algorithm and the signature, refusing trailing data and signatures
// with unused bits.
func parseSigned(der []byte) (*signed, error) {
	var s signed
	rest, err := asn1.Unmarshal(der, &s.signedDER)
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 {
		return nil, errors.New("trailing data")
	}
	if s.TBS.Class != asn1.ClassUniversal || s.TBS.Tag != asn1.TagSequence || !s.TBS.IsCompound {
		return nil, errors.New("the signed part is not a SEQUENCE")
	}
	if s.Sig.BitLength%8 != 0 {
		return nil, errors.New("signature with unused bits")
	}
	if rest, err := asn1.Unmarshal(s.SigAlgRaw.FullBytes, &s.SigAlg); err != nil || len(rest) > 0 {
		return nil, errors.New("malformed signature algorithm")
	}
	return &s, nil
}

// parseECCertificate reads a certificate with an EC key crypto/x509
// cannot read (RFC 5280 §4.1, RFC 5480, SEC 1 §C.2 for explicit
// parameters).
func parseECCertificate(der []byte) (*x509.Certificate, error) {
	s, err := parseSigned(der)
	if err != nil {
		return nil, err
	}
	var tbs tbsCertificate
	if rest, err := asn1.Unmarshal(s.TBS.FullBytes, &tbs); err != nil {
		return nil, fmt.Errorf("TBSCertificate: %w", err)
	} else if len(rest) > 0 {
		return nil, errors.New("TBSCertificate: trailing data")
	}
	// The key decides whether this certificate is ours to read.
	var head spkiHead
	if rest, err := asn1.Unmarshal(tbs.SPKI.FullBytes, &head); err != nil || len(rest) > 0 {
		return nil, errNotOurs
	}
	if !head.Algorithm.OID.Equal(oidECPublicKey) {
		return nil, errNotOurs
	}
	if head.Algorithm.Params.Tag == asn1.TagOID {
		var curve asn1.ObjectIdentifier
		if _, err := asn1.Unmarshal(head.Algorithm.Params.FullBytes, &curve); err == nil && x509Curves[curve.String()] {
			return nil, errNotOurs
		}
	}
	if head.Key.BitLength%8 != 0 {
		return nil, errors.New("public key with unused bits")
	}
	curve, point, err := lds.ParseECPublicKey(tbs.SPKI.FullBytes)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}

	if !bytes.Equal(tbs.SigAlg.FullBytes, s.SigAlgRaw.FullBytes) {
		return nil, errors.New("the inner and outer signature algorithms differ")
	}
	if tbs.Version < 0 || tbs.Version > 2 {
		return nil, fmt.Errorf("version %d", tbs.Version+1)
	}
	if tbs.Version < 2 && len(tbs.Extensions) > 0 {
		return nil, errors.New("extensions in a certificate before version 3")
	}
	if tbs.Version < 1 && (tbs.IssuerUID.BitLength > 0 || tbs.SubjectUID.BitLength > 0) {
		return nil, errors.New("unique identifiers in a version 1 certificate")
	}
	if tbs.Serial == nil {
		return nil, errors.New("no serial number")
	}
	if tbs.Serial.Sign() < 0 {
		// crypto/x509 refuses them too: the same rule for every key.
		return nil, errors.New("negative serial number")
	}
	c := &x509.Certificate{
		Raw:                     der,
		RawTBSCertificate:       s.TBS.FullBytes,
		RawSubjectPublicKeyInfo: tbs.SPKI.FullBytes,
		Signature:               s.Sig.Bytes,
		SignatureAlgorithm:      sigAlgEnum(s.SigAlg.Algorithm.String()),
		PublicKeyAlgorithm:      x509.ECDSA,
		Version:                 tbs.Version + 1,
		SerialNumber:            tbs.Serial,
		NotBefore:               tbs.Validity.NotBefore,
		NotAfter:                tbs.Validity.NotAfter,
		MaxPathLen:              -1,
	}
	if k := curve.ECDSA(point); k != nil {
		c.PublicKey = k
	} else {
		c.PublicKey = &ECPublicKey{Curve: curve, Point: point}
	}
	if c.RawIssuer, c.Issuer, err = parseName(tbs.Issuer); err != nil {
		return nil, fmt.Errorf("issuer: %w", err)
	}
	if c.RawSubject, c.Subject, err = parseName(tbs.Subject); err != nil {
		return nil, fmt.Errorf("subject: %w", err)
	}
	if err := parseExtensions(c, tbs.Extensions); err != nil {
		return nil, err
	}
	return c, nil
}

func parseName(v asn1.RawValue) ([]byte, pkix.Name, error) {
	var rdns pkix.RDNSequence
	rest, err := asn1.Unmarshal(v.FullBytes, &rdns)
	if err != nil {
		return nil, pkix.Name{}, err
	}
	if len(rest) > 0 {
		return nil, pkix.Name{}, errors.New("trailing data")
	}
	var n pkix.Name
	n.FillFromRDNSequence(&rdns)
	return v.FullBytes, n, nil
}

// parseExtensions reads the extensions the checks use, as crypto/x509
// does: key usage, basic constraints, subject and authority key
// identifiers. Other critical extensions are listed as unhandled.
func parseExtensions(c *x509.Certificate, exts []pkix.Extension) error {
	seen := map[string]bool{}
	for _, e := range exts {
		id := e.Id.String()
		if seen[id] {
			return fmt.Errorf("extension %s twice", id)
		}
		seen[id] = true
		c.Extensions = append(c.Extensions, e)
		var rest []byte
		var err error
		switch {
		case e.Id.Equal(oidExtKeyUsage):
			var bs asn1.BitString
			if rest, err = asn1.Unmarshal(e.Value, &bs); err == nil {
				for i := 0; i < 9; i++ {
					if bs.At(i) != 0 {
						c.KeyUsage |= x509.KeyUsage(1 << uint(i))
					}
				}
			}
		case e.Id.Equal(oidExtBasic):
			var bc basicConstraints
			if rest, err = asn1.Unmarshal(e.Value, &bc); err == nil {
				c.BasicConstraintsValid, c.IsCA = true, bc.IsCA
				if bc.MaxPathLen < -1 {
					err = errors.New("negative path length")
				}
				c.MaxPathLen, c.MaxPathLenZero = bc.MaxPathLen, bc.MaxPathLen == 0
			}
		case e.Id.Equal(oidExtSKI):
			rest, err = asn1.Unmarshal(e.Value, &c.SubjectKeyId)
		case e.Id.Equal(oidExtAKI):
			var aki authorityKeyID
			if rest, err = asn1.Unmarshal(e.Value, &aki); err == nil {
				c.AuthorityKeyId = aki.KeyID
			}
		default:
			if e.Critical {
				c.UnhandledCriticalExtensions = append(c.UnhandledCriticalExtensions, e.Id)
			}
		}
		if err == nil && len(rest) > 0 {
			err = errors.New("trailing data")
		}
		if err != nil {
			return fmt.Errorf("extension %s: %w", id, err)
		}
	}
	return nil
}

// sigAlgEnum names a signature algorithm as crypto/x509 does (for
// display; verification uses the identifier itself).
func sigAlgEnum(oid string) x509.SignatureAlgorithm {
	switch oid {
	case "1.2.840.10045.4.1":
		return x509.ECDSAWithSHA1
	case "1.2.840.10045.4.3.2":
		return x509.ECDSAWithSHA256
	case "1.2.840.10045.4.3.3":
		return x509.ECDSAWithSHA384
	case "1.2.840.10045.4.3.4":
		return x509.ECDSAWithSHA512
	case "1.2.840.113549.1.1.5":
		return x509.SHA1WithRSA
	case "1.2.840.113549.1.1.11":
		return x509.SHA256WithRSA
	case "1.2.840.113549.1.1.12":
		return x509.SHA384WithRSA
	case "1.2.840.113549.1.1.13":
		return x509.SHA512WithRSA
	case oidRSAPSS:
		return x509.SHA256WithRSAPSS
	}
	return x509.UnknownSignatureAlgorithm
}

// CheckSignatureFrom reports whether parent's key signed cert. It is the
// chain check for every certificate, whichever parser read it: crypto/x509's
// own method refuses Brainpool keys (and SHA-1 signatures, which older
// document signer certificates still carry and ICAO still allows).
func CheckSignatureFrom(cert, parent *x509.Certificate) error {
	return checkSigned(cert.Raw, parent)
}

// CheckCRLSignatureFrom reports whether issuer's key signed crl.
func CheckCRLSignatureFrom(crl *x509.RevocationList, issuer *x509.Certificate) error {
	return checkSigned(crl.Raw, issuer)
}

func checkSigned(der []byte, issuer *x509.Certificate) error {
	s, err := parseSigned(der)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrCertificate, err)
	}
	if !signatureOID(s.SigAlg.Algorithm) {
		return fmt.Errorf("%w: %v is not a signature algorithm", ErrAlgorithm, s.SigAlg.Algorithm)
	}
	return verifySignature(issuer.PublicKey, s.SigAlg, nil, s.TBS.FullBytes, s.Sig.Bytes)
}
