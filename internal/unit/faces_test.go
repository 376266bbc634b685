package unit_test

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/checkpoint-edge/checkpoint/config"
	"github.com/checkpoint-edge/checkpoint/internal/unit/unittest"
	"github.com/checkpoint-edge/checkpoint/lane"
	"github.com/checkpoint-edge/checkpoint/vision"
	"github.com/checkpoint-edge/checkpoint/vision/traffic"
	"github.com/checkpoint-edge/checkpoint/watchlist"
)

func faceHits(tx *lane.Transaction) []lane.HitView {
	var out []lane.HitView
	for _, h := range tx.Hits {
		if h.Kind == watchlist.HitFace {
			out = append(out, h)
		}
	}
	return out
}

// listedPhotoDiffers checks the fixture's premise: the watchlist's photo of
// the listed person is not the picture the camera shows.
func listedPhotoDiffers(t *testing.T, f *unittest.Fixture) {
	t.Helper()
	faces, err := vision.FindFaces()
	if err != nil {
		t.Fatal(err)
	}
	live, err := os.ReadFile(filepath.Join(faces, "jimin.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range f.Changes {
		if c.Person != nil && len(c.Person.Faces) > 0 && (len(c.Person.Photo) == 0 || bytes.Equal(c.Person.Photo, live)) {
			t.Fatalf("the listed photo of %s is the camera's own picture", c.ID)
		}
	}
}

// TestListedFaceFromAnotherPhoto: the camera shows one photo of a listed
// person, the watchlist holds another; the lane finds the face (HIT,
// strong) with the default bands, and keeps the search's top-1 distance and
// gallery size — nothing else — in the traffic log.
func TestListedFaceFromAnotherPhoto(t *testing.T) {
	f := unittest.New(t, unittest.Options{Camera: true, Embedder: "onnx"})
	listedPhotoDiffers(t, f)
	u := streaming(t, f)
	// A clear passport: the face alone is listed (under another name).
	tx := decided(t, u, f, f.Clear)
	fh := faceHits(tx)
	if tx.Decision != lane.Hit || len(fh) != 1 || fh[0].Level != lane.LevelHit || fh[0].Strength != "strong" || !fh[0].HasPhoto {
		t.Fatalf("decision %s %v, face hits %+v", tx.Decision, tx.Reasons, fh)
	}
	t.Logf("listed face found at distance %.3f: %s", fh[0].Distance, fh[0].Explanation)
	rs, err := traffic.Read(filepath.Join(f.Config.StateDir, "face-traffic"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].Gallery != 1 || math.Abs(float64(rs[0].Top1)-fh[0].Distance) > 1e-4 || rs[0].Hit <= rs[0].Top1 || rs[0].Possible < rs[0].Hit {
		t.Errorf("traffic %+v", rs)
	}
}

// TestPossibleFaceMatchRefers: with a hit band too tight for this pair of
// photos, the face falls in the possible band: the lane refers with the
// candidate (photo, "possible") for the officer, at the desk and the gate.
func TestPossibleFaceMatchRefers(t *testing.T) {
	for _, egate := range []bool{false, true} {
		bands := config.FaceSearch{HitDistance: 0.3, PossibleDistance: 1.2, Candidates: 3}
		f := unittest.New(t, unittest.Options{Camera: true, Embedder: "onnx", Egate: egate, FaceBands: &bands})
		u := streaming(t, f)
		tx := decided(t, u, f, f.Clear)
		fh := faceHits(tx)
		if tx.Decision != lane.Refer || !slices.Contains(tx.Reasons, lane.ReasonPossibleMatch) || len(fh) != 1 ||
			fh[0].Level != lane.LevelPossible || fh[0].Strength != "possible" || !fh[0].HasPhoto || len(fh[0].Photo) == 0 {
			t.Fatalf("egate %v: decision %s %v, face hits %+v", egate, tx.Decision, tx.Reasons, fh)
		}
	}
}
