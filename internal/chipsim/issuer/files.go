package issuer

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/checkpoint-edge/checkpoint/internal/chipsim/ecc"
)

// MarshalPrivateKeyPEM encodes a key: PKCS#8 ("PRIVATE KEY") for RSA and
// NIST ECDSA, RFC 5915 ("EC PRIVATE KEY", named curve) for *ecc.PrivateKey,
// which may be a Brainpool key.
func MarshalPrivateKeyPEM(k crypto.PrivateKey) ([]byte, error) {
	if e, ok := k.(*ecc.PrivateKey); ok {
		der, err := e.MarshalSEC1()
		if err != nil {
			return nil, err
		}
		return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), nil
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParsePrivateKeyPEM decodes what MarshalPrivateKeyPEM writes, and PKCS#1
// RSA keys. EC keys in "EC PRIVATE KEY" blocks come back as *ecc.PrivateKey.
func ParsePrivateKeyPEM(b []byte) (crypto.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("%w: no PEM block", ErrSpec)
	}
	switch blk.Type {
	case "EC PRIVATE KEY":
		return ecc.ParseSEC1(blk.Bytes)
	case "RSA PRIVATE KEY":
		return x509.ParsePKCS1PrivateKey(blk.Bytes)
	case "PRIVATE KEY":
		return x509.ParsePKCS8PrivateKey(blk.Bytes)
	}
	return nil, fmt.Errorf("%w: PEM block %q", ErrSpec, blk.Type)
}

// LoadCertKey reads a certificate and its private key from PEM files.
func LoadCertKey(certPath, keyPath string) (*CertKey, error) {
	cb, err := os.ReadFile(certPath)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(cb)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%w: %s holds no certificate", ErrSpec, certPath)
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, err
	}
	kb, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, err
	}
	key, err := ParsePrivateKeyPEM(kb)
	if err != nil {
		return nil, err
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: %s is not a signing key", ErrSpec, keyPath)
	}
	return &CertKey{Cert: cert, Key: signer, PSS: cert.SignatureAlgorithm == x509.SHA256WithRSAPSS}, nil
}

// PKI file names written by WriteFiles.
const (
	FileCSCA          = "csca.pem"
	FileDSCert        = "ds.pem"
	FileDSKey         = "ds.key"
	FileMasterList    = "masterlist.ml" // CMS, DER
	FileCRL           = "csca.crl"      // DER
	FileRogueCSCA     = "csca-rogue.pem"
	FileForeignCSCA   = "csca-foreign.pem"
	FileMasterListSig = "mlsigner.pem"
)

// WriteFiles writes the PKI to dir (created 0700): the trust material a
// reader needs (CSCA, master list, CRL) and every DS with its key, the
// negative ones as ds-expired, ds-revoked, ds-unchained and ds-rogue.
func (p *PKI) WriteFiles(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	var errs []error
	put := func(name string, data []byte, mode os.FileMode) {
		errs = append(errs, os.WriteFile(filepath.Join(dir, name), data, mode))
	}
	putCK := func(base string, ck *CertKey) {
		put(base+".pem", ck.PEM(), 0o644)
		k, err := MarshalPrivateKeyPEM(ck.Key)
		errs = append(errs, err)
		put(base+".key", k, 0o600)
	}
	put(FileCSCA, p.CSCA.PEM(), 0o644)
	put(FileMasterList, p.MasterList, 0o644)
	put(FileCRL, p.CRL, 0o644)
	put(FileMasterListSig, p.MasterListSigner.PEM(), 0o644)
	put(FileRogueCSCA, p.RogueCSCA.PEM(), 0o644)
	put(FileForeignCSCA, p.ForeignCSCA.PEM(), 0o644)
	putCK("ds", p.DS)
	putCK("ds-expired", p.ExpiredDS)
	putCK("ds-revoked", p.RevokedDS)
	putCK("ds-unchained", p.UnchainedDS)
	putCK("ds-rogue", p.RogueDS)
	return errors.Join(errs...)
}
