package pa

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// ErrTrust is returned when trust material cannot be read or is not
// what it claims to be.
var ErrTrust = errors.New("pa: bad trust material")

// Set is a complete set of trust anchors: CSCA certificates and the CRLs
// their states publish.
type Set struct {
	CSCAs  []*x509.Certificate
	CRLs   []*x509.RevocationList
	Source string    // where it came from (file, bundle sequence)
	Loaded time.Time // when it was installed
}

// Installer receives complete trust sets (from the trust bundle channel
// or an import); installing replaces the previous set atomically.
type Installer interface {
	InstallTrust(Set) error
}

// Store holds the trust anchors in force; safe for concurrent use.
type Store struct {
	mu  sync.RWMutex
	set *indexed
}

type indexed struct {
	Set
	byCountry map[string][]*x509.Certificate
}

var _ Installer = (*Store)(nil)

// NewStore returns an empty store (every document is NotVerifiable).
func NewStore() *Store { return &Store{set: index(Set{})} }

func index(s Set) *indexed {
	ix := &indexed{Set: s, byCountry: map[string][]*x509.Certificate{}}
	for _, c := range s.CSCAs {
		cc := Country(c)
		ix.byCountry[cc] = append(ix.byCountry[cc], c)
	}
	return ix
}

// Country is a certificate's subject country (upper case), "" if none.
func Country(c *x509.Certificate) string {
	if len(c.Subject.Country) == 0 {
		return ""
	}
	return strings.ToUpper(c.Subject.Country[0])
}

// InstallTrust implements Installer: set replaces the store's content.
// Certificates that are not CA certificates are refused: a master list
// or folder that smuggles a DS or leaf certificate in as an anchor is
// bad material, not a partial success.
func (s *Store) InstallTrust(set Set) error {
	for _, c := range set.CSCAs {
		if !c.IsCA || !c.BasicConstraintsValid {
			return fmt.Errorf("%w: %q is not a CA certificate", ErrTrust, c.Subject.String())
		}
	}
	if set.Loaded.IsZero() {
		set.Loaded = time.Now()
	}
	ix := index(set)
	s.mu.Lock()
	s.set = ix
	s.mu.Unlock()
	return nil
}

// Snapshot returns the set in force.
func (s *Store) Snapshot() Set {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.set.Set
}

// CSCAs returns the trusted CSCA certificates of a country.
func (s *Store) CSCAs(country string) []*x509.Certificate {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.set.byCountry[strings.ToUpper(country)]
}

// CRLs returns the CRLs in force.
func (s *Store) CRLs() []*x509.RevocationList {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.set.CRLs
}

// CountrySummary describes the anchors of one country.
type CountrySummary struct {
	Country   string    `json:"country"`
	CSCAs     int       `json:"cscas"`
	NotAfter  time.Time `json:"latest_not_after"`
	CRLs      int       `json:"crls"`
	CRLExpiry time.Time `json:"crl_next_update,omitzero"`
}

// Summary lists the countries with anchors, sorted.
func (s *Store) Summary() []CountrySummary {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []CountrySummary
	for cc, certs := range s.set.byCountry {
		sum := CountrySummary{Country: cc, CSCAs: len(certs)}
		for _, c := range certs {
			if c.NotAfter.After(sum.NotAfter) {
				sum.NotAfter = c.NotAfter
			}
			for _, crl := range s.set.CRLs {
				if crl.CheckSignatureFrom(c) == nil {
					sum.CRLs++
					if sum.CRLExpiry.IsZero() || crl.NextUpdate.Before(sum.CRLExpiry) {
						sum.CRLExpiry = crl.NextUpdate
					}
				}
			}
		}
		out = append(out, sum)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Country < out[j].Country })
	return out
}

// EncodePEM writes a set as one PEM file (certificates, then CRLs): the
// form the unit keeps on disk.
func EncodePEM(set Set) []byte {
	var buf bytes.Buffer
	for _, c := range set.CSCAs {
		pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	for _, r := range set.CRLs {
		pem.Encode(&buf, &pem.Block{Type: "X509 CRL", Bytes: r.Raw})
	}
	return buf.Bytes()
}

// maxTrustFile bounds one trust file (ICAO's master list is ~1 MB).
const maxTrustFile = 64 << 20

// Parse reads trust material in any supported form: an ICAO master list
// (CMS SignedData), PEM (certificates and CRLs), or one DER certificate
// or CRL. It returns what it found and, for master lists, the outcome of
// the list's own signature check.
func Parse(b []byte) (Set, *MasterListInfo, error) {
	if len(b) > maxTrustFile {
		return Set{}, nil, fmt.Errorf("%w: %d bytes", ErrTrust, len(b))
	}
	if bytes.Contains(b, []byte("-----BEGIN")) {
		s, err := parsePEM(b)
		return s, nil, err
	}
	if c, err := x509.ParseCertificate(b); err == nil {
		return Set{CSCAs: []*x509.Certificate{c}}, nil, nil
	}
	if r, err := x509.ParseRevocationList(b); err == nil {
		return Set{CRLs: []*x509.RevocationList{r}}, nil, nil
	}
	if ml, info, err := ParseMasterList(b); err == nil {
		return ml, info, nil
	} else if info != nil {
		return Set{}, info, err
	}
	return Set{}, nil, fmt.Errorf("%w: neither a master list, PEM, nor a DER certificate or CRL", ErrTrust)
}

func parsePEM(b []byte) (Set, error) {
	var s Set
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		switch blk.Type {
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(blk.Bytes)
			if err != nil {
				return Set{}, fmt.Errorf("%w: certificate: %w", ErrTrust, err)
			}
			s.CSCAs = append(s.CSCAs, c)
		case "X509 CRL":
			r, err := x509.ParseRevocationList(blk.Bytes)
			if err != nil {
				return Set{}, fmt.Errorf("%w: CRL: %w", ErrTrust, err)
			}
			s.CRLs = append(s.CRLs, r)
		}
	}
	if len(s.CSCAs) == 0 && len(s.CRLs) == 0 {
		return Set{}, fmt.Errorf("%w: no certificate or CRL in PEM", ErrTrust)
	}
	return s, nil
}

// LoadPath reads a file or a folder of trust files (every regular file;
// .crt .cer .der .pem .crl .ml .ldif-free) into one set.
func LoadPath(path string) (Set, []MasterListInfo, error) {
	st, err := os.Stat(path)
	if err != nil {
		return Set{}, nil, fmt.Errorf("%w: %w", ErrTrust, err)
	}
	files := []string{path}
	if st.IsDir() {
		ents, err := os.ReadDir(path)
		if err != nil {
			return Set{}, nil, fmt.Errorf("%w: %w", ErrTrust, err)
		}
		files = files[:0]
		for _, e := range ents {
			if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
				files = append(files, filepath.Join(path, e.Name()))
			}
		}
	}
	var out Set
	var infos []MasterListInfo
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return Set{}, nil, fmt.Errorf("%w: %w", ErrTrust, err)
		}
		s, info, err := Parse(b)
		if err != nil {
			return Set{}, nil, fmt.Errorf("%s: %w", filepath.Base(f), err)
		}
		if info != nil {
			infos = append(infos, *info)
		}
		out = Merge(out, s)
	}
	out.Source = path
	return out, infos, nil
}

// Merge returns the union of two sets, without duplicates.
func Merge(a, b Set) Set {
	seen := map[string]bool{}
	out := Set{Source: a.Source}
	for _, c := range append(append([]*x509.Certificate{}, a.CSCAs...), b.CSCAs...) {
		if !seen[string(c.Raw)] {
			seen[string(c.Raw)] = true
			out.CSCAs = append(out.CSCAs, c)
		}
	}
	for _, r := range append(append([]*x509.RevocationList{}, a.CRLs...), b.CRLs...) {
		if !seen[string(r.Raw)] {
			seen[string(r.Raw)] = true
			out.CRLs = append(out.CRLs, r)
		}
	}
	return out
}
