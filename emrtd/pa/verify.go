package pa

import (
	"bytes"
	"crypto/subtle"
	"crypto/x509"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/checkpoint-edge/checkpoint/emrtd/tlv"
)

// Status is the outcome of passive authentication.
type Status string

// Outcomes.
const (
	Valid         Status = "valid"
	Invalid       Status = "invalid"
	NotVerifiable Status = "not_verifiable"
)

// Step names, in the order they run.
const (
	StepSOD        = "sod_structure"
	StepSignature  = "sod_signature"
	StepChain      = "ds_chain"
	StepDSValidity = "ds_validity"
	StepCSCAValid  = "csca_validity"
	StepKeyUsage   = "key_usage"
	StepCRL        = "revocation"
	StepHashes     = "data_group_hashes"
)

// Step is the outcome of one check.
type Step struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Warn   bool   `json:"warning,omitempty"` // passed, with a remark (no CRL for the state)
	Skip   bool   `json:"skipped,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// Result is the outcome of passive authentication with every step.
type Result struct {
	Status Status `json:"status"`
	// Reason is the first failure in words (empty when Valid).
	Reason       string `json:"reason,omitempty"`
	FailedStep   string `json:"failed_step,omitempty"`
	FailedGroups []int  `json:"failed_groups,omitempty"`
	// Verified are the data groups whose hash matched; Unread are
	// groups the SOD lists that were not read (normal for DG3/DG4).
	Verified []int  `json:"verified_groups,omitempty"`
	Unread   []int  `json:"unread_groups,omitempty"`
	Steps    []Step `json:"steps"`
	Country  string `json:"country,omitempty"`
	HashAlg  string `json:"hash_algorithm,omitempty"`
	DS       string `json:"document_signer,omitempty"`
	DSSerial string `json:"document_signer_serial,omitempty"`
	CSCA     string `json:"csca,omitempty"`
}

// Options tune verification.
type Options struct {
	// Now is the time validity is checked at (time.Now if zero).
	Now time.Time
	// Country is the issuing state from the MRZ; when set, the DS must
	// belong to it (a Utopian passport signed by another state's DS is
	// invalid even if that state is trusted).
	Country string
	// RequireCRL makes a missing CRL for the issuing state a failure
	// rather than a warning.
	RequireCRL bool
}

// ErrSOD is returned when EF.SOD cannot be parsed at all.
var ErrSOD = errors.New("pa: EF.SOD malformed")

// SOD is a parsed document security object.
type SOD struct {
	Signed     *SignedData
	LDS        *LDSSecurityObject
	DS         *x509.Certificate
	DSParseErr error
}

// ParseSOD unwraps EF.SOD (tag 77) and parses the SignedData, the LDS
// security object and the DS certificate it carries.
func ParseSOD(b []byte) (*SOD, error) {
	t, err := tlv.Parse(b)
	if err != nil || t.Tag != 0x77 {
		if err == nil {
			err = fmt.Errorf("tag %X", t.Tag)
		}
		return nil, fmt.Errorf("%w: %w", ErrSOD, err)
	}
	sd, err := ParseSignedData(t.Value)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSOD, err)
	}
	if !sd.ContentType.Equal(oidLDSSecurityObj) {
		return nil, fmt.Errorf("%w: content %v is not an LDS security object", ErrSOD, sd.ContentType)
	}
	lds, err := ParseLDSSecurityObject(sd.Content)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSOD, err)
	}
	s := &SOD{Signed: sd, LDS: lds}
	s.DS, s.DSParseErr = signerCert(sd)
	return s, nil
}

// signerCert finds the signer's certificate among those carried.
func signerCert(sd *SignedData) (*x509.Certificate, error) {
	var firstErr error
	for _, raw := range sd.Certs {
		c, err := x509.ParseCertificate(raw)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		s := sd.Signer
		if s.Serial != nil && c.SerialNumber.Cmp(s.Serial) == 0 && bytes.Equal(c.RawIssuer, s.IssuerRaw) {
			return c, nil
		}
		if s.SubjectKeyID != nil && bytes.Equal(c.SubjectKeyId, s.SubjectKeyID) {
			return c, nil
		}
	}
	if firstErr != nil {
		return nil, fmt.Errorf("signer certificate unreadable: %w", firstErr)
	}
	return nil, errors.New("the signer's certificate is not in the SignedData")
}

// checkSignerInfo verifies the signer info's signature (and signed
// attributes) over the content.
func checkSignerInfo(sd *SignedData, cert *x509.Certificate) error {
	s := sd.Signer
	msg := sd.Content
	if s.SignedAttrs != nil {
		h, err := HashByOID(s.DigestAlg)
		if err != nil {
			return err
		}
		d := h.New()
		d.Write(sd.Content)
		if subtle.ConstantTimeCompare(d.Sum(nil), s.MessageDigest) != 1 {
			return errors.New("the signed message digest does not match the content")
		}
		if s.AttrContentType != nil && !s.AttrContentType.Equal(sd.ContentType) {
			return errors.New("the signed content type does not match the content")
		}
		msg = s.SignedAttrs
	}
	if err := verifySignature(publicKey(cert), s.SignatureAlg, s.DigestAlg, msg, s.Signature); err != nil {
		return fmt.Errorf("signature does not verify with the document signer's key: %w", err)
	}
	return nil
}

// Verify runs passive authentication of an SOD over the data groups read
// (number → file bytes as read from the chip).
func Verify(sodBytes []byte, groups map[int][]byte, store *Store, opt Options) Result {
	now := opt.Now
	if now.IsZero() {
		now = time.Now()
	}
	r := Result{Status: Valid}
	fail := func(step, reason string) Result {
		r.Steps = append(r.Steps, Step{Name: step, Detail: reason})
		if r.Status == Valid {
			r.Status, r.FailedStep, r.Reason = Invalid, step, reason
		}
		return r
	}
	ok := func(step, detail string) { r.Steps = append(r.Steps, Step{Name: step, OK: true, Detail: detail}) }

	sod, err := ParseSOD(sodBytes)
	if err != nil {
		return fail(StepSOD, "EF.SOD is malformed: "+err.Error())
	}
	if sod.DS == nil {
		return fail(StepSOD, "document signer certificate: "+sod.DSParseErr.Error())
	}
	r.DS, r.DSSerial = sod.DS.Subject.String(), sod.DS.SerialNumber.Text(16)
	r.Country = Country(sod.DS)
	if h, err := HashByOID(sod.LDS.HashAlg); err == nil {
		r.HashAlg = h.String()
	}
	ok(StepSOD, fmt.Sprintf("LDS security object v%d, %d data group hashes", sod.LDS.Version, len(sod.LDS.Hashes)))

	// 1. The SOD's signature with the DS key.
	if err := checkSignerInfo(sod.Signed, sod.DS); err != nil {
		fail(StepSignature, "EF.SOD "+err.Error())
	} else {
		ok(StepSignature, "signed by "+r.DS)
	}

	// 2. Data group hashes: independent of the chain, always reported.
	hashStep := checkHashes(sod.LDS, groups, &r)

	// 3. DS → CSCA by signature.
	if opt.Country != "" && r.Country != "" && !sameState(opt.Country, r.Country) {
		fail(StepChain, fmt.Sprintf("the document signer belongs to %s, the document to %s", r.Country, opt.Country))
		r.Steps = append(r.Steps, hashStep)
		return r
	}
	country := r.Country
	if country == "" {
		country = opt.Country
	}
	candidates := store.CSCAs(country)
	if len(candidates) == 0 {
		r.Steps = append(r.Steps, Step{Name: StepChain, Skip: true, Detail: "no CSCA certificate of " + orUnknown(country) + " is trusted"})
		r.Steps = append(r.Steps, hashStep)
		if r.Status == Valid {
			r.Status = NotVerifiable
			r.Reason = "no CSCA of " + orUnknown(country) + " is trusted: the chip's signature cannot be checked"
			if !hashStep.OK {
				r.Status, r.FailedStep, r.Reason = Invalid, StepHashes, hashStep.Detail
			}
		}
		return r
	}
	var csca *x509.Certificate
	var lastErr error
	for _, c := range orderCandidates(candidates, sod.DS) {
		if err := sod.DS.CheckSignatureFrom(c); err == nil {
			csca = c
			break
		} else {
			lastErr = err
		}
	}
	if csca == nil {
		fail(StepChain, fmt.Sprintf("the document signer certificate is not signed by any trusted CSCA of %s (%d tried: %v)", country, len(candidates), lastErr))
		r.Steps = append(r.Steps, hashStep)
		return r
	}
	r.CSCA = csca.Subject.String()
	ok(StepChain, "signed by CSCA "+r.CSCA)

	// 4. Validity periods.
	if now.Before(sod.DS.NotBefore) || now.After(sod.DS.NotAfter) {
		fail(StepDSValidity, fmt.Sprintf("the document signer certificate is valid %s to %s, not now", day(sod.DS.NotBefore), day(sod.DS.NotAfter)))
	} else {
		ok(StepDSValidity, "until "+day(sod.DS.NotAfter))
	}
	if now.Before(csca.NotBefore) || now.After(csca.NotAfter) {
		fail(StepCSCAValid, fmt.Sprintf("the CSCA certificate is valid %s to %s, not now", day(csca.NotBefore), day(csca.NotAfter)))
	} else if sod.DS.NotBefore.Before(csca.NotBefore) {
		fail(StepCSCAValid, "the document signer certificate predates its CSCA")
	} else {
		ok(StepCSCAValid, "until "+day(csca.NotAfter))
	}

	// 5. Key usage.
	switch {
	case sod.DS.KeyUsage != 0 && sod.DS.KeyUsage&x509.KeyUsageDigitalSignature == 0:
		fail(StepKeyUsage, "the document signer certificate is not for digital signatures")
	case !csca.IsCA || (csca.KeyUsage != 0 && csca.KeyUsage&x509.KeyUsageCertSign == 0):
		fail(StepKeyUsage, "the CSCA certificate may not sign certificates")
	case sod.DS.IsCA:
		fail(StepKeyUsage, "the document signer certificate is a CA certificate")
	default:
		ok(StepKeyUsage, "")
	}

	// 6. Revocation: CRLs signed by the DS's own CSCA.
	var crls []*x509.RevocationList
	for _, crl := range store.CRLs() {
		if crl.CheckSignatureFrom(csca) == nil {
			crls = append(crls, crl)
		}
	}
	switch {
	case len(crls) == 0 && opt.RequireCRL:
		fail(StepCRL, "no CRL of "+country+" is installed")
	case len(crls) == 0:
		r.Steps = append(r.Steps, Step{Name: StepCRL, OK: true, Warn: true, Detail: "no CRL of " + country + " installed: revocation not checked"})
	default:
		revoked, stale := false, false
		for _, crl := range crls {
			if !crl.NextUpdate.IsZero() && now.After(crl.NextUpdate) {
				stale = true
			}
			for _, e := range crl.RevokedCertificateEntries {
				if e.SerialNumber.Cmp(sod.DS.SerialNumber) == 0 {
					revoked = true
				}
			}
		}
		switch {
		case revoked:
			fail(StepCRL, "the document signer certificate is revoked (CRL of "+country+")")
		case stale:
			r.Steps = append(r.Steps, Step{Name: StepCRL, OK: true, Warn: true, Detail: "not revoked, but the CRL is past its next update"})
		default:
			ok(StepCRL, "not revoked")
		}
	}
	r.Steps = append(r.Steps, hashStep)
	if !hashStep.OK && r.Status == Valid {
		r.Status, r.FailedStep, r.Reason = Invalid, StepHashes, hashStep.Detail
	}
	return r
}

func checkHashes(lds *LDSSecurityObject, groups map[int][]byte, r *Result) Step {
	h, err := HashByOID(lds.HashAlg)
	if err != nil {
		return Step{Name: StepHashes, Detail: "hash algorithm: " + err.Error()}
	}
	var bad []string
	nums := make([]int, 0, len(groups))
	for n := range groups {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	for _, n := range nums {
		want, listed := lds.Hashes[n]
		if !listed {
			r.FailedGroups = append(r.FailedGroups, n)
			bad = append(bad, fmt.Sprintf("DG%d is not listed in the signed security object", n))
			continue
		}
		d := h.New()
		d.Write(groups[n])
		if subtle.ConstantTimeCompare(d.Sum(nil), want) != 1 {
			r.FailedGroups = append(r.FailedGroups, n)
			bad = append(bad, fmt.Sprintf("DG%d does not match the signed hash", n))
			continue
		}
		r.Verified = append(r.Verified, n)
	}
	for n := range lds.Hashes {
		if _, read := groups[n]; !read {
			r.Unread = append(r.Unread, n)
		}
	}
	sort.Ints(r.Unread)
	if len(bad) > 0 {
		return Step{Name: StepHashes, Detail: strings.Join(bad, "; ")}
	}
	return Step{Name: StepHashes, OK: true, Detail: fmt.Sprintf("%d data groups match", len(r.Verified))}
}

// orderCandidates tries the CSCA whose key identifier the DS names first
// (speed only: every candidate is checked by signature).
func orderCandidates(c []*x509.Certificate, ds *x509.Certificate) []*x509.Certificate {
	out := append([]*x509.Certificate(nil), c...)
	sort.SliceStable(out, func(i, j int) bool {
		return len(ds.AuthorityKeyId) > 0 && bytes.Equal(out[i].SubjectKeyId, ds.AuthorityKeyId) && !bytes.Equal(out[j].SubjectKeyId, ds.AuthorityKeyId)
	})
	return out
}

// sameState compares an MRZ issuing state (3 letters, D< for Germany)
// with a certificate country (2 letters).
func sameState(mrzState, certCountry string) bool {
	a := Alpha2(mrzState)
	return a == "" || strings.EqualFold(a, certCountry)
}

func orUnknown(s string) string {
	if s == "" {
		return "the issuing state"
	}
	return s
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }
