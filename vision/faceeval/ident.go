package faceeval

import (
	"fmt"
	"math"
	"slices"

	"github.com/checkpoint-edge/checkpoint/vision"
)

// Identification is the 1:N result: every identity enrolled with its
// first Enrol photos; each remaining photo is a mated search against the
// whole gallery and a non-mated search against the gallery without its own
// identity (the traveller who is not on the list).
type Identification struct {
	Group     string  `json:"group"`
	Gallery   int     `json:"gallery_identities"`
	Templates int     `json:"gallery_templates"`
	Enrol     int     `json:"enrol_photos"`
	Fused     bool    `json:"fused"`
	Mated     int     `json:"mated_searches"`
	NonMated  int     `json:"non_mated_searches"`
	Rank1     float64 `json:"rank1"`
	// FNIR at FPIR targets: a mated search fails unless its mate is the
	// top candidate within the threshold.
	FNIR []AtRate `json:"fnir_at_fpir"`
	// Candidates is the length of the officer's candidate list;
	// FNIRList counts a mated search as found when its mate is anywhere
	// on that list within the threshold (the possible-match review).
	Candidates int      `json:"candidates"`
	FNIRList   []AtRate `json:"fnir_list_at_fpir"`
	DET        []Point  `json:"det"`
	// At are the rates at the thresholds asked for (the daemon's bands).
	At []Point `json:"at,omitempty"`
}

type search struct {
	top       float32 // top-1 distance
	topIsMate bool
	mate      float32 // the mate's distance (mated searches)
	mateRank  int     // 1-based
	group     string
}

// identity is one enrolled person.
type identity struct {
	key       string
	group     string
	templates [][]float32
}

// IdentifyOptions tune Identify.
type IdentifyOptions struct {
	// Enrol is the number of photos enrolled per identity (the rest are
	// probes); 0 means 1.
	Enrol int
	// Fuse averages the enrolled photos into one template instead of
	// scoring against each; Normalize rescales it as the model's
	// embeddings are.
	Fuse, Normalize bool
	// ProbeGroup restricts the searches to probes of one group ("" = all);
	// the gallery always holds every identity.
	ProbeGroup string
	// Thresholds are extra distances to report rates at.
	Thresholds []float32
	// Candidates is the candidate-list length for FNIRList; 0 means 5.
	Candidates int
}

// Identify runs the 1:N protocol on samples; name labels the result.
func Identify(name string, samples []Sample, o IdentifyOptions) (Identification, error) {
	enrol, fuse, normalize, group, thresholds := max(o.Enrol, 1), o.Fuse, o.Normalize, o.ProbeGroup, o.Thresholds
	res := Identification{Group: name, Enrol: enrol, Fused: fuse}
	byKey := map[string][]Sample{}
	var order []string
	for _, s := range samples {
		if _, ok := byKey[s.key()]; !ok {
			order = append(order, s.key())
		}
		byKey[s.key()] = append(byKey[s.key()], s)
	}
	var gallery []identity
	var probes []Sample
	for _, k := range order {
		ss := byKey[k]
		if len(ss) < res.Enrol {
			continue
		}
		id := identity{key: k, group: ss[0].Group}
		for _, s := range ss[:res.Enrol] {
			id.templates = append(id.templates, s.Vec)
		}
		if fuse && len(id.templates) > 1 {
			f, err := vision.Fuse(id.templates, normalize)
			if err != nil {
				return res, err
			}
			id.templates = [][]float32{f}
		}
		res.Templates += len(id.templates)
		gallery = append(gallery, id)
		probes = append(probes, ss[res.Enrol:]...)
	}
	res.Gallery = len(gallery)
	if len(gallery) < 2 || len(probes) == 0 {
		return res, fmt.Errorf("%w: %d identities, %d probes", vision.ErrCalibration, len(gallery), len(probes))
	}
	var mated, nonMated []search
	for _, p := range probes {
		if group != "" && p.Group != group {
			continue
		}
		best, second := float32(math.Inf(1)), float32(math.Inf(1)) // best overall, best other than the mate
		bestIsMate := false
		dists := make([]float32, len(gallery))
		mateAt := -1
		for k, id := range gallery {
			d := float32(math.Inf(1))
			for _, t := range id.templates {
				d = min(d, vision.Distance(p.Vec, t))
			}
			dists[k] = d
			mate := id.key == p.key()
			if mate {
				mateAt = k
			}
			if d < best {
				best, bestIsMate = d, mate
			}
			if !mate && d < second {
				second = d
			}
		}
		rank := 1
		for k, d := range dists {
			if k != mateAt && mateAt >= 0 && d < dists[mateAt] {
				rank++
			}
		}
		mated = append(mated, search{top: best, topIsMate: bestIsMate, mate: dists[max(mateAt, 0)], mateRank: rank, group: p.Group})
		nonMated = append(nonMated, search{top: second, group: p.Group})
	}
	res.Mated, res.NonMated = len(mated), len(nonMated)
	if len(mated) == 0 {
		return res, fmt.Errorf("%w: no probes in group %q", vision.ErrCalibration, group)
	}
	rank1 := 0
	for _, m := range mated {
		if m.topIsMate {
			rank1++
		}
	}
	res.Rank1 = float64(rank1) / float64(len(mated))
	neg := make([]float32, len(nonMated))
	for i, n := range nonMated {
		neg[i] = n.top
	}
	slices.Sort(neg)
	fnir := func(t float32) float64 {
		miss := 0
		for _, m := range mated {
			if !m.topIsMate || m.top > t {
				miss++
			}
		}
		return float64(miss) / float64(len(mated))
	}
	res.Candidates = o.Candidates
	if res.Candidates <= 0 {
		res.Candidates = 5
	}
	fnirList := func(t float32) float64 {
		miss := 0
		for _, m := range mated {
			if m.mateRank > res.Candidates || m.mate > t {
				miss++
			}
		}
		return float64(miss) / float64(len(mated))
	}
	for _, target := range FPIRTargets {
		t, ok := thresholdAt(neg, target)
		res.FNIR = append(res.FNIR, AtRate{Target: target, Threshold: t, TP: 1 - fnir(t), Measurable: ok})
		res.FNIRList = append(res.FNIRList, AtRate{Target: target, Threshold: t, TP: 1 - fnirList(t), Measurable: ok})
	}
	res.DET = det(nil, neg, fnir)
	for _, t := range thresholds {
		res.At = append(res.At, Point{Threshold: t, FP: float64(below(neg, t)) / float64(len(neg)), FN: fnir(t)})
	}
	return res, nil
}
