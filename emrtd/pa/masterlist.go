package pa

import (
	"crypto/x509"
	"encoding/asn1"
	"fmt"
)

// MasterListInfo describes a master list and its own signature.
type MasterListInfo struct {
	Signer      string `json:"signer"`
	Country     string `json:"country"`
	Entries     int    `json:"entries"`
	SignatureOK bool   `json:"signature_ok"`
	// SignerChained is true when the list's signer certificate is signed
	// by a CSCA the list itself contains (ICAO's self-consistency check).
	SignerChained bool   `json:"signer_chained"`
	Problem       string `json:"problem,omitempty"`
}

type cscaMasterList struct {
	Version  int
	CertList []asn1.RawValue `asn1:"set"`
}

// ParseMasterList parses an ICAO CSCA master list (Doc 9303 Part 12 §9):
// a CMS SignedData whose content is a set of CSCA certificates, signed by
// a master list signer. The list's signature is checked and reported;
// a list whose signature does not verify is refused.
func ParseMasterList(der []byte) (Set, *MasterListInfo, error) {
	sd, err := ParseSignedData(der)
	if err != nil {
		return Set{}, nil, err
	}
	if !sd.ContentType.Equal(oidCSCAMasterList) {
		return Set{}, nil, fmt.Errorf("%w: content %v is not a CSCA master list", ErrTrust, sd.ContentType)
	}
	info := &MasterListInfo{}
	var ml cscaMasterList
	if _, err := asn1.Unmarshal(sd.Content, &ml); err != nil {
		return Set{}, info, fmt.Errorf("%w: master list content: %w", ErrTrust, err)
	}
	var set Set
	for _, raw := range ml.CertList {
		c, err := x509.ParseCertificate(raw.FullBytes)
		if err != nil {
			// Lists carry certificates on curves Go cannot parse; they
			// are left out and counted, not fatal to the others.
			info.Problem = fmt.Sprintf("%d entries could not be parsed", countBad(ml.CertList))
			continue
		}
		if c.IsCA {
			set.CSCAs = append(set.CSCAs, c)
		}
	}
	info.Entries = len(set.CSCAs)
	signer, err := signerCert(sd)
	if err != nil {
		return Set{}, info, fmt.Errorf("%w: master list signer: %w", ErrTrust, err)
	}
	info.Signer, info.Country = signer.Subject.String(), Country(signer)
	if err := checkSignerInfo(sd, signer); err != nil {
		info.Problem = err.Error()
		return Set{}, info, fmt.Errorf("%w: master list signature: %w", ErrTrust, err)
	}
	info.SignatureOK = true
	for _, c := range set.CSCAs {
		if signer.CheckSignatureFrom(c) == nil {
			info.SignerChained = true
			break
		}
	}
	return set, info, nil
}

func countBad(raws []asn1.RawValue) int {
	n := 0
	for _, r := range raws {
		if _, err := x509.ParseCertificate(r.FullBytes); err != nil {
			n++
		}
	}
	return n
}
