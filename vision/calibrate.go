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

// DefaultThresholds were calibrated with Calibrate (the code behind
// `checkpointctl vision calibrate`) on the 1,286 descriptors of 134 people in
// the go-face reference set (testdata/faces/idols.json: 5,614 genuine and
// 820,641 impostor pairs; impostor distances mean 0.500, sd 0.067), and
// cross-checked on our pipeline's embeddings of the 31 labelled
// single-person photos where HOG finds a face (see facedlib's tests):
//
//   - Verify1to1 0.29: FMR 0.015% measured (target 0.1%, the Frontex figure
//     for ABC gates; the normal fit of the impostor tail gives 0.1% at
//     0.292), FNMR 95%.
//   - Search1toN 0.21: FMR 1e-5 per comparison from the normal fit (820,641
//     pairs cannot measure 1e-5; the 30 pairs measured under it are
//     duplicate photos filed under two names), FNMR > 99%.
//
// dlib's customary 0.6 accepts 93% of the impostor pairs and the equal error
// rate is 22% at 0.447: this model separates these faces (East Asian, one
// age group) poorly, so the thresholds that meet the FMR targets reject most
// genuine pairs. Recalibrate on the deployment's own population.
var DefaultThresholds = Thresholds{Verify1to1: 0.29, Search1toN: 0.21}

// Sample is one labelled descriptor for calibration.
type Sample struct {
	Label      string
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

// Calibration is the outcome of Calibrate.
type Calibration struct {
	Samples       int        `json:"samples"`
	People        int        `json:"people"`
	GenuinePairs  int        `json:"genuine_pairs"`
	ImpostorPairs int        `json:"impostor_pairs"`
	GenuineMean   float64    `json:"genuine_mean"`
	GenuineMax    float64    `json:"genuine_max"`
	ImpostorMean  float64    `json:"impostor_mean"`
	ImpostorSD    float64    `json:"impostor_sd"`
	ImpostorMin   float64    `json:"impostor_min"`
	EER           float64    `json:"eer"` // equal error rate
	EERThreshold  float32    `json:"eer_threshold"`
	Table         []Rate     `json:"table"`
	Recommended   Thresholds `json:"recommended"`
	AtRecommended [2]Rate    `json:"at_recommended"` // 1:1, 1:N
}

// Calibration targets: FMR for 1:1 verification (Frontex's ABC figure) and
// per comparison for a 1:N search.
const (
	TargetFMR1to1 = 1e-3
	TargetFMR1toN = 1e-5
)

// Calibrate computes the genuine and impostor distance distributions of
// every pair of samples and the error rates on the given threshold grid
// (nil: 0.30 to 0.70 by 0.02), and recommends thresholds: for 1:1 the
// largest threshold whose FMR is at most TargetFMR1to1, both measured (when
// there are enough impostor pairs to measure that rate) and extrapolated from
// a normal fit of the impostor distances; for 1:N the same at TargetFMR1toN.
func Calibrate(samples []Sample, grid []float32) (Calibration, error) {
	var c Calibration
	c.Samples = len(samples)
	people := map[string]bool{}
	for _, s := range samples {
		if err := CheckDescriptor(s.Descriptor); err != nil {
			return c, fmt.Errorf("sample %q: %w", s.Label, err)
		}
		people[s.Label] = true
	}
	c.People = len(people)
	var gen, imp []float32
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
	c.GenuinePairs, c.ImpostorPairs = len(gen), len(imp)
	if len(gen) == 0 || len(imp) == 0 {
		return c, fmt.Errorf("%w: %d genuine and %d impostor pairs", ErrCalibration, len(gen), len(imp))
	}
	slices.Sort(gen)
	slices.Sort(imp)
	c.GenuineMean, _ = meanSD(gen)
	c.GenuineMax = float64(gen[len(gen)-1])
	c.ImpostorMean, c.ImpostorSD = meanSD(imp)
	c.ImpostorMin = float64(imp[0])

	rate := func(t float32) Rate {
		fm := sort.Search(len(imp), func(i int) bool { return imp[i] > t })
		fnm := len(gen) - sort.Search(len(gen), func(i int) bool { return gen[i] > t })
		return Rate{Threshold: t, FalseMatches: fm, FalseNonMatches: fnm,
			FMR: float64(fm) / float64(len(imp)), FNMR: float64(fnm) / float64(len(gen))}
	}
	if grid == nil {
		for t := 30; t <= 70; t += 2 {
			grid = append(grid, float32(t)/100)
		}
	}
	for _, t := range grid {
		c.Table = append(c.Table, rate(t))
	}

	// A rate can be measured when about ten impostor pairs fall under it;
	// below that only the normal fit speaks.
	measurable := func(target float64) bool { return float64(len(imp))*target >= 10 }
	// Fine sweep for the EER and the recommendations.
	c.EER = 1
	var best1, bestN float32
	gauss1 := float32(c.ImpostorMean + c.ImpostorSD*normQuantile(TargetFMR1to1))
	gaussN := float32(c.ImpostorMean + c.ImpostorSD*normQuantile(TargetFMR1toN))
	for k := 0; k <= 1000; k++ {
		t := float32(k) / 1000
		r := rate(t)
		if e := math.Max(r.FMR, r.FNMR); e < c.EER {
			c.EER, c.EERThreshold = e, t
		}
		if (r.FMR <= TargetFMR1to1 || !measurable(TargetFMR1to1)) && t <= gauss1 {
			best1 = t
		}
		if (r.FMR <= TargetFMR1toN || !measurable(TargetFMR1toN)) && t <= gaussN {
			bestN = t
		}
	}
	c.Recommended = Thresholds{Verify1to1: best1, Search1toN: bestN}
	c.AtRecommended = [2]Rate{rate(best1), rate(bestN)}
	return c, nil
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

// normQuantile is the inverse of the standard normal CDF.
func normQuantile(p float64) float64 {
	return -math.Sqrt2 * math.Erfcinv(2*p)
}

// LabelledFile is one photo of a calibration or test set.
type LabelledFile struct {
	Path   string
	Person string
	Note   string
}

// ReadLabels lists the labelled photos of dir: from dir/labels.csv
// (file,person,note with a header) when it exists, else one subfolder per
// person holding JPEG or PNG files.
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
			continue
		}
		if len(rec) < 2 || strings.TrimSpace(rec[0]) == "" || strings.TrimSpace(rec[1]) == "" {
			return nil, fmt.Errorf("vision: labels.csv line %d: want file,person[,note]", line)
		}
		lf := LabelledFile{Path: strings.TrimSpace(rec[0]), Person: strings.TrimSpace(rec[1])}
		if len(rec) > 2 {
			lf.Note = strings.TrimSpace(rec[2])
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
