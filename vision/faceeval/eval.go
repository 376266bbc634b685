package faceeval

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	"github.com/checkpoint-edge/checkpoint/vision"
)

// Sample is one photo's primary face.
type Sample struct {
	Person string // unique within Group
	Group  string
	File   string // for reports; never logged with the descriptor
	Vec    []float32
	// Yaw is the face's estimated head turn in degrees, Pass whether it
	// passed the capture quality gate.
	Yaw  float64
	Pass bool
}

func (s Sample) key() string { return s.Group + "\x00" + s.Person }

// Point is one point of a DET curve: a false-positive rate (FMR or FPIR)
// and the false-negative rate (FNMR or FNIR) at the same threshold.
type Point struct {
	Threshold float32 `json:"threshold"`
	FP        float64 `json:"fp"`
	FN        float64 `json:"fn"`
}

// AtRate is a rate read at a false-positive target.
type AtRate struct {
	Target    float64 `json:"target"`
	Threshold float32 `json:"threshold"`
	// TP is the true-positive rate there (TAR, or 1 − FNIR).
	TP float64 `json:"tp"`
	// Measurable is false when fewer than one false positive is expected
	// at the target (too few negatives): the figure is an optimistic bound.
	Measurable bool `json:"measurable"`
}

// Verification is the 1:1 result of one group (or all samples).
type Verification struct {
	Group         string   `json:"group"`
	Samples       int      `json:"samples"`
	People        int      `json:"people"`
	GenuinePairs  int      `json:"genuine_pairs"`
	ImpostorPairs int      `json:"impostor_pairs"`
	Accuracy      float64  `json:"accuracy_10fold"`
	AccuracySD    float64  `json:"accuracy_sd"`
	EER           float64  `json:"eer"`
	TAR           []AtRate `json:"tar_at_far"`
	DET           []Point  `json:"det"`
}

// FARTargets are the false-accept rates TAR is read at.
var FARTargets = []float64{1e-2, 1e-3}

// FPIRTargets are the false-positive identification rates FNIR is read at.
var FPIRTargets = []float64{1e-2, 1e-3}

func distances(samples []Sample) (gen, imp []float32) {
	for i := range samples {
		for j := i + 1; j < len(samples); j++ {
			d := vision.Distance(samples[i].Vec, samples[j].Vec)
			if samples[i].key() == samples[j].key() {
				gen = append(gen, d)
			} else {
				imp = append(imp, d)
			}
		}
	}
	slices.Sort(gen)
	slices.Sort(imp)
	return gen, imp
}

// below counts the values ≤ t in sorted v.
func below(v []float32, t float32) int {
	return sort.Search(len(v), func(i int) bool { return v[i] > t })
}

// thresholdAt is the largest threshold whose false-positive rate over the
// sorted negatives neg is at most target.
func thresholdAt(neg []float32, target float64) (float32, bool) {
	k := int(math.Floor(target * float64(len(neg))))
	if k <= 0 {
		if len(neg) == 0 {
			return 0, false
		}
		return math.Nextafter32(neg[0], 0), false
	}
	t := neg[k-1]
	// Ties: step below the tied value when it would exceed the target.
	if below(neg, t) > k {
		t = math.Nextafter32(t, 0)
	}
	return t, true
}

// det samples the DET curve at every negative quantile on a log grid.
func det(pos, neg []float32, posIsMiss func(t float32) float64) []Point {
	var out []Point
	for e := -6.0; e <= 0; e += 0.1 {
		target := math.Pow(10, e)
		t, ok := thresholdAt(neg, target)
		if !ok {
			continue
		}
		out = append(out, Point{Threshold: t, FP: float64(below(neg, t)) / float64(len(neg)), FN: posIsMiss(t)})
	}
	return out
}

// Verify measures 1:1 verification over every pair of samples.
// Accuracy is LFW-style: 10 folds of disjoint people, genuine pairs and as
// many impostor pairs drawn within each fold (seeded), the threshold chosen
// on nine folds and tested on the tenth.
func Verify(group string, samples []Sample, seed uint64) (Verification, error) {
	v := Verification{Group: group, Samples: len(samples)}
	people := map[string]int{}
	for _, s := range samples {
		if _, ok := people[s.key()]; !ok {
			people[s.key()] = len(people)
		}
	}
	v.People = len(people)
	gen, imp := distances(samples)
	v.GenuinePairs, v.ImpostorPairs = len(gen), len(imp)
	if len(gen) == 0 || len(imp) == 0 {
		return v, fmt.Errorf("%w: group %q: %d genuine and %d impostor pairs", vision.ErrCalibration, group, len(gen), len(imp))
	}
	miss := func(t float32) float64 { return float64(len(gen)-below(gen, t)) / float64(len(gen)) }
	for _, far := range FARTargets {
		t, ok := thresholdAt(imp, far)
		v.TAR = append(v.TAR, AtRate{Target: far, Threshold: t, TP: 1 - miss(t), Measurable: ok})
	}
	v.DET = det(gen, imp, miss)
	v.EER = 1
	for _, p := range v.DET {
		v.EER = math.Min(v.EER, math.Max(p.FP, p.FN))
	}
	v.Accuracy, v.AccuracySD = tenFold(samples, people, seed)
	return v, nil
}

type pair struct {
	d    float32
	same bool
	fold int
}

func tenFold(samples []Sample, people map[string]int, seed uint64) (float64, float64) {
	const folds = 10
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	perm := r.Perm(len(people))
	fold := func(s Sample) int { return perm[people[s.key()]] % folds }
	var pairs []pair
	byFold := make([][]int, folds)
	for i, s := range samples {
		byFold[fold(s)] = append(byFold[fold(s)], i)
	}
	for f, idx := range byFold {
		var gen, n int
		for a := range idx {
			for b := a + 1; b < len(idx); b++ {
				if samples[idx[a]].key() == samples[idx[b]].key() {
					pairs = append(pairs, pair{vision.Distance(samples[idx[a]].Vec, samples[idx[b]].Vec), true, f})
					gen++
				}
			}
		}
		// As many impostor pairs as genuine ones, within the fold.
		for tries := 0; n < gen && tries < 100*gen+1000 && len(idx) > 1; tries++ {
			a, b := idx[r.IntN(len(idx))], idx[r.IntN(len(idx))]
			if samples[a].key() == samples[b].key() {
				continue
			}
			pairs = append(pairs, pair{vision.Distance(samples[a].Vec, samples[b].Vec), false, f})
			n++
		}
	}
	accuracy := func(ps []pair, t float32) float64 {
		ok := 0
		for _, p := range ps {
			if (p.d <= t) == p.same {
				ok++
			}
		}
		return float64(ok) / float64(max(len(ps), 1))
	}
	var accs []float64
	for f := range folds {
		var train, test []pair
		for _, p := range pairs {
			if p.fold == f {
				test = append(test, p)
			} else {
				train = append(train, p)
			}
		}
		if len(test) == 0 {
			continue
		}
		// Sweep the sorted training distances: at threshold d the correct
		// decisions are the genuine pairs at or under d plus the impostor
		// pairs over it.
		slices.SortFunc(train, func(a, b pair) int {
			switch {
			case a.d < b.d:
				return -1
			case a.d > b.d:
				return 1
			}
			return 0
		})
		impTotal := 0
		for _, p := range train {
			if !p.same {
				impTotal++
			}
		}
		best, bestT := -1, float32(0)
		genUnder, impUnder := 0, 0
		for i, p := range train {
			if p.same {
				genUnder++
			} else {
				impUnder++
			}
			if i+1 < len(train) && train[i+1].d == p.d {
				continue
			}
			if c := genUnder + impTotal - impUnder; c > best {
				best, bestT = c, p.d
			}
		}
		accs = append(accs, accuracy(test, bestT))
	}
	if len(accs) == 0 {
		return 0, 0
	}
	var m, s2 float64
	for _, a := range accs {
		m += a
	}
	m /= float64(len(accs))
	for _, a := range accs {
		s2 += (a - m) * (a - m)
	}
	return m, math.Sqrt(s2 / float64(len(accs)))
}
