package lane

import (
	"context"
	"math"
	"strings"

	"github.com/checkpoint-edge/checkpoint/mrz"
)

// Chip reason codes (see Decide).
const (
	// ReasonDocumentIntegrity: the chip shows the document is not what
	// its issuer made (passive authentication invalid, DG1 differs from
	// the printed MRZ, clone check failed).
	ReasonDocumentIntegrity = "document_integrity"
	// ReasonChipUnreadable: a document that should have a chip gave none
	// (no chip, access refused, read failed).
	ReasonChipUnreadable = "chip_unreadable"
	// ReasonChipNotVerified: the chip's signature could not be checked
	// (no CSCA of the issuing state); a reason only when policy says so.
	ReasonChipNotVerified = "chip_not_verified"
)

// Chip states of a ChipView.
const (
	ChipReading    = "reading"
	ChipRead       = "read"
	ChipUnreadable = "unreadable"
	ChipSkipped    = "skipped" // not expected and not presented
)

// ChipSource reads and verifies the chip of a scanned document. Read
// always returns a result (State unreadable with the reason when the
// read failed); ctx bounds it.
type ChipSource interface {
	Read(ctx context.Context, doc *mrz.Document, expected bool) ChipResult
	// Up reports whether the reader is there.
	Up() bool
}

// ChipResult is what a chip read yields for the lane.
type ChipResult struct {
	View ChipView
	// Photo is the DG2 face as JPEG (transcoded from JPEG 2000) for the
	// officer's page; never logged.
	Photo []byte
	// Descriptor is the embedding of the DG2 face (nil: no usable face).
	Descriptor []float32
	ModelID    string
	Quality    float64 // quality score of the chip photo's face
}

// FaceMatchView is the 1:1 comparison of the live face with the chip's.
type FaceMatchView struct {
	Compared    bool    `json:"compared"`
	Match       bool    `json:"match"`
	Distance    float64 `json:"distance,omitempty"`
	Threshold   float64 `json:"threshold"`
	LiveQuality float64 `json:"live_quality"`
	ChipQuality float64 `json:"chip_quality"`
	Detail      string  `json:"detail,omitempty"` // why not compared
}

// ChipView is what the officer, the gate and HQ see of the chip. It holds
// no personal data beyond HasPhoto (the photo itself is Transaction.ChipJPEG).
type ChipView struct {
	Expected bool   `json:"expected"` // the document should have a chip
	State    string `json:"state"`
	// Verdict is genuine, not_verified or failed (when read).
	Verdict string `json:"verdict,omitempty"`
	// Line is the officer's summary: "chip genuine", "chip not verified:
	// …", "chip FAILED: …", or why the chip could not be read.
	Line   string `json:"line"`
	Reason string `json:"reason,omitempty"`
	Access string `json:"access,omitempty"` // PACE or BAC
	// PassiveAuth is valid, invalid or not_verifiable; PAStep the step
	// that failed; FailedGroups the data groups whose hash did not match.
	PassiveAuth  string         `json:"passive_auth,omitempty"`
	PAStep       string         `json:"pa_failed_step,omitempty"`
	FailedGroups []int          `json:"failed_groups,omitempty"`
	ActiveAuth   string         `json:"active_auth,omitempty"` // ok, failed, not_supported, not_run
	ChipAuth     string         `json:"chip_auth,omitempty"`
	Consistent   bool           `json:"consistent"`
	Mismatches   []string       `json:"mismatches,omitempty"` // field names where DG1 differs from the print
	Integrity    bool           `json:"integrity_failed"`     // a document integrity failure
	Country      string         `json:"csca_country,omitempty"`
	HasPhoto     bool           `json:"has_photo"`
	PhotoFormat  string         `json:"photo_format,omitempty"`
	Face         *FaceMatchView `json:"face_1to1,omitempty"`
	ReadMS       float64        `json:"read_ms"`
}

// ChipPolicy says which chip findings make a transaction REFER.
type ChipPolicy struct {
	ReferIntegrity    bool    // PA invalid, DG1 ≠ print, clone check failed
	ReferFaceMismatch bool    // live face ≠ chip photo
	ReferUnreadable   bool    // an expected chip gave nothing
	ReferNotVerified  bool    // no CSCA for the issuing state
	FaceDistance      float64 // 1:1 threshold
	// Expected says which documents should carry a chip: "passports"
	// (TD3 P documents), "all" (passports and TD1/TD2 identity cards) or
	// "none".
	Expected string
}

// ChipExpected reports whether doc should have a chip under policy.
func ChipExpected(policy string, doc *mrz.Document) bool {
	if doc == nil {
		return false
	}
	switch policy {
	case "all":
		return doc.Format == mrz.FormatTD3 || doc.Format == mrz.FormatTD1 || doc.Format == mrz.FormatTD2
	case "none":
		return false
	}
	return doc.Format == mrz.FormatTD3 && strings.HasPrefix(doc.DocumentCode, "P")
}

// chipFindings folds a chip result and the live face into findings.
func chipFindings(p ChipPolicy, r *ChipResult, face *FaceCapture, f *Findings) {
	v := &r.View
	switch v.State {
	case ChipUnreadable:
		f.ChipUnreadable = v.Expected
	case ChipRead:
		f.ChipIntegrity = v.Integrity
		f.ChipNotVerified = v.Verdict == "not_verified"
	}
	if v.State != ChipRead {
		return
	}
	m := &FaceMatchView{Threshold: p.FaceDistance}
	v.Face = m
	switch {
	case r.Descriptor == nil:
		m.Detail = "no usable face in the chip photo"
	case face == nil || !face.Captured:
		m.Detail = "no live face captured"
	case face.ModelID != r.ModelID:
		m.Detail = "face models differ"
	default:
		m.Compared = true
		m.LiveQuality, m.ChipQuality = face.Quality, r.Quality
		m.Distance = euclid(face.Descriptor, r.Descriptor)
		m.Match = m.Distance <= p.FaceDistance
		if !m.Match && p.ReferFaceMismatch {
			f.FaceMismatch = true
		}
	}
}

func euclid(a, b []float32) float64 {
	if len(a) != len(b) || len(a) == 0 {
		return math.Inf(1)
	}
	var s float64
	for i := range a {
		d := float64(a[i] - b[i])
		s += d * d
	}
	return math.Sqrt(s)
}

// chipReasonText is the officer's text for a chip reason.
func chipReasonText(r string, v *ChipView) string {
	switch r {
	case ReasonDocumentIntegrity:
		if v != nil && v.Reason != "" {
			return "Document integrity: " + v.Reason
		}
		return "Document integrity: the chip does not vouch for this document"
	case ReasonChipUnreadable:
		if v != nil && v.Line != "" {
			return "Chip unreadable: " + v.Line
		}
		return "Chip unreadable"
	case ReasonChipNotVerified:
		return "Chip not verified: no trust anchor for the issuing state"
	}
	return ""
}

// startChip begins the chip read in the background; wait returns its
// result (nil when the lane has no reader or there is no document).
func (p *Pipeline) startChip(ctx context.Context, doc *mrz.Document) (wait func() *ChipResult) {
	if p.cfg.Chip == nil || doc == nil {
		return func() *ChipResult { return nil }
	}
	expected := ChipExpected(p.cfg.Policy.Chip.Expected, doc)
	ch := make(chan ChipResult, 1)
	go func() { ch <- p.cfg.Chip.Read(ctx, doc, expected) }()
	return func() *ChipResult {
		select {
		case r := <-ch:
			return &r
		case <-ctx.Done():
			return &ChipResult{View: ChipView{Expected: expected, State: ChipUnreadable, Line: "chip read interrupted"}}
		}
	}
}
