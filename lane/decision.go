package lane

import "time"

// Decision is the machine decision for a traveller.
type Decision string

// Decisions.
const (
	Clear Decision = "CLEAR"
	Refer Decision = "REFER"
	Hit   Decision = "HIT"
)

// Reason codes explain a REFER (and qualify a HIT or CLEAR).
const (
	ReasonNoFace          = "no_usable_face"
	ReasonPoorQuality     = "poor_face_quality"
	ReasonStale           = "watchlist_stale"
	ReasonNoWatchlist     = "no_watchlist"
	ReasonCameraDown      = "camera_down"
	ReasonDeviceFault     = "device_fault"
	ReasonIntegrity       = "watchlist_integrity_error"
	ReasonInvalidMRZ      = "invalid_mrz"
	ReasonExpiredDocument = "document_expired"
	ReasonFaceMismatch    = "face_document_mismatch"
	ReasonCheckFailed     = "check_failed"
	ReasonPossibleMatch   = "possible_match"
)

// ReasonCodes are every reason code above, for screens that word them.
var ReasonCodes = []string{ReasonNoFace, ReasonPoorQuality, ReasonStale, ReasonNoWatchlist, ReasonCameraDown, ReasonDeviceFault,
	ReasonIntegrity, ReasonInvalidMRZ, ReasonExpiredDocument, ReasonFaceMismatch, ReasonCheckFailed, ReasonPossibleMatch,
	ReasonDocumentIntegrity, ReasonChipUnreadable, ReasonChipNotVerified}

// Hit levels of a HitView.
const (
	LevelHit      = "hit"
	LevelPossible = "possible"
)

// IsPossible reports whether h is a candidate for the officer's judgement
// rather than a hit.
func (h HitView) IsPossible() bool { return h.Level == LevelPossible }

// Policy turns findings into a decision.
type Policy struct {
	ReferWhenStale   bool
	ReferWithoutFace bool
	ReferInvalidMRZ  bool
	Chip             ChipPolicy
}

// Findings is what a transaction established before deciding.
type Findings struct {
	Hits            int  // watchlist hits (any kind) at the hit level
	Possible        int  // candidates in the possible band (officer's judgement)
	DocumentValid   bool // MRZ checked out
	DocumentExpired bool
	FaceWanted      bool // the camera is part of this lane
	FaceCaptured    bool // a face passed the quality gate
	FacePoor        bool // faces seen, none passed the gate
	CameraDown      bool
	Stale           bool // watchlist older than its maximum age, or expired
	NoWatchlist     bool
	IntegrityErrors int
	CheckErr        bool
	FaceMismatch    bool // document photo available and it does not match
	ChipIntegrity   bool // the chip shows the document altered, forged or cloned
	ChipUnreadable  bool // a document that should have a chip gave none
	ChipNotVerified bool // the chip's signature could not be checked
}

// Decide applies the policy. A hit always wins: an officer must see it even
// when other things are also wrong. Everything that makes the check
// incomplete is a reason to refer, listed so the officer knows why.
func Decide(p Policy, f Findings) (Decision, []string) {
	var reasons []string
	add := func(cond bool, r string) {
		if cond {
			reasons = append(reasons, r)
		}
	}
	add(f.IntegrityErrors > 0, ReasonIntegrity)
	add(f.CheckErr, ReasonCheckFailed)
	add(f.NoWatchlist, ReasonNoWatchlist)
	add(f.Stale && p.ReferWhenStale, ReasonStale)
	add(!f.DocumentValid && p.ReferInvalidMRZ, ReasonInvalidMRZ)
	add(f.DocumentExpired, ReasonExpiredDocument)
	add(f.FaceMismatch, ReasonFaceMismatch)
	add(f.ChipIntegrity && p.Chip.ReferIntegrity, ReasonDocumentIntegrity)
	add(f.ChipUnreadable && p.Chip.ReferUnreadable, ReasonChipUnreadable)
	add(f.ChipNotVerified && p.Chip.ReferNotVerified, ReasonChipNotVerified)
	add(f.Possible > 0, ReasonPossibleMatch)
	if f.FaceWanted && !f.FaceCaptured && p.ReferWithoutFace {
		switch {
		case f.CameraDown:
			reasons = append(reasons, ReasonCameraDown)
		case f.FacePoor:
			reasons = append(reasons, ReasonPoorQuality)
		default:
			reasons = append(reasons, ReasonNoFace)
		}
	}
	if f.Hits > 0 {
		if f.Stale && !p.ReferWhenStale {
			reasons = append(reasons, ReasonStale)
		}
		return Hit, reasons
	}
	if len(reasons) > 0 {
		return Refer, reasons
	}
	if f.Stale {
		// Not a reason to refer under this policy, but every decision says so.
		return Clear, []string{ReasonStale}
	}
	return Clear, nil
}

// ReasonText is what the officer reads for a reason code.
func ReasonText(r string) string {
	switch r {
	case ReasonNoFace:
		return "No usable face captured"
	case ReasonPoorQuality:
		return "Face image quality too poor"
	case ReasonStale:
		return "Watchlist is STALE (too old)"
	case ReasonNoWatchlist:
		return "No watchlist installed"
	case ReasonCameraDown:
		return "Camera is down"
	case ReasonDeviceFault:
		return "Device fault"
	case ReasonIntegrity:
		return "Watchlist integrity error"
	case ReasonInvalidMRZ:
		return "MRZ does not check (possible forgery or misread)"
	case ReasonExpiredDocument:
		return "Document expired"
	case ReasonFaceMismatch:
		return "Face does not match the document photo"
	case ReasonCheckFailed:
		return "Watchlist check failed"
	case ReasonPossibleMatch:
		return "Possible watchlist match: check the candidates"
	}
	if t := chipReasonText(r, nil); t != "" {
		return t
	}
	return r
}

// expired reports whether a document's expiry date has passed.
func expired(y, m, d int, now time.Time) bool {
	if y == 0 || m == 0 || d == 0 {
		return false
	}
	exp := time.Date(y, time.Month(m), d, 23, 59, 59, 0, time.UTC)
	return now.After(exp)
}
