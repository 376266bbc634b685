package facedlib

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/checkpoint-edge/checkpoint/vision"
	"github.com/checkpoint-edge/checkpoint/vision/visiontest"
)

// TestBuiltInCalibrationReproduces re-measures the East Asian tail of the
// built-in dlib calibration from the official descriptors of idols.json
// (the group that sets every dlib threshold) and checks the embedded
// figures and the default thresholds derived from them.
func TestBuiltInCalibrationReproduces(t *testing.T) {
	refs, err := visiontest.ReadIdols(filepath.Join(visiontest.Faces(t), "idols.json"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range refs {
		refs[i].Group = "idols"
	}
	rep, err := vision.Calibrate(refs, []float32{0.35, 0.40, 0.45, 0.50, 0.55, 0.60}, vision.ReferenceGallery)
	if err != nil {
		t.Fatal(err)
	}
	a := rep.All
	t.Logf("reference set: %d descriptors of %d people, %d genuine pairs (mean %.3f), %d impostor pairs (mean %.3f sd %.3f), EER %.3f at %.3f",
		a.Samples, a.People, a.GenuinePairs, a.GenuineMean, a.ImpostorPairs, a.ImpostorMean, a.ImpostorSD, a.EER, a.EERThreshold)
	if len(rep.Calibration.Groups) != 1 {
		t.Fatalf("%d tails", len(rep.Calibration.Groups))
	}
	got := rep.Calibration.Groups[0]
	builtIn := vision.DlibCalibration("", true)
	var want *vision.GroupTail
	for i := range builtIn.Groups {
		if builtIn.Groups[i].Group == "idols" {
			want = &builtIn.Groups[i]
		}
	}
	if want == nil {
		t.Fatal("built-in calibration has no idols group")
	}
	if len(got.Points) != len(want.Points) || got.ImpostorPairs != want.ImpostorPairs {
		t.Fatalf("measured %d points over %d pairs, built in %d over %d", len(got.Points), got.ImpostorPairs, len(want.Points), want.ImpostorPairs)
	}
	for i := range got.Points {
		if got.Points[i] != want.Points[i] {
			t.Errorf("point %d: measured %+v, built in %+v", i, got.Points[i], want.Points[i])
		}
	}
	if math.Abs(got.TailA-want.TailA) > 1e-9 || math.Abs(got.TailB-want.TailB) > 1e-9 {
		t.Errorf("tail fit %v %v, built in %v %v", got.TailA, got.TailB, want.TailA, want.TailB)
	}
	// The East Asian set is the worst group: it sets the default 1:1 threshold.
	th := vision.DefaultThresholds
	d, who := builtIn.Distance(vision.TargetFMR1to1)
	if who != "idols" || d != th.Verify1to1 || got.Distance(vision.TargetFMR1to1) != d {
		t.Errorf("1:1 default %.3f set by %q; idols alone %.3f", th.Verify1to1, who, got.Distance(vision.TargetFMR1to1))
	}
	// dlib's customary 0.6 accepts most impostor pairs of this population.
	for _, r := range a.Table {
		if r.Threshold == 0.60 && r.FMR < 0.5 {
			t.Errorf("0.6 accepts only %.2f of impostors", r.FMR)
		}
	}
	if th.Search1toN >= th.Verify1to1 || th.Search1toN <= 0 {
		t.Errorf("1:N default %.3f vs 1:1 %.3f", th.Search1toN, th.Verify1to1)
	}
}
