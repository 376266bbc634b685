package vision

import (
	"image"
	"math"
)

// Quality describes how usable a captured face is for comparison. The
// measures follow the spirit of ISO/IEC 29794-5 (size, sharpness, exposure,
// pose, a single subject); the thresholds come from a QualityPolicy.
type Quality struct {
	InterEye     float64  `json:"inter_eye_px"` // distance between eye centres in image pixels
	FaceWidth    int      `json:"face_width_px"`
	FaceHeight   int      `json:"face_height_px"`
	Sharpness    float64  `json:"sharpness"`    // variance of the Laplacian of the grey aligned chip
	Brightness   float64  `json:"brightness"`   // mean grey level of the chip's face area, 0..255
	Contrast     float64  `json:"contrast"`     // standard deviation of that grey level
	Underexposed float64  `json:"underexposed"` // fraction of face-area pixels at or below 8
	Overexposed  float64  `json:"overexposed"`  // fraction at or above 247
	Yaw          float64  `json:"yaw_deg"`      // positive when the nose points to the image's right
	Roll         float64  `json:"roll_deg"`     // positive when the eye line turns clockwise in the image
	FacesInZone  int      `json:"faces_in_zone"`
	Score        float64  `json:"score"` // 0..1, higher is better; ranks faces that pass
	Pass         bool     `json:"pass"`
	Reasons      []string `json:"reasons,omitempty"`
}

// Reasons a face fails the gate; stable strings for logs, metrics and UIs.
const (
	ReasonTooSmall     = "too_small"
	ReasonBlurred      = "blurred"
	ReasonTooDark      = "too_dark"
	ReasonTooBright    = "too_bright"
	ReasonLowContrast  = "low_contrast"
	ReasonYaw          = "yaw"
	ReasonRoll         = "roll"
	ReasonSeveralFaces = "several_faces"
	ReasonNoLandmarks  = "no_landmarks"
	ReasonOutsideZone  = "outside_zone"
)

// QualityPolicy is the capture gate.
type QualityPolicy struct {
	MinInterEye   float64 // pixels
	GoodInterEye  float64 // pixels at which the size score saturates
	MinSharpness  float64
	GoodSharpness float64
	MinBrightness float64
	MaxBrightness float64
	MinContrast   float64
	MaxClipped    float64 // fraction of face pixels under- or over-exposed
	MaxYaw        float64 // degrees
	MaxRoll       float64 // degrees
	// RequireSingleFace fails the gate when several faces are in the zone:
	// a second person in the capture zone makes the capture ambiguous.
	RequireSingleFace bool
	// Zone is the capture zone in image coordinates; empty means the whole
	// frame. Faces whose centre lies outside are ignored for FacesInZone.
	Zone image.Rectangle
}

// DefaultPolicy is the gate for a desk or e-gate camera at 640×480 or more.
// Sharpness and exposure bounds were set from the labelled photos and from
// deliberately blurred (Gaussian σ≥3 on the chip) and darkened copies:
// sharp faces measure 60–600, σ=3 blur below 20.
//
// The yaw limit is measured (`checkpointctl vision evaluate`, pose table,
// on lfw-calib and the labelled photos): genuine pairs whose larger
// estimated yaw is 25–40° match as well as frontal ones with both models
// (MobileFaceNet FNMR at the FAR 0.1% threshold 1.6–3.0% against 4.0–6.0%
// under 25°; dlib 6.4–9.3% against 11.8–12.7%); beyond 40° errors rise
// steeply (16% and 41% for MobileFaceNet at 40–50° and over 50°). The old
// limit of 25° refused 187 of 1,548 usable photos for no gain.
func DefaultPolicy() QualityPolicy {
	return QualityPolicy{
		MinInterEye:       28,
		GoodInterEye:      60,
		MinSharpness:      25,
		GoodSharpness:     120,
		MinBrightness:     50,
		MaxBrightness:     215,
		MinContrast:       18,
		MaxClipped:        0.2,
		MaxYaw:            40,
		MaxRoll:           20,
		RequireSingleFace: true,
	}
}

// Evaluate fills q.Score, q.Pass and q.Reasons from the measured values.
func (p QualityPolicy) Evaluate(q *Quality) {
	q.Reasons = nil
	if q.InterEye < p.MinInterEye {
		q.Reasons = append(q.Reasons, ReasonTooSmall)
	}
	if q.Sharpness < p.MinSharpness {
		q.Reasons = append(q.Reasons, ReasonBlurred)
	}
	if q.Brightness < p.MinBrightness || q.Underexposed > p.MaxClipped {
		q.Reasons = append(q.Reasons, ReasonTooDark)
	}
	if q.Brightness > p.MaxBrightness || q.Overexposed > p.MaxClipped {
		q.Reasons = append(q.Reasons, ReasonTooBright)
	}
	if q.Contrast < p.MinContrast {
		q.Reasons = append(q.Reasons, ReasonLowContrast)
	}
	if math.Abs(q.Yaw) > p.MaxYaw {
		q.Reasons = append(q.Reasons, ReasonYaw)
	}
	if math.Abs(q.Roll) > p.MaxRoll {
		q.Reasons = append(q.Reasons, ReasonRoll)
	}
	if p.RequireSingleFace && q.FacesInZone > 1 {
		q.Reasons = append(q.Reasons, ReasonSeveralFaces)
	}
	if len(q.Reasons) == 0 {
		q.Reasons = nil
	}
	q.Pass = len(q.Reasons) == 0

	size := ramp(q.InterEye, p.MinInterEye*0.5, p.GoodInterEye)
	sharp := ramp(math.Log1p(q.Sharpness), math.Log1p(p.MinSharpness*0.5), math.Log1p(p.GoodSharpness))
	mid := (p.MinBrightness + p.MaxBrightness) / 2
	half := (p.MaxBrightness - p.MinBrightness) / 2
	expo := 1.0
	if half > 0 {
		expo = 1 - 0.5*math.Min(1, math.Abs(q.Brightness-mid)/half)
	}
	expo *= 1 - math.Min(1, (q.Underexposed+q.Overexposed)/math.Max(p.MaxClipped, 1e-9)*0.5)
	expo *= 0.5 + 0.5*ramp(q.Contrast, p.MinContrast*0.5, p.MinContrast*2)
	pose := 1.0
	if p.MaxYaw > 0 && p.MaxRoll > 0 {
		pose = (1 - math.Min(1, math.Abs(q.Yaw)/(2*p.MaxYaw))) * (1 - math.Min(1, math.Abs(q.Roll)/(2*p.MaxRoll)))
	}
	// Geometric mean: one very poor aspect cannot be bought back by others.
	q.Score = math.Pow(math.Max(size, 1e-3)*math.Max(sharp, 1e-3)*math.Max(expo, 1e-3)*math.Max(pose, 1e-3), 0.25)
	if q.FacesInZone > 1 {
		q.Score *= 0.8
	}
}

func ramp(v, lo, hi float64) float64 {
	if hi <= lo {
		if v >= hi {
			return 1
		}
		return 0
	}
	return math.Max(0, math.Min(1, (v-lo)/(hi-lo)))
}

// Measure computes the geometric and photometric measures of one face from
// its box, landmarks (68-point iBUG or 5-point dlib layout) and aligned chip.
// Score, Pass, Reasons and FacesInZone are left to the caller.
func Measure(box image.Rectangle, landmarks []image.Point, chip Image) Quality {
	q := Quality{FaceWidth: box.Dx(), FaceHeight: box.Dy()}
	if le, re, nose, ok := eyesAndNose(landmarks); ok {
		dx, dy := re.x-le.x, re.y-le.y
		q.InterEye = math.Hypot(dx, dy)
		q.Roll = math.Atan2(dy, dx) * 180 / math.Pi
		q.Yaw = yaw(landmarks, le, re, nose)
	}
	if chip.Validate() == nil {
		q.Sharpness, q.Brightness, q.Contrast, q.Underexposed, q.Overexposed = chipStats(chip)
	}
	return q
}

type fpt struct{ x, y float64 }

func mean(pts []image.Point) fpt {
	var s fpt
	for _, p := range pts {
		s.x += float64(p.X)
		s.y += float64(p.Y)
	}
	n := float64(len(pts))
	return fpt{s.x / n, s.y / n}
}

// eyesAndNose returns the eye centres (image-left first) and the nose tip.
func eyesAndNose(l []image.Point) (le, re, nose fpt, ok bool) {
	switch len(l) {
	case 68:
		le, re = mean(l[36:42]), mean(l[42:48])
		nose = fpt{float64(l[30].X), float64(l[30].Y)}
	case 5:
		// dlib's 5-point model: 0,1 image-right eye corners, 2,3 image-left, 4 below the nose.
		re, le = mean(l[0:2]), mean(l[2:4])
		nose = fpt{float64(l[4].X), float64(l[4].Y)}
	default:
		return le, re, nose, false
	}
	return le, re, nose, true
}

// yaw estimates head yaw from the asymmetry of the nose tip between the
// outer eye corners, projected on the eye line. With the corners at ±e from
// the face's midline and the nose tip a depth d in front of them, turning by
// θ gives (dl−dr)/(dl+dr) = (d/e)·tanθ; d/e ≈ 0.75 for adult faces.
func yaw(l []image.Point, le, re, nose fpt) float64 {
	a, b := le, re
	if len(l) == 68 {
		a = fpt{float64(l[36].X), float64(l[36].Y)}
		b = fpt{float64(l[45].X), float64(l[45].Y)}
	}
	ux, uy := b.x-a.x, b.y-a.y
	n := math.Hypot(ux, uy)
	if n == 0 {
		return 0
	}
	ux, uy = ux/n, uy/n
	t := (nose.x-a.x)*ux + (nose.y-a.y)*uy // projection of the nose on the eye line
	dl, dr := t, n-t
	asym := (dl - dr) / (dl + dr)
	const depthRatio = 0.75
	return math.Atan(asym/depthRatio) * 180 / math.Pi
}

// chipStats measures the aligned chip's grey levels. The chip is at a fixed
// scale, so sharpness is comparable across faces of different sizes in the
// frame (the variance of the Laplacian grows with resolution otherwise).
// Exposure is measured on the central region, which holds the face rather
// than hair or background.
func chipStats(c Image) (sharp, bright, contrast, under, over float64) {
	w, h := c.W, c.H
	g := make([]float64, w*h)
	for i := range g {
		p := c.Pix[i*3 : i*3+3]
		g[i] = 0.299*float64(p[0]) + 0.587*float64(p[1]) + 0.114*float64(p[2])
	}
	// Laplacian (4-neighbour) variance over the interior.
	var s, s2, n float64
	for y := 1; y < h-1; y++ {
		for x := 1; x < w-1; x++ {
			i := y*w + x
			l := g[i-1] + g[i+1] + g[i-w] + g[i+w] - 4*g[i]
			s += l
			s2 += l * l
			n++
		}
	}
	if n > 0 {
		m := s / n
		sharp = s2/n - m*m
	}
	x0, x1, y0, y1 := w/4, w-w/4, h/4, h-h/8
	s, s2, n = 0, 0, 0
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			v := g[y*w+x]
			s += v
			s2 += v * v
			n++
			if v <= 8 {
				under++
			}
			if v >= 247 {
				over++
			}
		}
	}
	if n > 0 {
		bright = s / n
		contrast = math.Sqrt(math.Max(0, s2/n-bright*bright))
		under /= n
		over /= n
	}
	return sharp, bright, contrast, under, over
}

// SelectPrimary orders faces so that the one a capture should use comes
// first: among faces whose centre lies in zone (the whole frame when zone is
// empty) and that are at least a quarter the area of the largest such face,
// the one nearest the zone's centre. A traveller stands at the centre of
// the camera's view, a passer-by or a face on a poster is off-centre or
// smaller; the area floor keeps a distant face near the centre from
// winning over the traveller. It sets FacesInZone on every face and
// re-evaluates their quality under p.
func SelectPrimary(faces []Face, frame image.Rectangle, p QualityPolicy) {
	zone := p.Zone
	if zone.Empty() {
		zone = frame
	}
	in, largest := 0, 0
	for _, f := range faces {
		if centre(f.Box).In(zone) {
			in++
			largest = max(largest, f.Box.Dx()*f.Box.Dy())
		}
	}
	c := centre(zone)
	best, bestDist := -1, math.Inf(1)
	for i, f := range faces {
		if !centre(f.Box).In(zone) || 4*f.Box.Dx()*f.Box.Dy() < largest {
			continue
		}
		d := centre(f.Box).Sub(c)
		if dist := math.Hypot(float64(d.X), float64(d.Y)); dist < bestDist {
			best, bestDist = i, dist
		}
	}
	if best > 0 {
		faces[0], faces[best] = faces[best], faces[0]
	}
	for i := range faces {
		faces[i].Quality.FacesInZone = in
		p.Evaluate(&faces[i].Quality)
		if !centre(faces[i].Box).In(zone) {
			faces[i].Quality.Pass = false
			faces[i].Quality.Reasons = append(faces[i].Quality.Reasons, ReasonOutsideZone)
		}
	}
}

func centre(r image.Rectangle) image.Point {
	return image.Pt((r.Min.X+r.Max.X)/2, (r.Min.Y+r.Max.Y)/2)
}
