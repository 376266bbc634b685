package watchlist

import (
	"errors"
	"fmt"
	"math"
	"sync"

	bolt "go.etcd.io/bbolt"

	"github.com/checkpoint-edge/checkpoint/vision"
	"github.com/checkpoint-edge/checkpoint/watchlist/faceindex"
)

// A face search returns candidates in two bands. Within the hit distance a
// candidate is a HIT (Hit.Level LevelHit); between the hit and the possible
// distance it is a possible match for the officer to confirm or dismiss
// (LevelPossible: the lane refers). The distances come from targets — the
// false-positive identification rate one search may have — converted by
// the face model's calibration for the number of templates installed, so
// they tighten as the list grows; or they are given outright.

// FaceBand sets the two bands of a person category. Zero fields inherit
// from FacePolicy.Default.
type FaceBand struct {
	// HitFPIR and PossibleFPIR are targets: the share of searches for
	// travellers who are not listed that may end in a HIT, or in a HIT or
	// possible match.
	HitFPIR      float64
	PossibleFPIR float64
	// HitDistance and PossibleDistance, when set, override the targets
	// (distances are per model: set them for the model the watchlist holds).
	HitDistance      float32
	PossibleDistance float32
}

// FacePolicy is how face searches turn distances into hits.
type FacePolicy struct {
	// Default applies to categories without their own band.
	Default FaceBand
	// Categories refine the bands per person category (a wanted person
	// may deserve a looser possible band than a refused-entry note).
	Categories map[string]FaceBand
	// Candidates caps the persons one search returns; 0 means
	// DefaultFaceCandidates.
	Candidates int
	// Calibration converts targets into distances: the calibration of the
	// model that computes the probes (vision.ModelInfo.Calibration). nil
	// means targets cannot be used: explicit distances, or
	// Options.FaceMaxDistance for both bands.
	Calibration *vision.Calibration
}

// Defaults of a FacePolicy.
const (
	DefaultFaceCandidates = 5
	MaxFaceCandidates     = 50
)

// DefaultFacePolicy is the targets the daemon ships with: HIT at an FPIR of
// 0.1%, possible match at 1%.
func DefaultFacePolicy(cal *vision.Calibration) FacePolicy {
	return FacePolicy{Default: FaceBand{HitFPIR: vision.DefaultHitFPIR, PossibleFPIR: vision.DefaultPossibleFPIR},
		Candidates: DefaultFaceCandidates, Calibration: cal}
}

// Validate reports a policy that cannot give distances.
func (p FacePolicy) Validate() error {
	var errs []error
	check := func(name string, b FaceBand, def bool) {
		for _, f := range []float64{b.HitFPIR, b.PossibleFPIR} {
			if math.IsNaN(f) || f < 0 || f > 0.5 {
				errs = append(errs, fmt.Errorf("%s: FPIR %v outside 0..0.5", name, f))
			}
		}
		for _, d := range []float32{b.HitDistance, b.PossibleDistance} {
			if math.IsNaN(float64(d)) || d < 0 || d > 4 {
				errs = append(errs, fmt.Errorf("%s: distance %v outside 0..4", name, d))
			}
		}
		if b.HitFPIR > 0 && b.PossibleFPIR > 0 && b.HitFPIR > b.PossibleFPIR {
			errs = append(errs, fmt.Errorf("%s: hit FPIR %v above possible FPIR %v", name, b.HitFPIR, b.PossibleFPIR))
		}
		if b.HitDistance > 0 && b.PossibleDistance > 0 && b.HitDistance > b.PossibleDistance {
			errs = append(errs, fmt.Errorf("%s: hit distance %v beyond possible distance %v", name, b.HitDistance, b.PossibleDistance))
		}
		if def && b == (FaceBand{}) {
			errs = append(errs, fmt.Errorf("%s: no target and no distance", name))
		}
	}
	check("default band", p.Default, false)
	for c, b := range p.Categories {
		if c == "" {
			errs = append(errs, errors.New("a category band without a category"))
		}
		check("category "+c, b, false)
	}
	if p.Candidates < 0 || p.Candidates > MaxFaceCandidates {
		errs = append(errs, fmt.Errorf("candidates %d outside 0..%d", p.Candidates, MaxFaceCandidates))
	}
	return errors.Join(errs...)
}

// FaceBands are one category's distances for the installed watchlist.
type FaceBands struct {
	Hit      float32 `json:"hit"`
	Possible float32 `json:"possible"`
}

// bands resolves a policy for a gallery of n templates.
type bands struct {
	def      FaceBands
	cats     map[string]FaceBands
	max      float32 // the loosest possible distance of any category
	gallery  int
	fallback bool // no calibration: FaceMaxDistance stood in for targets
}

func (p FacePolicy) resolve(n int, fallback float32) bands {
	dist := func(fpir float64, explicit float32) (float32, bool) {
		switch {
		case explicit > 0:
			return explicit, true
		case fpir > 0 && p.Calibration != nil:
			return p.Calibration.SearchDistance(fpir, max(n, 1)), true
		}
		return 0, false
	}
	var usedFallback bool
	one := func(b FaceBand) FaceBands {
		if b.HitFPIR == 0 && b.HitDistance == 0 {
			b.HitFPIR, b.HitDistance = p.Default.HitFPIR, p.Default.HitDistance
		}
		if b.PossibleFPIR == 0 && b.PossibleDistance == 0 {
			b.PossibleFPIR, b.PossibleDistance = p.Default.PossibleFPIR, p.Default.PossibleDistance
		}
		hit, okH := dist(b.HitFPIR, b.HitDistance)
		poss, okP := dist(b.PossibleFPIR, b.PossibleDistance)
		switch {
		case !okH && !okP:
			hit, poss, usedFallback = fallback, fallback, true
		case !okP:
			poss = hit
		case !okH:
			hit = 0 // only a possible band: never a HIT by face alone
		}
		return FaceBands{Hit: min(hit, poss), Possible: poss}
	}
	r := bands{def: one(FaceBand{}), cats: map[string]FaceBands{}, gallery: n}
	r.max = r.def.Possible
	for c, b := range p.Categories {
		fb := one(b)
		r.cats[c] = fb
		r.max = max(r.max, fb.Possible)
	}
	r.fallback = usedFallback
	return r
}

func (b *bands) of(category string) FaceBands {
	if fb, ok := b.cats[category]; ok {
		return fb
	}
	return b.def
}

// faceBands caches the resolved bands of a snapshot.
type faceBands struct {
	once sync.Once
	b    bands
}

// FaceHit is a listed person whose template is near the query.
type FaceHit struct {
	// Alert is the listed person; face templates carry no vectors.
	Alert    PersonAlert `json:"alert"`
	Distance float32     `json:"distance"`
	Score    float64     `json:"score"` // 1 at distance 0, 0.5 at the possible distance
	// Level is LevelHit within the hit distance, else LevelPossible.
	Level string `json:"level"`
	// Strength says the similarity in words: "strong" (hit band) or
	// "possible" (possible band).
	Strength string `json:"strength"`
	// Bands are the distances of the person's category for this search.
	Bands FaceBands `json:"bands"`
	// Threshold is the possible distance (the outer band).
	Threshold float32 `json:"threshold"`
	// Gallery is the number of templates searched.
	Gallery int `json:"gallery"`
}

// FaceSearch describes one search without naming anybody: the best
// distance over the whole watchlist (whether or not it is in a band), the
// number of templates searched and the default bands. The daemon keeps
// these to show the score distribution at its post (vision traffic).
type FaceSearch struct {
	Top1    float32   `json:"top1"` // +Inf when the watchlist holds no template
	Gallery int       `json:"gallery"`
	Bands   FaceBands `json:"bands"`
}

// FaceScore maps a distance to 0..1: 1 at 0, 0.5 at the threshold, 0 at
// twice the threshold.
func FaceScore(d, threshold float32) float64 {
	if threshold <= 0 {
		return 0
	}
	s := 1 - 0.5*float64(d)/float64(threshold)
	return min(max(s, 0), 1)
}

// SearchFace returns the listed persons (up to k, one hit per person,
// nearest first) whose templates fall within their category's bands.
// vec must come from the watchlist's face model (ErrModelMismatch).
func (s *Store) SearchFace(vec []float32, modelID string, k int) ([]FaceHit, error) {
	hits, _, err := s.SearchFaceStats(vec, modelID, k)
	return hits, err
}

// SearchFaceStats is SearchFace with the search's anonymous statistics.
func (s *Store) SearchFaceStats(vec []float32, modelID string, k int) ([]FaceHit, FaceSearch, error) {
	sn, tx, err := s.acquire()
	if err != nil {
		return nil, FaceSearch{}, err
	}
	defer s.done(sn, tx)
	return s.searchFace(sn, tx, vec, modelID, k)
}

// FaceBandsOf reports the bands a category gets in the installed watchlist
// ("" for the default) and the number of templates they are computed for.
func (s *Store) FaceBandsOf(category string) (FaceBands, int) {
	s.mu.RLock()
	sn := s.cur
	s.mu.RUnlock()
	if sn == nil {
		return FaceBands{}, 0
	}
	b := s.snapshotBands(sn)
	return b.of(category), b.gallery
}

func (s *Store) snapshotBands(sn *snapshot) *bands {
	sn.bands.once.Do(func() {
		n := 0
		if sn.faces != nil {
			n = sn.faces.Len()
		}
		sn.bands.b = s.opts.Face.resolve(n, s.opts.FaceMaxDistance)
	})
	return &sn.bands.b
}

func (s *Store) searchFace(sn *snapshot, tx *bolt.Tx, vec []float32, modelID string, k int) ([]FaceHit, FaceSearch, error) {
	stats := FaceSearch{Top1: float32(math.Inf(1))}
	if k <= 0 {
		k = s.opts.Face.Candidates
	}
	if k <= 0 {
		k = DefaultFaceCandidates
	}
	if sn.meta.FaceModelID != "" && modelID != sn.meta.FaceModelID {
		return nil, stats, fmt.Errorf("%w: query from %q, watchlist templates from %q", ErrModelMismatch, modelID, sn.meta.FaceModelID)
	}
	if sn.faces == nil {
		return nil, stats, nil
	}
	b := s.snapshotBands(sn)
	stats.Gallery, stats.Bands = b.gallery, b.def
	// Ask for more than k, unbounded: one person may hold several
	// templates, and the best distance is wanted even when it is in no band.
	res, err := sn.faces.Search(modelID, vec, 2*k+4, float32(math.Inf(1)))
	if err != nil {
		if errors.Is(err, faceindex.ErrModelMismatch) {
			return nil, stats, fmt.Errorf("%w: %v", ErrModelMismatch, err)
		}
		return nil, stats, fmt.Errorf("%w: %v", ErrBadQuery, err)
	}
	if len(res) > 0 {
		stats.Top1 = res[0].Distance
	}
	g := tx.Bucket(genName(sn.gen))
	if g == nil {
		return nil, stats, nil
	}
	persons := g.Bucket(subPersons)
	seen := make(map[blindKey]bool)
	var hits []FaceHit
	var errs []error
	for _, r := range res {
		if r.Distance > b.max {
			break // results are nearest first
		}
		if int(r.Ref) >= len(sn.faceRefs) {
			continue
		}
		pk := sn.faceRefs[r.Ref]
		if seen[pk] {
			continue
		}
		seen[pk] = true
		v := persons.Get(pk[:])
		if v == nil {
			continue
		}
		p, err := s.openPerson(g, pk, v, false)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		fb := b.of(p.Category)
		if r.Distance > fb.Possible {
			continue
		}
		h := FaceHit{Alert: *p, Distance: r.Distance, Bands: fb, Threshold: fb.Possible, Gallery: b.gallery,
			Score: FaceScore(r.Distance, fb.Possible), Level: LevelPossible, Strength: "possible"}
		if r.Distance <= fb.Hit {
			h.Level, h.Strength = LevelHit, "strong"
		}
		hits = append(hits, h)
		if len(hits) == k {
			break
		}
	}
	return hits, stats, errors.Join(errs...)
}
