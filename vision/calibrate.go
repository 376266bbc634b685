package vision

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// Thresholds are the distances under which two descriptors are taken to be
// the same person.
type Thresholds struct {
	// Verify1to1 compares a traveller with their own document photo.
	Verify1to1 float32 `json:"verify_1to1"`
	// Search1toN compares a traveller with every face of a watchlist: each
	// search makes N comparisons, so the per-comparison false-match rate must
	// be about N times smaller, hence a much stricter threshold.
	Search1toN float32 `json:"search_1toN"`
}

// Sample is one labelled descriptor for calibration.
type Sample struct {
	Label string
	// Group is the population group the person belongs to (a data set,
	// or the group column of labels.csv); "" is one unnamed group.
	Group      string
	Descriptor []float32
}

// Rate is the error rates at one threshold.
type Rate struct {
	Threshold       float32 `json:"threshold"`
	FMR             float64 `json:"fmr"`  // impostor pairs at or under the threshold / impostor pairs
	FNMR            float64 `json:"fnmr"` // genuine pairs over the threshold / genuine pairs
	FalseMatches    int     `json:"false_matches"`
	FalseNonMatches int     `json:"false_non_matches"`
}

// GroupStats are the genuine and impostor distance statistics of one
// group (pairs within the group), or of the whole set.
type GroupStats struct {
	Group         string  `json:"group"`
	Samples       int     `json:"samples"`
	People        int     `json:"people"`
	GenuinePairs  int     `json:"genuine_pairs"`
	ImpostorPairs int     `json:"impostor_pairs"`
	GenuineMean   float64 `json:"genuine_mean"`
	GenuineMax    float64 `json:"genuine_max"`
	ImpostorMean  float64 `json:"impostor_mean"`
	ImpostorSD    float64 `json:"impostor_sd"`
	ImpostorMin   float64 `json:"impostor_min"`
	EER           float64 `json:"eer"` // equal error rate
	EERThreshold  float32 `json:"eer_threshold"`
	Table         []Rate  `json:"table"`
	// AtTargets are the group's rates at the recommended thresholds.
	AtTargets [2]Rate `json:"at_recommended"`
}

// CalibrationReport is the outcome of Calibrate.
type CalibrationReport struct {
	Samples int        `json:"samples"`
	People  int        `json:"people"`
	All     GroupStats `json:"all"`
	// Groups are per-group statistics when the samples carry more than one
	// group (impostor pairs within a group only, as NIST IR 8280 does).
	Groups []GroupStats `json:"groups,omitempty"`
	// Calibration holds every group's impostor tail: it converts targets
	// into distances for the daemon (vision.ModelMeta.Calibration).
	Calibration Calibration `json:"calibration"`
	// Gallery is the gallery size the 1:N recommendation is for.
	Gallery int `json:"gallery"`
	// Recommended thresholds meet TargetFMR1to1 and TargetFPIR for the
	// worst deciding group; WorstGroup names it. Both are zero when no
	// group has enough impostor pairs to measure a tail.
	Recommended Thresholds `json:"recommended"`
	WorstGroup  string     `json:"worst_group"`
}

// Calibration targets: FMR for 1:1 verification (Frontex's ABC figure) and
// the false-positive identification rate of a 1:N watchlist search, per
// search (at 1%, one traveller in a hundred who is not listed is referred).
const (
	TargetFMR1to1 = 1e-3
	TargetFPIR    = 1e-2
)

// DefaultGrid is the threshold grid of calibration tables.
func DefaultGrid() []float32 {
	var g []float32
	for t := 20; t <= 130; t += 5 {
		g = append(g, float32(t)/100)
	}
	return g
}

// pairDistances returns the genuine and impostor distances of samples:
// within each group when byGroup, else over all pairs.
func pairDistances(samples []Sample) (gen, imp []float32) {
	for i := range samples {
		for j := i + 1; j < len(samples); j++ {
			d := Distance(samples[i].Descriptor, samples[j].Descriptor)
			if samples[i].Label == samples[j].Label {
				gen = append(gen, d)
			} else {
				imp = append(imp, d)
			}
		}
	}
	return gen, imp
}

// Calibrate computes the genuine and impostor distance distributions of
// every pair of samples, overall and per group, the error rates on grid
// (nil: DefaultGrid), every group's impostor tail, and the thresholds that
// meet TargetFMR1to1 (1:1) and TargetFPIR in a gallery of gallery templates
// (1:N) for the worst group. People are told apart by Label within a group.
func Calibrate(samples []Sample, grid []float32, gallery int) (CalibrationReport, error) {
	var r CalibrationReport
	if grid == nil {
		grid = DefaultGrid()
	}
	r.Gallery = max(gallery, 1)
	r.Samples = len(samples)
	groups := map[string][]Sample{}
	var order []string
	people := map[[2]string]bool{}
	for _, s := range samples {
		if err := CheckDescriptor(s.Descriptor); err != nil {
			return r, fmt.Errorf("sample %q: %w", s.Label, err)
		}
		if len(s.Descriptor) != len(samples[0].Descriptor) {
			return r, fmt.Errorf("%w: sample %q has %d values, others %d", ErrDescriptor, s.Label, len(s.Descriptor), len(samples[0].Descriptor))
		}
		if _, ok := groups[s.Group]; !ok {
			order = append(order, s.Group)
		}
		groups[s.Group] = append(groups[s.Group], s)
		people[[2]string{s.Group, s.Label}] = true
	}
	r.People = len(people)
	// Labels are per group: the same name in two sets is two people.
	keyed := make([]Sample, len(samples))
	for i, s := range samples {
		keyed[i] = s
		keyed[i].Label = s.Group + "\x00" + s.Label
	}
	gen, imp := pairDistances(keyed)
	all, err := groupStats("all", gen, imp, grid)
	if err != nil {
		return r, err
	}
	all.Samples, all.People = len(samples), len(people)
	r.All = all
	type tailSrc struct {
		name     string
		gen, imp []float32
	}
	var tails []tailSrc
	if len(order) > 1 {
		for _, g := range order {
			gg, gi := pairDistances(groups[g])
			st, err := groupStats(g, gg, gi, grid)
			if err != nil {
				return r, fmt.Errorf("group %q: %w", g, err)
			}
			st.Samples = len(groups[g])
			for p := range people {
				if p[0] == g {
					st.People++
				}
			}
			r.Groups = append(r.Groups, st)
			tails = append(tails, tailSrc{g, gg, gi})
		}
	} else {
		tails = append(tails, tailSrc{order[0], gen, imp})
	}
	for _, ts := range tails {
		name := ts.name
		if name == "" {
			name = "all"
		}
		t, err := NewGroupTail(name, slices.Clone(ts.imp), len(ts.gen))
		if err != nil {
			// Too small to measure a tail: reported, not used.
			continue
		}
		r.Calibration.Groups = append(r.Calibration.Groups, t)
	}
	if len(r.Calibration.Groups) == 0 {
		// Statistics without a recommendation: too few pairs to measure a
		// false-match rate anywhere near the targets.
		return r, nil
	}
	var w1, wN string
	r.Recommended.Verify1to1, w1 = r.Calibration.Distance(TargetFMR1to1)
	r.Recommended.Search1toN, wN = r.Calibration.Distance(ComparisonFMR(TargetFPIR, r.Gallery))
	r.WorstGroup = wN
	if wN == "" {
		r.WorstGroup = w1
	}
	rateAt := func(st *GroupStats, g, i []float32) {
		st.AtTargets = [2]Rate{rateOf(g, i, r.Recommended.Verify1to1), rateOf(g, i, r.Recommended.Search1toN)}
	}
	rateAt(&r.All, gen, imp)
	for k := range r.Groups {
		gg, gi := pairDistances(groups[r.Groups[k].Group])
		slices.Sort(gg)
		slices.Sort(gi)
		rateAt(&r.Groups[k], gg, gi)
	}
	return r, nil
}

// rateOf is the error rates at t; gen and imp must be sorted.
func rateOf(gen, imp []float32, t float32) Rate {
	fm := sort.Search(len(imp), func(i int) bool { return imp[i] > t })
	fnm := len(gen) - sort.Search(len(gen), func(i int) bool { return gen[i] > t })
	r := Rate{Threshold: t, FalseMatches: fm, FalseNonMatches: fnm}
	if len(imp) > 0 {
		r.FMR = float64(fm) / float64(len(imp))
	}
	if len(gen) > 0 {
		r.FNMR = float64(fnm) / float64(len(gen))
	}
	return r
}

func groupStats(name string, gen, imp []float32, grid []float32) (GroupStats, error) {
	st := GroupStats{Group: name, GenuinePairs: len(gen), ImpostorPairs: len(imp)}
	if len(gen) == 0 || len(imp) == 0 {
		return st, fmt.Errorf("%w: %d genuine and %d impostor pairs", ErrCalibration, len(gen), len(imp))
	}
	slices.Sort(gen)
	slices.Sort(imp)
	st.GenuineMean, _ = meanSD(gen)
	st.GenuineMax = float64(gen[len(gen)-1])
	st.ImpostorMean, st.ImpostorSD = meanSD(imp)
	st.ImpostorMin = float64(imp[0])
	for _, t := range grid {
		st.Table = append(st.Table, rateOf(gen, imp, t))
	}
	st.EER, st.EERThreshold = eer(gen, imp)
	return st, nil
}

// eer sweeps every distinct distance for the equal error rate.
func eer(gen, imp []float32) (float64, float32) {
	best, at := 1.0, float32(0)
	hi := max(gen[len(gen)-1], imp[len(imp)-1])
	for k := 0; k <= 2000; k++ {
		t := hi * float32(k) / 2000
		r := rateOf(gen, imp, t)
		if e := math.Max(r.FMR, r.FNMR); e < best {
			best, at = e, t
		}
	}
	return best, at
}

func meanSD(v []float32) (float64, float64) {
	var s, s2 float64
	for _, x := range v {
		s += float64(x)
		s2 += float64(x) * float64(x)
	}
	n := float64(len(v))
	m := s / n
	return m, math.Sqrt(math.Max(0, s2/n-m*m))
}

// LabelledFile is one photo of a calibration or test set.
type LabelledFile struct {
	Path   string
	Person string
	// Group is the labels.csv group column, "" when it has none.
	Group string
	Note  string
}

// ReadLabels lists the labelled photos of dir: from dir/labels.csv
// (file,person[,group] or file,person,note, with a header) when it exists,
// else one subfolder per person holding JPEG or PNG files.
func ReadLabels(dir string) ([]LabelledFile, error) {
	f, err := os.Open(filepath.Join(dir, "labels.csv"))
	if err == nil {
		defer f.Close()
		return parseLabels(f, dir)
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("vision: read labels: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("vision: read labels: %w", err)
	}
	var out []LabelledFile
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		files, err := os.ReadDir(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("vision: read labels: %w", err)
		}
		for _, pf := range files {
			ext := strings.ToLower(filepath.Ext(pf.Name()))
			if pf.IsDir() || (ext != ".jpg" && ext != ".jpeg" && ext != ".png") {
				continue
			}
			out = append(out, LabelledFile{Path: filepath.Join(dir, e.Name(), pf.Name()), Person: e.Name()})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("vision: read labels: %s has neither labels.csv nor per-person subfolders of photos", dir)
	}
	return out, nil
}

func parseLabels(r io.Reader, dir string) ([]LabelledFile, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.Comment = '#'
	var out []LabelledFile
	line := 0
	third := "note" // what the third column holds without a header
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line++
		if err != nil {
			return nil, fmt.Errorf("vision: labels.csv: %w", err)
		}
		if line == 1 && len(rec) > 0 && strings.EqualFold(strings.TrimSpace(rec[0]), "file") {
			if len(rec) > 2 && strings.EqualFold(strings.TrimSpace(rec[2]), "group") {
				third = "group"
			}
			continue
		}
		if len(rec) < 2 || strings.TrimSpace(rec[0]) == "" || strings.TrimSpace(rec[1]) == "" {
			return nil, fmt.Errorf("vision: labels.csv line %d: want file,person[,group]", line)
		}
		lf := LabelledFile{Path: strings.TrimSpace(rec[0]), Person: strings.TrimSpace(rec[1])}
		if len(rec) > 2 {
			if third == "group" {
				lf.Group = strings.TrimSpace(rec[2])
			} else {
				lf.Note = strings.TrimSpace(rec[2])
			}
		}
		if !filepath.IsLocal(lf.Path) || filepath.Clean(lf.Path) == "." {
			return nil, fmt.Errorf("vision: labels.csv line %d: path must be inside the directory", line)
		}
		lf.Path = filepath.Join(dir, lf.Path)
		out = append(out, lf)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("vision: labels.csv: no entries")
	}
	return out, nil
}
