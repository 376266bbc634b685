package facedlib

import (
	"path/filepath"
	"testing"

	"github.com/checkpoint-edge/checkpoint/vision"
	"github.com/checkpoint-edge/checkpoint/vision/visiontest"
)

// TestDefaultThresholdsOnReferenceSet re-measures the calibration behind
// vision.DefaultThresholds on the official descriptors of idols.json.
func TestDefaultThresholdsOnReferenceSet(t *testing.T) {
	refs, err := visiontest.ReadIdols(filepath.Join(visiontest.Faces(t), "idols.json"))
	if err != nil {
		t.Fatal(err)
	}
	samples := make([]vision.Sample, len(refs))
	for i, r := range refs {
		samples[i] = r
	}
	th := vision.DefaultThresholds
	c, err := vision.Calibrate(samples, []float32{th.Search1toN, th.Verify1to1, 0.35, 0.40, 0.45, 0.50, 0.55, 0.60})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("reference set: %d descriptors of %d people, genuine pairs %d (mean %.3f), impostor pairs %d (mean %.3f sd %.3f min %.3f), EER %.3f at %.3f, recommended %+v",
		c.Samples, c.People, c.GenuinePairs, c.GenuineMean, c.ImpostorPairs, c.ImpostorMean, c.ImpostorSD, c.ImpostorMin, c.EER, c.EERThreshold, c.Recommended)
	for _, r := range c.Table {
		t.Logf("threshold %.3f: FMR %.5f (%d) FNMR %.4f (%d)", r.Threshold, r.FMR, r.FalseMatches, r.FNMR, r.FalseNonMatches)
	}
	for _, r := range c.Table {
		switch r.Threshold {
		case th.Verify1to1:
			if r.FMR > 2*vision.TargetFMR1to1 {
				t.Errorf("1:1 threshold %.3f: FMR %.5f over twice the target", r.Threshold, r.FMR)
			}
		case th.Search1toN:
			// Measured FMR here is label noise (the same photo under two
			// names); the threshold itself comes from the normal fit.
			if r.FMR > 10*vision.TargetFMR1toN {
				t.Errorf("1:N threshold %.3f: FMR %.6f", r.Threshold, r.FMR)
			}
		case 0.60:
			if r.FMR < 0.05 {
				t.Errorf("expected dlib's customary 0.6 to accept many impostors here, FMR %.4f", r.FMR)
			}
		}
	}
	if d := c.Recommended.Verify1to1 - th.Verify1to1; d > 0.01 || d < -0.01 {
		t.Errorf("recommended 1:1 %.3f drifted from the default %.3f", c.Recommended.Verify1to1, th.Verify1to1)
	}
	if d := c.Recommended.Search1toN - th.Search1toN; d > 0.01 || d < -0.01 {
		t.Errorf("recommended 1:N %.3f drifted from the default %.3f", c.Recommended.Search1toN, th.Search1toN)
	}
	if c.GenuineMean >= c.ImpostorMean {
		t.Errorf("genuine mean %.3f not below impostor mean %.3f", c.GenuineMean, c.ImpostorMean)
	}
}
