package watchlist

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/checkpoint-edge/checkpoint/vision"
)

// testCalibration is a synthetic impostor tail: FMR 0.1 at distance 1.0,
// 0.01 at 0.8, 0.001 at 0.6, and log10(FMR) = −6 + 5·d below.
func testCalibration() *vision.Calibration {
	return &vision.Calibration{Model: "dlib-resnet-v1", Groups: []vision.GroupTail{{
		Group: "synthetic", ImpostorPairs: 1 << 20, GenuinePairs: 1000,
		Points: []vision.TailPoint{{FMR: 0.1, Distance: 1.0}, {FMR: 0.01, Distance: 0.8}, {FMR: 0.001, Distance: 0.6}},
		TailA:  -6, TailB: 5,
	}}}
}

// at returns a unit vector of dim dimensions at distance d from axis 0.
func at(dim int, d float64, axis int) []float32 {
	v := make([]float32, dim)
	a := 1 - d*d/2
	v[0], v[axis] = float32(a), float32(math.Sqrt(1-a*a))
	return v
}

func facePerson(id, category string, vecs ...[]float32) Change {
	p := PersonAlert{ID: id, Name: Name{Surname: "PERSON", GivenNames: id}, Category: category, Action: ActionRefer, Source: "test"}
	for i, v := range vecs {
		p.Faces = append(p.Faces, FaceTemplate{ID: fmt.Sprintf("%s-F%d", id, i), ModelID: "dlib-resnet-v1", Vector: v})
	}
	return personPut(p)
}

func TestFaceBands(t *testing.T) {
	pol := FacePolicy{Default: FaceBand{HitFPIR: 1e-3, PossibleFPIR: 1e-2}, Candidates: 3, Calibration: testCalibration(),
		Categories: map[string]FaceBand{"wanted": {PossibleFPIR: 5e-2}, "refused_entry": {HitDistance: 0.1, PossibleDistance: 0.2}}}
	if err := pol.Validate(); err != nil {
		t.Fatal(err)
	}
	s := MustOpen(t, Options{Face: pol})
	q := at(FaceDim, 0, 1)
	// Ten templates: n = 10 → the default hit band at FMR 1e-4 per
	// comparison (d = 0.4), possible at 1e-3 (d = 0.6); wanted possible
	// at 5e-3 (d ≈ 0.74).
	mustReplace(t, s.Store, 1,
		facePerson("NEAR", "alert", at(FaceDim, 0.3, 2)),
		facePerson("MID", "alert", at(FaceDim, 0.5, 3), at(FaceDim, 1.2, 4)),
		facePerson("WANTED", "wanted", at(FaceDim, 0.7, 5)),
		facePerson("REFUSED", "refused_entry", at(FaceDim, 0.35, 6)),
		facePerson("FAR", "alert", at(FaceDim, 0.9, 7), at(FaceDim, 1.0, 8)),
		facePerson("OTHERS", "alert", at(FaceDim, 1.3, 9), at(FaceDim, 1.3, 10), at(FaceDim, 1.3, 11)),
	)
	def, n := s.FaceBandsOf("")
	if n != 10 || math.Abs(float64(def.Hit)-0.4) > 1e-3 || math.Abs(float64(def.Possible)-0.6) > 1e-3 {
		t.Fatalf("default bands %+v for %d templates", def, n)
	}
	hits, st, err := s.SearchFaceStats(q, "dlib-resnet-v1", 0)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]FaceHit{}
	for _, h := range hits {
		got[h.Alert.ID] = h
	}
	want := map[string]string{"NEAR": LevelHit, "MID": LevelPossible, "WANTED": LevelPossible}
	if len(hits) != 3 {
		t.Errorf("%d candidates, want 3: %+v", len(hits), hits)
	}
	for id, lvl := range want {
		h, ok := got[id]
		if !ok || h.Level != lvl {
			t.Errorf("%s: %+v, want level %s", id, h, lvl)
		}
	}
	if got["NEAR"].Strength != "strong" || got["MID"].Strength != "possible" {
		t.Errorf("strength in words: %q %q", got["NEAR"].Strength, got["MID"].Strength)
	}
	// REFUSED (0.35) is within the default bands but outside its category's 0.2.
	if _, ok := got["REFUSED"]; ok {
		t.Error("refused_entry candidate outside its own band")
	}
	if st.Gallery != 10 || math.Abs(float64(st.Top1)-0.3) > 1e-4 || st.Bands != def {
		t.Errorf("stats %+v", st)
	}
	// The candidate list is capped and ordered nearest first.
	hits, _ = s.SearchFace(q, "dlib-resnet-v1", 2)
	if len(hits) != 2 || hits[0].Alert.ID != "NEAR" || hits[1].Alert.ID != "MID" {
		t.Errorf("top 2: %+v", hits)
	}
	// A probe far from everybody still reports its best distance.
	_, st, _ = s.SearchFaceStats(at(FaceDim, 1.9, 12), "dlib-resnet-v1", 0)
	if st.Top1 < 1 || st.Gallery != 10 {
		t.Errorf("far probe stats %+v", st)
	}

	// Check carries the levels into Hits and the stats into Result.
	res, err := s.Check(context.Background(), Query{Face: q, FaceModelID: "dlib-resnet-v1"})
	if err != nil || res.Face == nil || res.Face.Gallery != 10 {
		t.Fatalf("check: %+v %v", res, err)
	}
	levels := map[string]int{}
	for _, h := range res.Hits {
		levels[h.LevelOrHit()]++
		if h.Kind != HitFace || h.Person == nil || h.Explanation == "" {
			t.Errorf("hit %+v", h)
		}
	}
	if levels[LevelHit] != 1 || levels[LevelPossible] != 2 {
		t.Errorf("levels %v", levels)
	}

	// A larger watchlist tightens the bands: 1,000 templates.
	var many []Change
	for i := 0; i < 100; i++ {
		vs := make([][]float32, 10)
		for k := range vs {
			vs[k] = randVec(uint64(i*10 + k + 1))
		}
		many = append(many, facePerson(fmt.Sprintf("B%03d", i), "alert", vs...))
	}
	mustReplace(t, s.Store, 2, many...)
	big, n := s.FaceBandsOf("")
	if n != 1000 || big.Hit >= def.Hit || big.Possible >= def.Possible {
		t.Errorf("1,000 templates: %+v, 10 templates: %+v", big, def)
	}
}

func TestFacePolicyFallbackAndValidation(t *testing.T) {
	// No calibration: FaceMaxDistance serves both bands (everything in it is a HIT).
	s := MustOpen(t, Options{FaceMaxDistance: 0.5})
	mustReplace(t, s.Store, 1, facePerson("A", "alert", at(FaceDim, 0.4, 2)), facePerson("B", "alert", at(FaceDim, 0.6, 3)))
	hits, err := s.SearchFace(at(FaceDim, 0, 1), "dlib-resnet-v1", 0)
	if err != nil || len(hits) != 1 || hits[0].Alert.ID != "A" || hits[0].Level != LevelHit {
		t.Fatalf("fallback: %+v %v", hits, err)
	}
	bad := []FacePolicy{
		{Default: FaceBand{HitFPIR: 0.02, PossibleFPIR: 0.01}},
		{Default: FaceBand{HitDistance: 0.9, PossibleDistance: 0.5}},
		{Default: FaceBand{HitFPIR: -1}},
		{Default: FaceBand{HitFPIR: math.NaN()}},
		{Categories: map[string]FaceBand{"": {HitFPIR: 0.01}}},
		{Candidates: MaxFaceCandidates + 1},
	}
	for i, p := range bad {
		if err := p.Validate(); err == nil {
			t.Errorf("policy %d accepted: %+v", i, p)
		}
	}
	if err := DefaultFacePolicy(nil).Validate(); err != nil {
		t.Error(err)
	}
}

// TestOtherModelDimensions: a watchlist of 192-D templates (MobileFaceNet)
// searches 192-D probes; mixing dimensions is refused.
func TestOtherModelDimensions(t *testing.T) {
	s := MustOpen(t, Options{Face: DefaultFacePolicy(testCalibration())})
	mustReplace(t, s.Store, 1, facePerson("A", "alert", at(192, 0.05, 2)), facePerson("B", "alert", at(192, 1.2, 3)))
	hits, err := s.SearchFace(at(192, 0, 1), "dlib-resnet-v1", 0)
	if err != nil || len(hits) != 1 || hits[0].Alert.ID != "A" {
		t.Fatalf("192-D search: %+v %v", hits, err)
	}
	if _, err := s.SearchFace(at(FaceDim, 0, 1), "dlib-resnet-v1", 0); !errors.Is(err, ErrBadQuery) {
		t.Errorf("128-D probe on a 192-D list: %v", err)
	}
	err = s.ReplaceAll(context.Background(), testMeta(2), &SliceSource{Changes: []Change{
		facePerson("A", "alert", at(192, 0.05, 2)), facePerson("C", "alert", at(FaceDim, 0.05, 2))}})
	if !errors.Is(err, ErrBadRecord) {
		t.Errorf("mixed dimensions: %v", err)
	}
	s.Reopen(t, Options{Face: DefaultFacePolicy(testCalibration())})
	if hits, _ := s.SearchFace(at(192, 0, 1), "dlib-resnet-v1", 0); len(hits) != 1 {
		t.Error("192-D index not rebuilt at open")
	}
}
