package watchlist

import (
	"fmt"

	"github.com/checkpoint-edge/checkpoint/watchlist/match"
)

// Thresholds are the person-matching levels a unit applies: a score at or
// above HitScore with at least HitEvidence is a HIT (LevelHit); at or above
// PossibleScore with at least PossibleEvidence a POSSIBLE match
// (LevelPossible, the lane refers and the officer judges); below, nothing.
// Zero fields take the tuned defaults (match.DefaultConfig). The evidence
// unit is explained at match.Config.
type Thresholds struct {
	HitScore         float64 `json:"hit_score"`
	PossibleScore    float64 `json:"possible_score"`
	HitEvidence      float64 `json:"hit_evidence"`
	PossibleEvidence float64 `json:"possible_evidence"`
	// The name similarity each level needs (not configurable: reported).
	HitNameScore      float64 `json:"hit_name_score"`
	PossibleNameScore float64 `json:"possible_name_score"`
}

// MatchConfig is the scoring configuration for Options.MatchConfig, nil
// when every field is zero (the defaults).
func (t Thresholds) MatchConfig() *match.Config {
	if t == (Thresholds{}) {
		return nil
	}
	c := match.DefaultConfig()
	if t.HitScore > 0 {
		c.HitThreshold = t.HitScore
	}
	if t.PossibleScore > 0 {
		c.PossibleThreshold = t.PossibleScore
	}
	if t.HitEvidence > 0 {
		// Names of one or two tokens need a little more, as by default.
		c.MinEvidence, c.MinEvidenceShort = t.HitEvidence, t.HitEvidence+(c.MinEvidenceShort-c.MinEvidence)
	}
	if t.PossibleEvidence > 0 {
		c.PossibleEvidence = t.PossibleEvidence
	}
	return &c
}

// Validate checks the thresholds are in range and ordered.
func (t Thresholds) Validate() error {
	eff := EffectiveThresholds(t.MatchConfig())
	switch {
	case t.HitScore < 0 || t.HitScore > 1 || t.PossibleScore < 0 || t.PossibleScore > 1:
		return fmt.Errorf("%w: scores are between 0 and 1", ErrBadQuery)
	case t.HitEvidence < 0 || t.PossibleEvidence < 0:
		return fmt.Errorf("%w: evidence is not negative", ErrBadQuery)
	case eff.PossibleScore > eff.HitScore:
		return fmt.Errorf("%w: the possible score %.2f exceeds the hit score %.2f", ErrBadQuery, eff.PossibleScore, eff.HitScore)
	}
	return nil
}

// EffectiveThresholds reports what a configuration applies (nil = the
// defaults), for `watchlist info` and the daemon's status.
func EffectiveThresholds(c *match.Config) Thresholds {
	cfg := match.DefaultConfig()
	if c != nil {
		cfg = c.WithDefaults()
	}
	return Thresholds{HitScore: cfg.HitThreshold, PossibleScore: cfg.PossibleThreshold, HitEvidence: cfg.MinEvidence,
		PossibleEvidence: cfg.PossibleEvidence, HitNameScore: cfg.MinNameScore, PossibleNameScore: cfg.PossibleNameScore}
}

// Thresholds reports the levels the store applies.
func (s *Store) Thresholds() Thresholds { return EffectiveThresholds(s.opts.MatchConfig) }
