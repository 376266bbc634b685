package issuer

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"

	"github.com/checkpoint-edge/checkpoint/internal/chipsim/lds"
)

// CertKey is a certificate with its private key.
type CertKey struct {
	Cert *x509.Certificate
	Key  crypto.Signer
	// PSS makes signatures by this key RSASSA-PSS (RSA keys only).
	PSS bool
}

// PEM encodes the certificate.
func (c *CertKey) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Cert.Raw})
}

// CertOptions tune a certificate. Zero values take defaults.
type CertOptions struct {
	// Key is a key specification (see GenerateSigner); default rsa2048.
	Key string
	// Signer, when set, is used instead of generating a key.
	Signer crypto.Signer
	// Subject overrides the default distinguished name.
	Subject *pkix.Name
	// Serial overrides the random serial number.
	Serial *big.Int
	// NotBefore and NotAfter override the default validity around Now.
	NotBefore, NotAfter time.Time
	// Now is the reference time (default time.Now()).
	Now time.Time
	// PSS signs this certificate, and whatever its key signs later, with
	// RSASSA-PSS (SHA-256).
	PSS bool
	// DocumentTypes adds the ICAO document type list extension to a DS
	// certificate (for example "P", "ID").
	DocumentTypes []string
}

func (o CertOptions) now() time.Time {
	if o.Now.IsZero() {
		return time.Now()
	}
	return o.Now
}

func (o CertOptions) key() (crypto.Signer, error) {
	if o.Signer != nil {
		return o.Signer, nil
	}
	spec := o.Key
	if spec == "" {
		spec = "rsa2048"
	}
	return GenerateSigner(spec)
}

func randomSerial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 63))
	return n.Add(n, big.NewInt(1))
}

// subjectKeyID is the SHA-1 of the subject public key bits (RFC 5280
// §4.2.1.2 method 1).
func subjectKeyID(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &spki); err != nil {
		return nil, err
	}
	h := sha1.Sum(spki.PublicKey.Bytes)
	return h[:], nil
}

func create(tmpl *x509.Certificate, parent *CertKey, key crypto.Signer, pss bool) (*CertKey, error) {
	if tmpl.SubjectKeyId == nil {
		ski, err := subjectKeyID(key.Public())
		if err != nil {
			return nil, err
		}
		tmpl.SubjectKeyId = ski
	}
	signer, parentCert := key, tmpl
	signPSS := pss
	if parent != nil {
		signer, parentCert, signPSS = parent.Key, parent.Cert, parent.PSS
	}
	if _, isRSA := signer.(*rsa.PrivateKey); signPSS && isRSA {
		tmpl.SignatureAlgorithm = x509.SHA256WithRSAPSS
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parentCert, key.Public(), signer)
	if err != nil {
		return nil, fmt.Errorf("issuer: create certificate %q: %w", tmpl.Subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CertKey{Cert: cert, Key: key, PSS: pss}, nil
}

// NewCSCA makes a self-signed country signing CA: CA with path length 0,
// keyCertSign and cRLSign; valid from a year before Now for 15 years.
func NewCSCA(country string, o CertOptions) (*CertKey, error) {
	key, err := o.key()
	if err != nil {
		return nil, err
	}
	return create(cscaTemplate(country, o), nil, key, o.PSS)
}

func cscaTemplate(country string, o CertOptions) *x509.Certificate {
	now := o.now()
	subject := pkix.Name{Country: []string{country}, Organization: []string{"Checkpoint test state " + country}, CommonName: "CSCA " + country}
	if o.Subject != nil {
		subject = *o.Subject
	}
	t := &x509.Certificate{
		SerialNumber:          o.Serial,
		Subject:               subject,
		NotBefore:             now.AddDate(-1, 0, 0),
		NotAfter:              now.AddDate(14, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	o.override(t)
	return t
}

// override applies the serial number and validity of o, when set.
func (o CertOptions) override(t *x509.Certificate) {
	if t.SerialNumber == nil {
		t.SerialNumber = randomSerial()
	}
	if !o.NotBefore.IsZero() {
		t.NotBefore = o.NotBefore
	}
	if !o.NotAfter.IsZero() {
		t.NotAfter = o.NotAfter
	}
}

// NewDS makes a document signer certificate under csca: digitalSignature
// only, valid from 30 days before Now for 10 years (the key signs for a few
// months; the certificate must outlive the documents).
func NewDS(csca *CertKey, o CertOptions) (*CertKey, error) {
	key, err := o.key()
	if err != nil {
		return nil, err
	}
	now := o.now()
	country := csca.Cert.Subject.Country
	subject := pkix.Name{Country: country, Organization: csca.Cert.Subject.Organization, CommonName: "Document signer " + fmt.Sprint(country)}
	if o.Subject != nil {
		subject = *o.Subject
	}
	t := &x509.Certificate{
		SerialNumber: o.Serial,
		Subject:      subject,
		NotBefore:    now.AddDate(0, 0, -30),
		NotAfter:     now.AddDate(10, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	o.override(t)
	if len(o.DocumentTypes) > 0 {
		ext, err := documentTypeList(o.DocumentTypes)
		if err != nil {
			return nil, err
		}
		t.ExtraExtensions = append(t.ExtraExtensions, ext)
	}
	ck, err := create(t, csca, key, o.PSS)
	if err != nil {
		return nil, err
	}
	ck.PSS = o.PSS
	return ck, nil
}

// documentTypeList is DocumentTypeListSyntax ::= SEQUENCE { version
// INTEGER (v0), docTypeList SET OF PrintableString } (Doc 9303 Part 12).
func documentTypeList(types []string) (pkix.Extension, error) {
	elems := make([][]byte, len(types))
	for i, t := range types {
		elems[i] = mustMarshal(asn1.RawValue{Tag: asn1.TagPrintableString, Bytes: []byte(t)})
	}
	return pkix.Extension{Id: lds.OIDDocumentTypeList, Value: derSequence(mustMarshal(0), derSet(elems...))}, nil
}

// NewLinkCertificate certifies newCSCA's key under oldCSCA (a CSCA key
// rollover): subject and key of the new CSCA, issuer and signature of the
// old one.
func NewLinkCertificate(oldCSCA, newCSCA *CertKey) (*x509.Certificate, error) {
	t := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               newCSCA.Cert.Subject,
		NotBefore:             newCSCA.Cert.NotBefore,
		NotAfter:              oldCSCA.Cert.NotAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	ck, err := create(t, oldCSCA, newCSCA.Key, false)
	if err != nil {
		return nil, err
	}
	return ck.Cert, nil
}

// NewMasterListSigner makes the certificate that signs master lists:
// digitalSignature and the extended key usage id-icao-cscaMasterListSigningKey.
func NewMasterListSigner(csca *CertKey, o CertOptions) (*CertKey, error) {
	key, err := o.key()
	if err != nil {
		return nil, err
	}
	now := o.now()
	t := &x509.Certificate{
		SerialNumber:       randomSerial(),
		Subject:            pkix.Name{Country: csca.Cert.Subject.Country, Organization: csca.Cert.Subject.Organization, CommonName: "Master list signer"},
		NotBefore:          now.AddDate(0, 0, -30),
		NotAfter:           now.AddDate(3, 0, 0),
		KeyUsage:           x509.KeyUsageDigitalSignature,
		UnknownExtKeyUsage: []asn1.ObjectIdentifier{lds.OIDMasterListSigner},
	}
	return create(t, csca, key, o.PSS)
}

// NewRogueCSCA makes a self-signed CSCA with the same subject name, serial
// number, subject key identifier and validity as trusted, but its own key:
// what a forger would present so that a reader matching certificates by
// name (or by key identifier) instead of by signature accepts the forger's
// document signers. Its DS certificates name the trusted CSCA as issuer and
// carry its key identifier; only their signatures tell them apart.
func NewRogueCSCA(trusted *CertKey, o CertOptions) (*CertKey, error) {
	key, err := o.key()
	if err != nil {
		return nil, err
	}
	t := cscaTemplate("", CertOptions{Subject: &trusted.Cert.Subject, Serial: trusted.Cert.SerialNumber,
		NotBefore: trusted.Cert.NotBefore, NotAfter: trusted.Cert.NotAfter})
	t.SubjectKeyId = trusted.Cert.SubjectKeyId
	return create(t, nil, key, o.PSS)
}

// CRLOptions tune NewCRL.
type CRLOptions struct {
	Number                 int64 // default 1
	ThisUpdate, NextUpdate time.Time
}

// NewCRL makes a DER CRL signed by csca that revokes the given certificates.
// The default validity runs from an hour ago for 90 days.
func NewCRL(csca *CertKey, revoked []*x509.Certificate, o CRLOptions) ([]byte, error) {
	now := time.Now()
	if o.ThisUpdate.IsZero() {
		o.ThisUpdate = now.Add(-time.Hour)
	}
	if o.NextUpdate.IsZero() {
		o.NextUpdate = o.ThisUpdate.AddDate(0, 0, 90)
	}
	if o.Number == 0 {
		o.Number = 1
	}
	t := &x509.RevocationList{Number: big.NewInt(o.Number), ThisUpdate: o.ThisUpdate, NextUpdate: o.NextUpdate}
	for _, c := range revoked {
		t.RevokedCertificateEntries = append(t.RevokedCertificateEntries, x509.RevocationListEntry{
			SerialNumber: c.SerialNumber, RevocationTime: o.ThisUpdate, ReasonCode: 1, // keyCompromise
		})
	}
	if _, isRSA := csca.Key.(*rsa.PrivateKey); csca.PSS && isRSA {
		t.SignatureAlgorithm = x509.SHA256WithRSAPSS
	}
	return x509.CreateRevocationList(rand.Reader, t, csca.Cert, csca.Key)
}

// NewMasterList signs an ICAO CSCA master list: CscaMasterList ::=
// SEQUENCE { version INTEGER (v0), certList SET OF Certificate } inside a
// CMS SignedData of content type id-icao-cscaMasterList, with the signer's
// certificate and its issuer included.
func NewMasterList(signer *CertKey, issuerCert *x509.Certificate, cscas []*x509.Certificate) ([]byte, error) {
	ders := make([][]byte, len(cscas))
	for i, c := range cscas {
		ders[i] = c.Raw
	}
	version, _ := asn1.Marshal(0)
	content := derSequence(version, derSet(ders...))
	certs := []*x509.Certificate{signer.Cert}
	if issuerCert != nil {
		certs = append(certs, issuerCert)
	}
	return SignCMS(lds.OIDCSCAMasterList, content, signer, certs, SignOptions{})
}

// PKI is a ready test PKI for one country, with the negative material a
// reader's tests need.
type PKI struct {
	Country string
	// CSCA is the trusted country signing CA; DS signs documents under it.
	CSCA, DS *CertKey
	// MasterListSigner signs MasterList, which lists CSCA.
	MasterListSigner *CertKey
	MasterList       []byte
	// CRL (DER, by CSCA) revokes RevokedDS.
	CRL []byte
	// ExpiredDS is a DS whose validity ended yesterday.
	ExpiredDS *CertKey
	// RevokedDS is listed in CRL.
	RevokedDS *CertKey
	// ForeignCSCA is in no master list; UnchainedDS is issued by it.
	ForeignCSCA, UnchainedDS *CertKey
	// RogueCSCA has CSCA's subject and serial number but another key;
	// RogueDS is issued by it (its issuer name is CSCA's).
	RogueCSCA, RogueDS *CertKey
}

// PKIOptions tune NewPKI.
type PKIOptions struct {
	// CSCAKey, DSKey: key specifications (default rsa2048 and ecdsa-p256).
	CSCAKey, DSKey string
	// PSS makes RSA signatures RSASSA-PSS.
	PSS bool
	// Now is the reference time (default time.Now()).
	Now time.Time
}

// NewPKI builds a PKI for country (three-letter or two-letter code).
func NewPKI(country string, o PKIOptions) (*PKI, error) {
	if o.CSCAKey == "" {
		o.CSCAKey = "rsa2048"
	}
	if o.DSKey == "" {
		o.DSKey = "ecdsa-p256"
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	p := &PKI{Country: country}
	var err error
	co := CertOptions{Key: o.CSCAKey, PSS: o.PSS, Now: now}
	do := CertOptions{Key: o.DSKey, PSS: o.PSS, Now: now, DocumentTypes: []string{"P"}}
	if p.CSCA, err = NewCSCA(country, co); err != nil {
		return nil, err
	}
	if p.DS, err = NewDS(p.CSCA, do); err != nil {
		return nil, err
	}
	if p.MasterListSigner, err = NewMasterListSigner(p.CSCA, CertOptions{Key: "ecdsa-p256", Now: now}); err != nil {
		return nil, err
	}
	if p.MasterList, err = NewMasterList(p.MasterListSigner, p.CSCA.Cert, []*x509.Certificate{p.CSCA.Cert}); err != nil {
		return nil, err
	}
	expired := do
	expired.NotBefore, expired.NotAfter = now.AddDate(-5, 0, 0), now.AddDate(0, 0, -1)
	if p.ExpiredDS, err = NewDS(p.CSCA, expired); err != nil {
		return nil, err
	}
	if p.RevokedDS, err = NewDS(p.CSCA, do); err != nil {
		return nil, err
	}
	if p.CRL, err = NewCRL(p.CSCA, []*x509.Certificate{p.RevokedDS.Cert}, CRLOptions{ThisUpdate: now.Add(-time.Hour)}); err != nil {
		return nil, err
	}
	if p.ForeignCSCA, err = NewCSCA(country, CertOptions{Key: o.CSCAKey, Now: now,
		Subject: &pkix.Name{Country: []string{country}, Organization: []string{"Unknown authority"}, CommonName: "CSCA " + country + " (unknown)"}}); err != nil {
		return nil, err
	}
	if p.UnchainedDS, err = NewDS(p.ForeignCSCA, do); err != nil {
		return nil, err
	}
	if p.RogueCSCA, err = NewRogueCSCA(p.CSCA, CertOptions{Key: o.CSCAKey, Now: now}); err != nil {
		return nil, err
	}
	if p.RogueDS, err = NewDS(p.RogueCSCA, do); err != nil {
		return nil, err
	}
	return p, nil
}
