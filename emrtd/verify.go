package emrtd

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/checkpoint-edge/checkpoint/emrtd/lds"
	"github.com/checkpoint-edge/checkpoint/emrtd/pa"
	"github.com/checkpoint-edge/checkpoint/mrz"
)

// Verdict is the one-line outcome an officer reads.
type Verdict string

// Verdicts.
const (
	// Genuine: passive authentication valid, the clone check (when the
	// chip supports one) passed, and the chip agrees with the printed MRZ.
	Genuine Verdict = "genuine"
	// NotVerified: nothing failed, but the signature could not be checked
	// (no CSCA of the issuing state is trusted).
	NotVerified Verdict = "not_verified"
	// Failed: a check failed; Reason says which.
	Failed Verdict = "failed"
)

// Check outcomes of the clone checks.
const (
	CheckOK           = "ok"
	CheckFailed       = "failed"
	CheckNotSupported = "not_supported"
	CheckNotRun       = "not_run"
)

// Check is the outcome of Active or Chip Authentication.
type Check struct {
	Status string `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// Mismatch is a field where the chip and the printed MRZ differ.
type Mismatch struct {
	Field string `json:"field"`
	Chip  string `json:"-"` // personal data: for the screen, not for HQ
	Print string `json:"-"`
}

// Report is the verification of one chip.
type Report struct {
	Verdict Verdict `json:"verdict"`
	// Reason is what failed ("DG1 does not match the signed hash"), or
	// why it is not verified.
	Reason  string    `json:"reason,omitempty"`
	Reasons []string  `json:"reasons,omitempty"`
	Access  string    `json:"access"`
	PA      pa.Result `json:"passive_auth"`
	AA      Check     `json:"active_auth"`
	CA      Check     `json:"chip_auth"`
	// Consistent is true when DG1 equals the printed MRZ field by field.
	Consistent bool       `json:"consistent"`
	Mismatches []Mismatch `json:"mismatches,omitempty"`
	// ChipExpired is true when the chip's expiry date has passed.
	ChipExpired bool `json:"chip_expired"`
	// ChipMRZ is the chip's DG1 (personal data: screen only).
	ChipMRZ *mrz.Document  `json:"-"`
	Face    *lds.FaceImage `json:"face,omitempty"` // image bytes are not in JSON
	DG11    *lds.DG11      `json:"-"`
	DG12    *lds.DG12      `json:"-"`
	Files   []string       `json:"files"`
	Resumes int            `json:"resumes,omitempty"`
	ReadMS  float64        `json:"read_ms"`
}

// VerifyOptions tune Verify.
type VerifyOptions struct {
	Now time.Time
	// RequireCRL makes a state without CRL fail passive authentication.
	RequireCRL bool
}

// Verify checks a dump: passive authentication against the trust store,
// Active Authentication from the recorded exchange, the recorded Chip
// Authentication outcome, and DG1 against the printed MRZ (nil: not
// compared).
func Verify(d *Dump, store *pa.Store, printed *mrz.Document, opt VerifyOptions) *Report {
	now := opt.Now
	if now.IsZero() {
		now = time.Now()
	}
	r := &Report{Access: d.Access, Resumes: d.Resumes, ReadMS: d.DurationMS, Consistent: true}
	for name := range d.Files {
		r.Files = append(r.Files, name)
	}
	sortFiles(r.Files)
	var reasons []string
	failed := false
	fail := func(reason string) {
		failed = true
		reasons = append(reasons, reason)
	}

	// Data groups by number for PA.
	groups := map[int][]byte{}
	for n := 1; n <= 16; n++ {
		if b, ok := d.Files[lds.DGFile(n).Name]; ok {
			groups[n] = b
		}
	}
	country := ""
	if printed != nil {
		country = printed.IssuingState
	}
	if sod, ok := d.Files["SOD"]; ok {
		r.PA = pa.Verify(sod, groups, store, pa.Options{Now: now, Country: country, RequireCRL: opt.RequireCRL})
	} else {
		r.PA = pa.Result{Status: pa.Invalid, FailedStep: pa.StepSOD, Reason: "the chip has no EF.SOD: nothing is signed",
			Steps: []pa.Step{{Name: pa.StepSOD, Detail: "EF.SOD missing"}}}
	}
	if r.PA.Status == pa.Invalid {
		fail(r.PA.Reason)
	}
	for _, name := range sortedKeys(d.Malformed) {
		fail(name + " malformed: " + d.Malformed[name])
	}

	// DG1 and the printed MRZ.
	if b, ok := d.Files["DG1"]; ok {
		if lines, err := lds.ParseDG1(b); err == nil {
			r.ChipMRZ = mrz.Parse(lines, mrz.Options{Now: now})
			r.ChipExpired = r.ChipMRZ.HasProblem(mrz.ProblemExpired)
			if printed != nil {
				r.Mismatches = compareMRZ(r.ChipMRZ, printed)
				if len(r.Mismatches) > 0 {
					r.Consistent = false
					var f []string
					for _, m := range r.Mismatches {
						f = append(f, m.Field)
					}
					fail("the chip's MRZ differs from the printed one (" + strings.Join(f, ", ") + ")")
				}
			}
		} else {
			r.Consistent = false
			fail("DG1 unreadable: " + err.Error())
		}
	} else {
		r.Consistent = false
		fail("the chip has no DG1")
	}

	// Active Authentication.
	var aaInfo *lds.AAInfo
	if b, ok := d.Files["DG14"]; ok {
		if si, err := lds.ParseDG14(b); err == nil {
			aaInfo = si.AA
		}
	}
	switch b, ok := d.Files["DG15"]; {
	case !ok:
		r.AA = Check{Status: CheckNotSupported}
	case d.ActiveAuth == nil:
		r.AA = Check{Status: CheckNotRun}
	case d.ActiveAuth.Error != "":
		r.AA = Check{Status: CheckFailed, Detail: d.ActiveAuth.Error}
	default:
		key, err := lds.ParseDG15(b)
		if err != nil {
			r.AA = Check{Status: CheckFailed, Detail: err.Error()}
		} else if err := VerifyAA(key, aaInfo, d.ActiveAuth.Challenge, d.ActiveAuth.Response); err != nil {
			r.AA = Check{Status: CheckFailed, Detail: err.Error()}
		} else {
			r.AA = Check{Status: CheckOK, Detail: key.Kind()}
		}
	}
	if r.AA.Status == CheckFailed {
		fail("clone check failed: " + r.AA.Detail)
	}
	// Chip Authentication (recorded at read time).
	switch {
	case d.ChipAuth == nil:
		r.CA = Check{Status: CheckNotSupported}
	case d.ChipAuth.OK:
		r.CA = Check{Status: CheckOK, Detail: d.ChipAuth.OID}
	case d.ChipAuth.OID == "":
		r.CA = Check{Status: CheckNotSupported, Detail: d.ChipAuth.Detail}
	default:
		r.CA = Check{Status: CheckFailed, Detail: d.ChipAuth.Detail}
		fail("clone check failed: chip authentication: " + d.ChipAuth.Detail)
	}

	if b, ok := d.Files["DG2"]; ok {
		if faces, err := lds.ParseDG2(b); err == nil {
			f := faces[0]
			r.Face = &f
		} else {
			reasons = append(reasons, "DG2 face unreadable: "+err.Error())
		}
	}
	if b, ok := d.Files["DG11"]; ok {
		r.DG11, _ = lds.ParseDG11(b)
	}
	if b, ok := d.Files["DG12"]; ok {
		r.DG12, _ = lds.ParseDG12(b)
	}

	switch {
	case failed:
		r.Verdict = Failed
	case r.PA.Status == pa.NotVerifiable:
		r.Verdict = NotVerified
		reasons = append([]string{r.PA.Reason}, reasons...)
	default:
		r.Verdict = Genuine
	}
	r.Reasons = reasons
	if len(reasons) > 0 {
		r.Reason = reasons[0]
	}
	return r
}

// compareMRZ lists the fields where the chip's MRZ and the printed one
// differ. The raw characters are compared: a check digit that the
// scanner's OCR autocorrected compares as corrected.
func compareMRZ(chip, printed *mrz.Document) []Mismatch {
	var out []Mismatch
	pf := map[string]mrz.Field{}
	for _, f := range printed.Fields {
		pf[f.Name] = f
	}
	for _, f := range chip.Fields {
		p, ok := pf[f.Name]
		if !ok || p.Raw == f.Raw {
			continue
		}
		out = append(out, Mismatch{Field: f.Name, Chip: f.Raw, Print: p.Raw})
	}
	if chip.Format != printed.Format {
		out = append(out, Mismatch{Field: "format", Chip: string(chip.Format), Print: string(printed.Format)})
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	sortFiles(k)
	return k
}

func sortFiles(f []string) {
	order := func(s string) int {
		switch s {
		case "COM":
			return 0
		case "SOD":
			return 1
		}
		var n int
		fmt.Sscanf(s, "DG%d", &n)
		return 1 + n
	}
	for i := 1; i < len(f); i++ {
		for j := i; j > 0 && order(f[j]) < order(f[j-1]); j-- {
			f[j], f[j-1] = f[j-1], f[j]
		}
	}
}

// Line is the one-line summary for the officer: "chip genuine", "chip
// not verified: …", "chip FAILED: …".
func (r *Report) Line() string {
	switch r.Verdict {
	case Genuine:
		return "chip genuine"
	case NotVerified:
		return "chip not verified: " + r.Reason
	}
	return "chip FAILED: " + r.Reason
}

// ReadFailure describes a read that did not complete, for the officer.
func ReadFailure(err error) string {
	switch {
	case errors.Is(err, ErrAccessDenied):
		return ErrAccessDenied.Error()
	case errors.Is(err, ErrNoChip):
		return "no chip on the reader"
	case errors.Is(err, ErrRemoved):
		return "chip taken off the reader during the read"
	case errors.Is(err, ErrTimeout):
		return "chip read took too long"
	case errors.Is(err, ErrKey):
		return "the MRZ does not give a usable chip key"
	}
	return "chip unreadable: " + err.Error()
}
