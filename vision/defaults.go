package vision

import (
	_ "embed"
	"encoding/json"
	"sync"
)

// dlibCalibration is dlib's ResNet measured by
//
//	checkpointctl vision calibrate --embedder dlib --write vision/dlib_calibration.json \
//	    faces=../shared/testdata/faces lfw-calib=../shared/testdata/lfw-calib \
//	    idols=../shared/testdata/faces/idols.json
//
// with the daemon's pipeline (HOG, CNN fallback, flip averaging): the
// impostor tails of lfw-calib (1,515 photos of 258 people, mostly Western,
// 1.14 M impostor pairs) and of the go-face reference descriptors (1,286
// official dlib descriptors of 134 East Asian people, 0.82 M pairs); the 33
// labelled photos are too few (492 pairs) to set thresholds and are
// reported only. The East Asian set is the worst group by far: at FMR 0.1%
// its distance is 0.320 against lfw-calib's 0.511, so every dlib threshold
// is set by it.
//
//go:embed dlib_calibration.json
var dlibCalibration []byte

var dlibOnce = sync.OnceValue(func() *Calibration {
	var c Calibration
	if err := json.Unmarshal(dlibCalibration, &c); err != nil {
		panic("vision: embedded dlib calibration: " + err.Error())
	}
	if err := c.Validate(); err != nil {
		panic("vision: embedded dlib calibration: " + err.Error())
	}
	return &c
})

// DlibCalibration is the built-in calibration of dlib's ResNet model. It
// was measured with flip averaging and model id Calibration.Model; another
// copy of the same network (dlib.net's file) differs by rounding only, so
// the calibration applies to it too.
func DlibCalibration(modelID string, flip bool) *Calibration {
	c := *dlibOnce()
	return &c
}

// ReferenceGallery is the gallery size DefaultThresholds' 1:N threshold is
// stated for; the daemon computes its own from the installed watchlist.
const ReferenceGallery = 1000

// DefaultThresholds are dlib's thresholds at the default targets, from its
// built-in calibration (worst group): 1:1 at FMR TargetFMR1to1 (0.320) and
// 1:N at FPIR TargetFPIR for a gallery of ReferenceGallery templates. At
// these distances dlib rejects most genuine pairs of every population
// measured (FNMR 89% at 0.320 on lfw-calib): its impostors in the East Asian
// set lie too close. See `checkpointctl vision evaluate` and the README.
var DefaultThresholds = func() Thresholds {
	c := dlibOnce()
	v, _ := c.Distance(TargetFMR1to1)
	return Thresholds{Verify1to1: v, Search1toN: c.SearchDistance(TargetFPIR, ReferenceGallery)}
}()

// Default 1:N bands as targets: a search whose best candidate is within
// the distance that gives DefaultHitFPIR is a HIT; within the distance that
// gives DefaultPossibleFPIR, a possible match for the officer (REFER). The
// distances follow from the model's calibration and the gallery size.
const (
	DefaultHitFPIR      = 1e-3
	DefaultPossibleFPIR = 1e-2
)
