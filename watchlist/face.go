package watchlist

import (
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/checkpoint-edge/checkpoint/watchlist/faceindex"
)

// FaceHit is a listed person whose template is near the query.
type FaceHit struct {
	// Alert is the listed person; face templates carry no vectors.
	Alert    PersonAlert `json:"alert"`
	Distance float32     `json:"distance"`
	Score    float64     `json:"score"` // 1 at distance 0, 0.5 at the threshold
	Strength string      `json:"strength"`
	// Threshold is the 1:N distance the search used.
	Threshold float32 `json:"threshold"`
}

// FaceScore maps a distance to 0..1: 1 at 0, 0.5 at the threshold, 0 at
// twice the threshold.
func FaceScore(d, threshold float32) float64 {
	s := 1 - 0.5*float64(d)/float64(threshold)
	return min(max(s, 0), 1)
}

// faceStrength grades a distance against the threshold: well inside it
// (three quarters or less) is strong.
func faceStrength(d, threshold float32) string {
	switch {
	case d <= 0.75*threshold:
		return "strong"
	case d <= threshold:
		return "possible"
	}
	return "none"
}

// SearchFace returns the k listed persons whose templates are nearest to
// vec within Options.FaceMaxDistance, nearest first (one hit per person).
// vec must come from the watchlist's face model (ErrModelMismatch).
func (s *Store) SearchFace(vec []float32, modelID string, k int) ([]FaceHit, error) {
	sn, tx, err := s.acquire()
	if err != nil {
		return nil, err
	}
	defer s.done(sn, tx)
	return s.searchFace(sn, tx, vec, modelID, k)
}

func (s *Store) searchFace(sn *snapshot, tx *bolt.Tx, vec []float32, modelID string, k int) ([]FaceHit, error) {
	if k <= 0 {
		k = 10
	}
	if sn.meta.FaceModelID != "" && modelID != sn.meta.FaceModelID {
		return nil, fmt.Errorf("%w: query from %q, watchlist templates from %q", ErrModelMismatch, modelID, sn.meta.FaceModelID)
	}
	if sn.faces == nil {
		return nil, nil
	}
	// Ask for more than k: one person may hold several templates.
	res, err := sn.faces.Search(modelID, vec, 2*k, s.opts.FaceMaxDistance)
	if err != nil {
		if errors.Is(err, faceindex.ErrModelMismatch) {
			return nil, fmt.Errorf("%w: %v", ErrModelMismatch, err)
		}
		return nil, fmt.Errorf("%w: %v", ErrBadQuery, err)
	}
	g := tx.Bucket(genName(sn.gen))
	if g == nil {
		return nil, nil
	}
	persons := g.Bucket(subPersons)
	seen := make(map[blindKey]bool)
	var hits []FaceHit
	var errs []error
	for _, r := range res {
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
		hits = append(hits, FaceHit{Alert: *p, Distance: r.Distance, Threshold: s.opts.FaceMaxDistance,
			Score: FaceScore(r.Distance, s.opts.FaceMaxDistance), Strength: faceStrength(r.Distance, s.opts.FaceMaxDistance)})
		if len(hits) == k {
			break
		}
	}
	return hits, errors.Join(errs...)
}
