package issuer

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"sort"
	"time"

	"github.com/checkpoint-edge/checkpoint/internal/chipsim/lds"
)

// CMS SignedData (RFC 5652) as EF.SOD and master lists use it, written with
// encoding/asn1. SET OF elements are sorted by their encoding, as DER
// requires.

var (
	oidSignedData    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidContentType   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidMessageDigest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidSigningTime   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	oidRSAPSS        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}
	oidMGF1          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 8}
)

var digestOIDs = map[crypto.Hash]asn1.ObjectIdentifier{
	crypto.SHA1:   {1, 3, 14, 3, 2, 26},
	crypto.SHA224: {2, 16, 840, 1, 101, 3, 4, 2, 4},
	crypto.SHA256: {2, 16, 840, 1, 101, 3, 4, 2, 1},
	crypto.SHA384: {2, 16, 840, 1, 101, 3, 4, 2, 2},
	crypto.SHA512: {2, 16, 840, 1, 101, 3, 4, 2, 3},
}

var rsaSigOIDs = map[crypto.Hash]asn1.ObjectIdentifier{
	crypto.SHA1:   {1, 2, 840, 113549, 1, 1, 5},
	crypto.SHA224: {1, 2, 840, 113549, 1, 1, 14},
	crypto.SHA256: {1, 2, 840, 113549, 1, 1, 11},
	crypto.SHA384: {1, 2, 840, 113549, 1, 1, 12},
	crypto.SHA512: {1, 2, 840, 113549, 1, 1, 13},
}

var ecdsaSigOIDs = map[crypto.Hash]asn1.ObjectIdentifier{
	crypto.SHA1:   {1, 2, 840, 10045, 4, 1},
	crypto.SHA224: {1, 2, 840, 10045, 4, 3, 1},
	crypto.SHA256: {1, 2, 840, 10045, 4, 3, 2},
	crypto.SHA384: {1, 2, 840, 10045, 4, 3, 3},
	crypto.SHA512: {1, 2, 840, 10045, 4, 3, 4},
}

// digestAlgorithm is the AlgorithmIdentifier of a hash, parameters absent.
func digestAlgorithm(h crypto.Hash) (pkix.AlgorithmIdentifier, error) {
	oid, ok := digestOIDs[h]
	if !ok {
		return pkix.AlgorithmIdentifier{}, fmt.Errorf("%w: digest %v", ErrSpec, h)
	}
	return pkix.AlgorithmIdentifier{Algorithm: oid}, nil
}

// SignOptions tune SignCMS.
type SignOptions struct {
	// Hash is the digest (default SHA-256).
	Hash crypto.Hash
	// SubjectKeyID identifies the signer by subject key identifier
	// (SignerInfo version 3) instead of issuer and serial number (version 1).
	SubjectKeyID bool
	// SigningTime adds the signingTime attribute when set.
	SigningTime time.Time
}

// SignCMS returns a DER ContentInfo holding SignedData over content of type
// contentType, signed by signer (RSA PKCS#1 v1.5, RSA-PSS when signer.PSS,
// or ECDSA) with signed attributes contentType and messageDigest, and certs
// in the certificates field.
func SignCMS(contentType asn1.ObjectIdentifier, content []byte, signer *CertKey, certs []*x509.Certificate, o SignOptions) ([]byte, error) {
	if o.Hash == 0 {
		o.Hash = crypto.SHA256
	}
	digAlg, err := digestAlgorithm(o.Hash)
	if err != nil {
		return nil, err
	}
	h := o.Hash.New()
	h.Write(content)
	attrs := [][]byte{
		attribute(oidContentType, mustMarshal(contentType)),
		attribute(oidMessageDigest, mustMarshal(h.Sum(nil))),
	}
	if !o.SigningTime.IsZero() {
		attrs = append(attrs, attribute(oidSigningTime, mustMarshal(o.SigningTime.UTC())))
	}
	signedAttrs := derSet(attrs...) // signed as SET OF (tag 31)
	h = o.Hash.New()
	h.Write(signedAttrs)
	digest := h.Sum(nil)

	var sigAlg pkix.AlgorithmIdentifier
	var opts crypto.SignerOpts = o.Hash
	switch signer.Key.(type) {
	case *rsa.PrivateKey:
		if signer.PSS {
			params, err := pssParams(o.Hash)
			if err != nil {
				return nil, err
			}
			sigAlg = pkix.AlgorithmIdentifier{Algorithm: oidRSAPSS, Parameters: asn1.RawValue{FullBytes: params}}
			opts = &rsa.PSSOptions{SaltLength: o.Hash.Size(), Hash: o.Hash}
		} else {
			sigAlg = pkix.AlgorithmIdentifier{Algorithm: rsaSigOIDs[o.Hash], Parameters: asn1.NullRawValue}
		}
	case *ecdsa.PrivateKey:
		sigAlg = pkix.AlgorithmIdentifier{Algorithm: ecdsaSigOIDs[o.Hash]}
	default:
		return nil, fmt.Errorf("%w: signer key %T", ErrSpec, signer.Key)
	}
	sig, err := signer.Key.Sign(rand.Reader, digest, opts)
	if err != nil {
		return nil, err
	}

	version, sid := 1, issuerAndSerial(signer.Cert)
	if o.SubjectKeyID {
		version = 3
		sid = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, Bytes: signer.Cert.SubjectKeyId}
	}
	implicitAttrs := bytes.Clone(signedAttrs)
	implicitAttrs[0] = 0xA0 // [0] IMPLICIT SET OF Attribute
	si := derSequence(
		mustMarshal(version),
		mustMarshal(sid),
		mustMarshal(digAlg),
		implicitAttrs,
		mustMarshal(sigAlg),
		mustMarshal(sig),
	)
	certDERs := make([][]byte, len(certs))
	for i, c := range certs {
		certDERs[i] = c.Raw
	}
	certField := derSet(certDERs...)
	certField[0] = 0xA0 // [0] IMPLICIT CertificateSet
	eContent := asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: mustMarshal(content)}
	signedData := derSequence(
		mustMarshal(3), // version 3: eContentType is not id-data
		derSet(mustMarshal(digAlg)),
		derSequence(mustMarshal(contentType), mustMarshal(eContent)),
		certField,
		derSet(si),
	)
	return derSequence(mustMarshal(oidSignedData),
		mustMarshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: signedData})), nil
}

// pssParams is RSASSA-PSS-params with the hash, MGF1 with the same hash and
// a salt as long as the digest.
func pssParams(h crypto.Hash) ([]byte, error) {
	oid, ok := digestOIDs[h]
	if !ok {
		return nil, fmt.Errorf("%w: digest %v", ErrSpec, h)
	}
	hashAlg := pkix.AlgorithmIdentifier{Algorithm: oid, Parameters: asn1.NullRawValue}
	var p struct {
		Hash       pkix.AlgorithmIdentifier `asn1:"explicit,tag:0"`
		MGF        pkix.AlgorithmIdentifier `asn1:"explicit,tag:1"`
		SaltLength int                      `asn1:"explicit,tag:2"`
	}
	p.Hash = hashAlg
	p.MGF = pkix.AlgorithmIdentifier{Algorithm: oidMGF1, Parameters: asn1.RawValue{FullBytes: mustMarshal(hashAlg)}}
	p.SaltLength = h.Size()
	return asn1.Marshal(p)
}

func issuerAndSerial(c *x509.Certificate) asn1.RawValue {
	return asn1.RawValue{FullBytes: derSequence(c.RawIssuer, mustMarshal(c.SerialNumber))}
}

func attribute(oid asn1.ObjectIdentifier, value []byte) []byte {
	return derSequence(mustMarshal(oid), derSet(value))
}

func mustMarshal(v any) []byte {
	b, err := asn1.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("issuer: marshal %T: %v", v, err))
	}
	return b
}

// derTLV encodes a universal constructed element from its content.
func derTLV(tag byte, parts ...[]byte) []byte { return lds.EncodeTLV(uint32(tag), parts...) }

func derSequence(parts ...[]byte) []byte { return derTLV(0x30, parts...) }

// derSet sorts its elements by encoding (DER SET OF).
func derSet(elems ...[]byte) []byte {
	sorted := make([][]byte, len(elems))
	copy(sorted, elems)
	sort.Slice(sorted, func(i, j int) bool { return bytes.Compare(sorted[i], sorted[j]) < 0 })
	return derTLV(0x31, sorted...)
}
