package config

import "math"

// FaceSearch sets the two bands of the 1:N face search. Targets are false-
// positive identification rates (the share of travellers who are not
// listed whose search ends in a HIT, or in a HIT or possible match); the
// daemon converts them into distances with its face model's calibration
// and the number of templates installed, so the bands tighten as the list
// grows. Distances, when given, override the targets; they belong to one
// model. Within the hit band a candidate is a HIT; within the possible
// band the lane refers (possible_match) and the officer compares the faces.
type FaceSearch struct {
	HitFPIR          float64 `yaml:"hit_fpir"`
	PossibleFPIR     float64 `yaml:"possible_fpir"`
	HitDistance      float32 `yaml:"hit_distance"`
	PossibleDistance float32 `yaml:"possible_distance"`
	// Candidates is how many listed persons a search can put before the
	// officer (1..50).
	Candidates int `yaml:"candidates"`
	// Categories refine the bands per person category (wanted,
	// refused_entry, …); absent keys inherit the values above.
	Categories map[string]FaceBand `yaml:"categories"`
}

// FaceBand is one category's bands; zero values inherit.
type FaceBand struct {
	HitFPIR          float64 `yaml:"hit_fpir"`
	PossibleFPIR     float64 `yaml:"possible_fpir"`
	HitDistance      float32 `yaml:"hit_distance"`
	PossibleDistance float32 `yaml:"possible_distance"`
}

// DefaultFaceSearch is what the daemon ships: HIT at an FPIR of 0.1%,
// possible match at 1%, five candidates.
func DefaultFaceSearch() FaceSearch {
	return FaceSearch{HitFPIR: 0.001, PossibleFPIR: 0.01, Candidates: 5}
}

func (f FaceSearch) validate(bad func(field, format string, args ...any)) {
	band := func(field string, b FaceBand) {
		for _, v := range []struct {
			key string
			x   float64
		}{{"hit_fpir", b.HitFPIR}, {"possible_fpir", b.PossibleFPIR}} {
			if math.IsNaN(v.x) || v.x < 0 || v.x > 0.5 {
				bad(field+"."+v.key, "%v: a rate between 0 and 0.5 (0.01 = 1%% of searches)", v.x)
			}
		}
		for _, v := range []struct {
			key string
			x   float32
		}{{"hit_distance", b.HitDistance}, {"possible_distance", b.PossibleDistance}} {
			if math.IsNaN(float64(v.x)) || v.x < 0 || v.x > 4 {
				bad(field+"."+v.key, "%v: a distance between 0 and 4", v.x)
			}
		}
		if b.HitFPIR > 0 && b.PossibleFPIR > 0 && b.HitFPIR > b.PossibleFPIR {
			bad(field, "hit_fpir %v above possible_fpir %v: the hit band must be the stricter", b.HitFPIR, b.PossibleFPIR)
		}
		if b.HitDistance > 0 && b.PossibleDistance > 0 && b.HitDistance > b.PossibleDistance {
			bad(field, "hit_distance %v beyond possible_distance %v: the hit band must be the stricter", b.HitDistance, b.PossibleDistance)
		}
	}
	def := FaceBand{HitFPIR: f.HitFPIR, PossibleFPIR: f.PossibleFPIR, HitDistance: f.HitDistance, PossibleDistance: f.PossibleDistance}
	band("watchlist.face", def)
	if def == (FaceBand{}) {
		bad("watchlist.face", "needs hit_fpir/possible_fpir targets or hit_distance/possible_distance")
	}
	if f.Candidates < 1 || f.Candidates > 50 {
		bad("watchlist.face.candidates", "%d: between 1 and 50", f.Candidates)
	}
	for c, b := range f.Categories {
		if c == "" {
			bad("watchlist.face.categories", "a band without a category name")
		}
		band("watchlist.face.categories."+c, b)
	}
}

func (c *Config) validateVisionModel(bad func(field, format string, args ...any)) {
	switch c.Vision.Embedder {
	case "dlib":
		if c.Vision.Model != "" {
			bad("vision.model", "is for embedder onnx")
		}
	case "onnx":
		if c.Vision.Model == "" {
			bad("vision.model", "required with embedder onnx: the model's metadata file (models/README.md)")
		}
	default:
		bad("vision.embedder", "%q: want dlib or onnx", c.Vision.Embedder)
	}
	if c.Vision.FuseFrames < 1 || c.Vision.FuseFrames > 10 {
		bad("vision.fuse_frames", "%d: between 1 and 10", c.Vision.FuseFrames)
	}
}
