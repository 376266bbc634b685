package vision

import (
	"fmt"
	"math"
	"slices"
)

// EnrolmentPolicy is headquarters' gate for the photos a listed person is
// enrolled from. A photo is refused when it cannot give a trustworthy
// template (no face, several faces, a tiny or heavily blurred face) and
// flagged when it can but is below par (turned, badly lit, small): a
// flagged photo is enrolled, and the report says why it is weak.
type EnrolmentPolicy struct {
	// RefuseInterEye and FlagInterEye are eye distances in pixels: under
	// the first the face is too small to enrol, under the second it is
	// enrolled with a flag. (Passport photos per ICAO 9303 have 90 or more.)
	RefuseInterEye float64
	FlagInterEye   float64
	// RefuseSharpness is the chip sharpness under which the face is too
	// blurred to enrol (the capture gate's scale: sharp faces 60–600,
	// Gaussian σ=3 blur under 20).
	RefuseSharpness float64
	// SecondFace is the area, relative to the largest face, from which
	// another face in the photo makes it ambiguous (refused).
	SecondFace float64
	// Capture flags everything the capture gate would reject (pose,
	// exposure, contrast).
	Capture QualityPolicy
}

// DefaultEnrolmentPolicy is the gate `checkpointctl watchlist enrol` and
// `watchlist build --photos` apply.
func DefaultEnrolmentPolicy() EnrolmentPolicy {
	return EnrolmentPolicy{RefuseInterEye: 30, FlagInterEye: 60, RefuseSharpness: 15, SecondFace: 0.25, Capture: DefaultPolicy()}
}

// Enrolment reasons; stable strings for reports.
const (
	EnrolNoFace       = "no_face"
	EnrolSeveralFaces = "several_faces"
	EnrolTinyFace     = "tiny_face"
	EnrolBlurred      = "heavy_blur"
	EnrolSmallFace    = "small_face"
	EnrolNoLandmarks  = "no_landmarks"
)

// EnrolmentVerdict is the gate's answer for one photo.
type EnrolmentVerdict struct {
	Accepted bool     `json:"accepted"`
	Refused  []string `json:"refused,omitempty"`
	Flags    []string `json:"flags,omitempty"`
	// Face is the index of the face to enrol (the primary), -1 without one.
	Face int `json:"-"`
}

// Check judges the faces found in one enrolment photo (primary first, as
// Recognizer.Faces returns them).
func (p EnrolmentPolicy) Check(faces []Face) EnrolmentVerdict {
	v := EnrolmentVerdict{Face: -1}
	if len(faces) == 0 {
		v.Refused = []string{EnrolNoFace}
		return v
	}
	v.Face = 0
	f := faces[0]
	largest := 0
	for _, g := range faces {
		largest = max(largest, g.Box.Dx()*g.Box.Dy())
	}
	others := 0
	for _, g := range faces[1:] {
		if float64(g.Box.Dx()*g.Box.Dy()) >= p.SecondFace*float64(largest) {
			others++
		}
	}
	if others > 0 {
		v.Refused = append(v.Refused, EnrolSeveralFaces)
	}
	q := f.Quality
	if len(f.Landmarks) == 0 {
		v.Refused = append(v.Refused, EnrolNoLandmarks)
	}
	switch {
	case q.InterEye < p.RefuseInterEye:
		v.Refused = append(v.Refused, EnrolTinyFace)
	case q.InterEye < p.FlagInterEye:
		v.Flags = append(v.Flags, EnrolSmallFace)
	}
	if q.Sharpness < p.RefuseSharpness {
		v.Refused = append(v.Refused, EnrolBlurred)
	}
	// The capture gate's other findings are flags: a turned or badly lit
	// photo still enrols, but a better one should replace it.
	cq := q
	cq.FacesInZone = 1
	p.Capture.Evaluate(&cq)
	for _, r := range cq.Reasons {
		if r == ReasonTooSmall || r == ReasonBlurred || slices.Contains(v.Flags, r) {
			continue
		}
		v.Flags = append(v.Flags, r)
	}
	v.Accepted = len(v.Refused) == 0
	return v
}

// String is the verdict in one line.
func (v EnrolmentVerdict) String() string {
	switch {
	case !v.Accepted:
		return fmt.Sprintf("refused %v", v.Refused)
	case len(v.Flags) > 0:
		return fmt.Sprintf("enrolled, flagged %v", v.Flags)
	}
	return "enrolled"
}

// qualityOf is a template's stored quality (the capture score).
func qualityOf(q Quality) float32 { return float32(math.Round(q.Score*1000) / 1000) }

// TemplateQuality is the quality value a template of this face records.
func TemplateQuality(f Face) float32 { return qualityOf(f.Quality) }
