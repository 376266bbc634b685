package vision

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
)

// Calibration is a model's measured impostor distance distribution, per
// population group: what turns a false-match-rate target into a distance.
// Thresholds are set for the worst group (the one with the most impostor
// pairs under a distance), because false matches concentrate in some
// demographic groups (NIST IR 8280).
type Calibration struct {
	// Model is the model id the distances were measured with.
	Model string `json:"model"`
	// Sets names the labelled sets measured (for the record).
	Sets   []string    `json:"sets,omitempty"`
	Groups []GroupTail `json:"groups"`
}

// GroupTail is the lower tail of one group's impostor distances.
type GroupTail struct {
	Group         string `json:"group"`
	ImpostorPairs int    `json:"impostor_pairs"`
	GenuinePairs  int    `json:"genuine_pairs"`
	// Points are measured (FMR, distance) pairs, FMR decreasing: the
	// distance at or under which that fraction of impostor pairs lies.
	Points []TailPoint `json:"points"`
	// TailA and TailB extrapolate below the smallest measured FMR:
	// log10(FMR) ≈ TailA + TailB·distance, fitted to the lowest decades.
	TailA float64 `json:"tail_a"`
	TailB float64 `json:"tail_b"`
}

// TailPoint is one measured point of an impostor tail.
type TailPoint struct {
	FMR      float64 `json:"fmr"`
	Distance float32 `json:"distance"`
}

// MinTailPairs is the number of impostor pairs a group needs before its
// tail takes part in choosing thresholds; smaller groups are reported only.
const MinTailPairs = 10000

// tailLevels are the FMRs measured, from 10% down to what the pairs allow.
// A level is measured when at least minTailCount pairs lie under it: a
// quantile of a few pairs is noise, and a handful of duplicate photos filed
// under two names (label noise every large set has) must not become the
// tail.
var tailLevels = []float64{0.1, 0.05, 0.02, 0.01, 5e-3, 2e-3, 1e-3, 5e-4, 2e-4, 1e-4, 5e-5, 2e-5, 1e-5, 5e-6, 2e-6, 1e-6}

// minTailCount is the number of impostor pairs a measured level needs.
const minTailCount = 50

// NewGroupTail measures a tail from a group's impostor distances (sorted
// or not; imp is sorted in place).
func NewGroupTail(group string, imp []float32, genuine int) (GroupTail, error) {
	t := GroupTail{Group: group, ImpostorPairs: len(imp), GenuinePairs: genuine}
	if len(imp) < 2*minTailCount {
		return t, fmt.Errorf("%w: group %q has %d impostor pairs", ErrCalibration, group, len(imp))
	}
	slices.Sort(imp)
	n := float64(len(imp))
	for _, f := range tailLevels {
		k := int(math.Floor(f * n))
		if k < minTailCount {
			break
		}
		t.Points = append(t.Points, TailPoint{FMR: f, Distance: imp[k-1]})
	}
	// Fit the tail on its lowest decades: the points at or under 0.1%
	// when there are three, else at or under 1%, else the lowest two. The
	// log-linear fit of the whole tail bends away from the extreme end.
	var fit []TailPoint
	for _, limit := range []float64{1e-3, 1e-2} {
		fit = fit[:0]
		for _, p := range t.Points {
			if p.FMR <= limit {
				fit = append(fit, p)
			}
		}
		if len(fit) >= 3 {
			break
		}
	}
	if len(fit) < 2 {
		fit = t.Points[max(len(t.Points)-2, 0):]
	}
	if len(fit) < 2 {
		return t, fmt.Errorf("%w: group %q: too few pairs for a tail", ErrCalibration, group)
	}
	var sx, sy, sxx, sxy float64
	for _, p := range fit {
		x, y := float64(p.Distance), math.Log10(p.FMR)
		sx += x
		sy += y
		sxx += x * x
		sxy += x * y
	}
	m := float64(len(fit))
	den := m*sxx - sx*sx
	if den <= 0 {
		return t, fmt.Errorf("%w: group %q: flat tail", ErrCalibration, group)
	}
	t.TailB = (m*sxy - sx*sy) / den
	t.TailA = (sy - t.TailB*sx) / m
	if t.TailB <= 0 {
		return t, fmt.Errorf("%w: group %q: tail does not fall with distance", ErrCalibration, group)
	}
	return t, nil
}

// Distance is the distance at which the group's FMR equals fmr:
// interpolated (log FMR linear in distance) between measured points,
// extrapolated by the tail fit below them.
func (t GroupTail) Distance(fmr float64) float32 {
	p := t.Points
	if len(p) == 0 || fmr <= 0 {
		return 0
	}
	if fmr >= p[0].FMR {
		return p[0].Distance
	}
	last := p[len(p)-1]
	if fmr < last.FMR {
		d := (math.Log10(fmr) - t.TailA) / t.TailB
		return float32(math.Max(0, math.Min(d, float64(last.Distance))))
	}
	i := sort.Search(len(p), func(i int) bool { return p[i].FMR <= fmr })
	hi, lo := p[i-1], p[i]
	if hi.FMR == lo.FMR {
		return lo.Distance
	}
	w := (math.Log10(fmr) - math.Log10(lo.FMR)) / (math.Log10(hi.FMR) - math.Log10(lo.FMR))
	return lo.Distance + float32(w)*(hi.Distance-lo.Distance)
}

// FMR is the group's false-match rate at distance d (the inverse of Distance).
func (t GroupTail) FMR(d float32) float64 {
	p := t.Points
	if len(p) == 0 {
		return 1
	}
	if d >= p[0].Distance {
		return p[0].FMR
	}
	last := p[len(p)-1]
	if d < last.Distance {
		return math.Min(last.FMR, math.Pow(10, t.TailA+t.TailB*float64(d)))
	}
	i := sort.Search(len(p), func(i int) bool { return p[i].Distance <= d })
	hi, lo := p[i-1], p[i]
	if hi.Distance == lo.Distance {
		return lo.FMR
	}
	w := float64(d-lo.Distance) / float64(hi.Distance-lo.Distance)
	return math.Pow(10, math.Log10(lo.FMR)+w*(math.Log10(hi.FMR)-math.Log10(lo.FMR)))
}

// Validate checks a calibration read from a file.
func (c *Calibration) Validate() error {
	if len(c.Groups) == 0 {
		return errors.New("no groups")
	}
	for _, g := range c.Groups {
		if len(g.Points) == 0 {
			return fmt.Errorf("group %q has no points", g.Group)
		}
		for i, p := range g.Points {
			if !(p.FMR > 0 && p.FMR <= 1) || !finite(float64(p.Distance)) || p.Distance < 0 {
				return fmt.Errorf("group %q point %d: %+v", g.Group, i, p)
			}
			if i > 0 && (p.FMR >= g.Points[i-1].FMR || p.Distance > g.Points[i-1].Distance) {
				return fmt.Errorf("group %q: points must fall in FMR and distance", g.Group)
			}
		}
		if !finite(g.TailA) || !finite(g.TailB) || g.TailB <= 0 {
			return fmt.Errorf("group %q: bad tail fit", g.Group)
		}
	}
	return nil
}

// deciding lists the groups large enough to set thresholds, or all of them
// when none is.
func (c *Calibration) deciding() []GroupTail {
	var out []GroupTail
	for _, g := range c.Groups {
		if g.ImpostorPairs >= MinTailPairs {
			out = append(out, g)
		}
	}
	if len(out) == 0 {
		return c.Groups
	}
	return out
}

// Distance is the largest distance at which no deciding group's FMR
// exceeds fmr, and the group that sets it.
func (c *Calibration) Distance(fmr float64) (float32, string) {
	best, who := float32(math.Inf(1)), ""
	for _, g := range c.deciding() {
		if d := g.Distance(fmr); d < best {
			best, who = d, g.Group
		}
	}
	if who == "" {
		return 0, ""
	}
	return best, who
}

// FMR is the worst deciding group's false-match rate at distance d.
func (c *Calibration) FMR(d float32) float64 {
	worst := 0.0
	for _, g := range c.deciding() {
		worst = math.Max(worst, g.FMR(d))
	}
	return worst
}

// ComparisonFMR is the per-comparison false-match rate that gives a
// false-positive identification rate fpir in a gallery of n templates,
// when impostor comparisons are independent: 1 − (1 − fpir)^(1/n).
func ComparisonFMR(fpir float64, n int) float64 {
	if n <= 1 {
		return fpir
	}
	return -math.Expm1(math.Log1p(-fpir) / float64(n))
}

// SearchDistance is the 1:N distance threshold for a target FPIR in a
// gallery of n templates: it tightens as the gallery grows.
func (c *Calibration) SearchDistance(fpir float64, n int) float32 {
	d, _ := c.Distance(ComparisonFMR(fpir, max(n, 1)))
	return d
}
