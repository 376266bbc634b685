package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/checkpoint-edge/checkpoint/internal/atomicfile"
)

// UnitURIPrefix prefixes the URI SAN that names a unit in its certificate.
const UnitURIPrefix = "checkpoint:unit:"

// OperatorURIPrefix prefixes the URI SAN that names a headquarters
// operator (an analyst's or a console's certificate). An operator
// certificate carries OU "operator" and this URI and no unit URI, so it can
// read every unit's results and the live hit feed but can never upload
// results; a unit certificate can never act as an operator.
const OperatorURIPrefix = "checkpoint:operator:"

// Roles a fleet client certificate can carry.
const (
	RoleUnit     = "unit"
	RoleOperator = "operator"
)

// Default validities. Unit and server certificates are short enough that a
// stolen box's certificate expires on its own; the CA outlives many
// rotations.
const (
	DefaultCAValidity     = 10 * 365 * 24 * time.Hour
	DefaultServerValidity = 2 * 365 * 24 * time.Hour
	DefaultUnitValidity   = 2 * 365 * 24 * time.Hour
)

// clockSkew backdates NotBefore so that a unit whose clock runs a little
// behind still accepts a certificate issued minutes ago.
const clockSkew = time.Hour

// ValidUnitID reports whether id can name a unit: 1 to 64 characters from
// A-Z a-z 0-9 . _ -, so that it is safe in file names, URLs and logs.
func ValidUnitID(id string) error {
	if len(id) == 0 || len(id) > 64 {
		return fmt.Errorf("%w: %q", ErrBadUnitID, id)
	}
	for _, c := range id {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return fmt.Errorf("%w: %q", ErrBadUnitID, id)
		}
	}
	return nil
}

// CA is the fleet certificate authority.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// Issued is a certificate with its private key, both PEM-encoded.
type Issued struct {
	Cert    *x509.Certificate
	CertPEM []byte
	KeyPEM  []byte
}

// NewCA creates a self-signed fleet CA named commonName. validity <= 0
// means DefaultCAValidity.
func NewCA(commonName string, validity time.Duration) (*CA, error) {
	if validity <= 0 {
		validity = DefaultCAValidity
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: commonName, Organization: []string{"Checkpoint fleet"}},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true, // units and the hub are leaves; no sub-CAs
		SubjectKeyId:          keyID(&key.PublicKey),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("pki: create CA: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	return &CA{Cert: cert, Key: key}, nil
}

// CertPEM returns the CA certificate in PEM form, the file units and the hub
// pin.
func (ca *CA) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw})
}

// WriteFiles writes the CA certificate (0644) and key (0600) atomically.
func (ca *CA) WriteFiles(certPath, keyPath string) error {
	keyPEM, err := encodeKey(ca.Key)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(keyPath, keyPEM, 0o600); err != nil {
		return fmt.Errorf("pki: write CA key: %w", err)
	}
	if err := atomicfile.WriteFile(certPath, ca.CertPEM(), 0o644); err != nil {
		return fmt.Errorf("pki: write CA certificate: %w", err)
	}
	return nil
}

// LoadCA reads a CA certificate and its key and checks that they belong
// together and that the certificate may sign.
func LoadCA(certPath, keyPath string) (*CA, error) {
	cert, err := LoadCert(certPath)
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, fmt.Errorf("pki: read CA key: %w", err)
	}
	key, err := parseKey(keyPEM)
	if err != nil {
		return nil, err
	}
	if !cert.IsCA || cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, fmt.Errorf("%w: %s is not a CA certificate", ErrNotCA, certPath)
	}
	if !samePublicKey(cert.PublicKey, key.Public()) {
		return nil, fmt.Errorf("%w: key %s does not match %s", ErrNotCA, keyPath, certPath)
	}
	return &CA{Cert: cert, Key: key}, nil
}

// IssueServer issues the hub's server certificate. The SANs always include
// localhost and 127.0.0.1 (and ::1); names adds DNS names or IP addresses.
// validity <= 0 means DefaultServerValidity.
func (ca *CA) IssueServer(names []string, validity time.Duration) (*Issued, error) {
	if validity <= 0 {
		validity = DefaultServerValidity
	}
	dns := []string{"localhost"}
	ips := []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if ip := net.ParseIP(n); ip != nil {
			ips = append(ips, ip)
		} else {
			dns = append(dns, n)
		}
	}
	cn := "checkpoint-hub"
	if len(dns) > 1 {
		cn = dns[1]
	}
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: cn},
		DNSNames:    dns,
		IPAddresses: ips,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	return ca.issue(tmpl, validity)
}

// IssueUnit issues a unit's client certificate: CN = unitID and URI SAN
// checkpoint:unit:<unitID>. validity <= 0 means DefaultUnitValidity.
func (ca *CA) IssueUnit(unitID string, validity time.Duration) (*Issued, error) {
	if err := ValidUnitID(unitID); err != nil {
		return nil, err
	}
	if validity <= 0 {
		validity = DefaultUnitValidity
	}
	u, err := url.Parse(UnitURIPrefix + unitID)
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: unitID, OrganizationalUnit: []string{"unit"}},
		URIs:        []*url.URL{u},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	return ca.issue(tmpl, validity)
}

// IssueOperator issues a headquarters operator's client certificate: CN =
// id, OU = operator, URI SAN checkpoint:operator:<id>. validity <= 0 means
// DefaultUnitValidity.
func (ca *CA) IssueOperator(id string, validity time.Duration) (*Issued, error) {
	if err := ValidUnitID(id); err != nil {
		return nil, err
	}
	if validity <= 0 {
		validity = DefaultUnitValidity
	}
	u, err := url.Parse(OperatorURIPrefix + id)
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: id, OrganizationalUnit: []string{RoleOperator}},
		URIs:        []*url.URL{u},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	return ca.issue(tmpl, validity)
}

func (ca *CA) issue(tmpl *x509.Certificate, validity time.Duration) (*Issued, error) {
	if ca == nil || ca.Cert == nil || ca.Key == nil {
		return nil, ErrNotCA
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	now := time.Now()
	tmpl.SerialNumber = serial()
	tmpl.NotBefore = now.Add(-clockSkew)
	tmpl.NotAfter = now.Add(validity)
	if tmpl.NotAfter.After(ca.Cert.NotAfter) {
		// A leaf outliving its CA would fail verification on that day anyway;
		// say so at issue time instead.
		tmpl.NotAfter = ca.Cert.NotAfter
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.BasicConstraintsValid = true
	tmpl.SubjectKeyId = keyID(&key.PublicKey)
	tmpl.AuthorityKeyId = ca.Cert.SubjectKeyId
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("pki: issue: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, err
	}
	return &Issued{
		Cert:    cert,
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  keyPEM,
	}, nil
}

// WriteFiles writes the certificate (0644) and key (0600) atomically.
func (i *Issued) WriteFiles(certPath, keyPath string) error {
	if err := atomicfile.WriteFile(keyPath, i.KeyPEM, 0o600); err != nil {
		return fmt.Errorf("pki: write key: %w", err)
	}
	if err := atomicfile.WriteFile(certPath, i.CertPEM, 0o644); err != nil {
		return fmt.Errorf("pki: write certificate: %w", err)
	}
	return nil
}

// TLSCertificate returns the pair as a tls.Certificate.
func (i *Issued) TLSCertificate() (tls.Certificate, error) {
	c, err := tls.X509KeyPair(i.CertPEM, i.KeyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("pki: %w", err)
	}
	return c, nil
}

// LoadCert reads the first certificate of a PEM file.
func LoadCert(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pki: read certificate: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%w: %s holds no CERTIFICATE", ErrPEM, path)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("pki: %s: %w", path, err)
	}
	return c, nil
}

// LoadPool reads every certificate of a PEM file into a pool: the pinned
// fleet CA (or, during a CA rotation, old and new CAs in one file).
func LoadPool(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pki: read CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%w: %s holds no certificate", ErrPEM, path)
	}
	return pool, nil
}

// ServerConfig is the hub's TLS configuration: TLS 1.3 only, and every client
// must present a certificate that chains to the CA in caFile.
func ServerConfig(certFile, keyFile, caFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("pki: server key pair: %w", err)
	}
	pool, err := LoadPool(caFile)
	if err != nil {
		return nil, err
	}
	return NewServerConfig(cert, pool), nil
}

// NewServerConfig is ServerConfig for material already in memory.
func NewServerConfig(cert tls.Certificate, clientCAs *x509.CertPool) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    clientCAs,
	}
}

// ClientConfig is a unit's TLS configuration: TLS 1.3 only, the server must
// chain to the pinned CA in caFile (the system roots are not trusted), and
// the unit presents its own certificate.
func ClientConfig(certFile, keyFile, caFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("pki: client key pair: %w", err)
	}
	pool, err := LoadPool(caFile)
	if err != nil {
		return nil, err
	}
	return NewClientConfig(cert, pool), nil
}

// NewClientConfig is ClientConfig for material already in memory.
func NewClientConfig(cert tls.Certificate, rootCAs *x509.CertPool) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		RootCAs:      rootCAs,
	}
}

// UnitID returns the unit id of the peer of a server-side connection. It
// trusts only a verified chain (so it must be used with ServerConfig) and
// requires the CN and the checkpoint:unit: URI SAN to agree.
func UnitID(cs *tls.ConnectionState) (string, error) {
	if cs == nil || len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) == 0 {
		return "", ErrNoPeerCert
	}
	return UnitIDFromCert(cs.VerifiedChains[0][0])
}

// UnitIDFromCert reads the unit id of a certificate already verified by the
// caller.
func UnitIDFromCert(c *x509.Certificate) (string, error) {
	id, role, err := peerFromCert(c)
	if err != nil {
		return "", err
	}
	if role != RoleUnit {
		return "", fmt.Errorf("%w: an operator certificate", ErrNotUnitCert)
	}
	return id, nil
}

// Peer returns the id and role (RoleUnit or RoleOperator) of the peer of a
// server-side connection, from a verified chain only.
func Peer(cs *tls.ConnectionState) (id, role string, err error) {
	if cs == nil || len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) == 0 {
		return "", "", ErrNoPeerCert
	}
	return peerFromCert(cs.VerifiedChains[0][0])
}

// peerFromCert reads the one checkpoint: URI SAN of a verified client
// certificate; the CN must agree with it, and it must allow client auth.
func peerFromCert(c *x509.Certificate) (id, role string, err error) {
	for _, u := range c.URIs {
		s := u.String()
		v, r := "", ""
		if x, ok := strings.CutPrefix(s, UnitURIPrefix); ok {
			v, r = x, RoleUnit
		} else if x, ok := strings.CutPrefix(s, OperatorURIPrefix); ok {
			v, r = x, RoleOperator
		} else {
			continue
		}
		if id != "" {
			return "", "", fmt.Errorf("%w: several checkpoint identities", ErrNotUnitCert)
		}
		id, role = v, r
	}
	if id == "" {
		return "", "", ErrNotUnitCert
	}
	if err := ValidUnitID(id); err != nil {
		return "", "", fmt.Errorf("%w: %w", ErrNotUnitCert, err)
	}
	if c.Subject.CommonName != id {
		return "", "", fmt.Errorf("%w: common name and URI disagree", ErrNotUnitCert)
	}
	if role == RoleOperator && !slices.Contains(c.Subject.OrganizationalUnit, RoleOperator) {
		return "", "", fmt.Errorf("%w: operator URI without OU=operator", ErrNotUnitCert)
	}
	clientAuth := false
	for _, u := range c.ExtKeyUsage {
		if u == x509.ExtKeyUsageClientAuth {
			clientAuth = true
		}
	}
	if !clientAuth {
		return "", "", fmt.Errorf("%w: not a client certificate", ErrNotUnitCert)
	}
	return id, role, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic("pki: crypto/rand failed: " + err.Error())
	}
	return n
}

func keyID(pub *ecdsa.PublicKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil
	}
	sum := sha256.Sum256(der)
	return sum[:20]
}

func encodeKey(k crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("pki: encode key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

func parseKey(b []byte) (crypto.Signer, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("%w: no private key", ErrPEM)
	}
	var k any
	var err error
	switch blk.Type {
	case "PRIVATE KEY":
		k, err = x509.ParsePKCS8PrivateKey(blk.Bytes)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(blk.Bytes)
	default:
		return nil, fmt.Errorf("%w: unexpected block %q", ErrPEM, blk.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("pki: parse key: %w", err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, errors.New("pki: key cannot sign")
	}
	return s, nil
}

func samePublicKey(a, b any) bool {
	type eq interface{ Equal(crypto.PublicKey) bool }
	e, ok := a.(eq)
	return ok && e.Equal(b)
}
