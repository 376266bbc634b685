package demo

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/emrtd/pa"
	"github.com/checkpoint-edge/checkpoint/vision"
	"github.com/checkpoint-edge/checkpoint/vision/facedlib"
)

// TestPrepareChips: a prepared demo has the three chip travellers, each
// chip verified as the unit will (prepare's self-check), and the trust
// file with the issuing states' CSCAs.
func TestPrepareChips(t *testing.T) {
	models, err := vision.FindModels()
	if err == nil {
		_, err = vision.FindFaces()
	}
	if err == nil {
		_, err = os.Stat(facedlib.DefaultShapePredictor)
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("face models or photos missing (make test installs them): %v", err)
		}
		t.Skipf("face models or photos missing: %v", err)
	}
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	res, err := Prepare(context.Background(), Options{Dir: filepath.Join(t.TempDir(), "demo"), ModelsDir: models, Hold: 2 * time.Second,
		FPS: 2, MaxTravellers: 8, Docs: 50, Persons: 10, Seed: 1, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	chips, err := ReadChips(filepath.Join(res.Paths.Dir, "chips"))
	if err != nil {
		t.Fatal(err)
	}
	roles := map[string]int{}
	for _, tr := range res.Manifest.Travellers {
		if tr.Chip != "" {
			roles[tr.Chip]++
			c := chips[tr.Index]
			if c == nil || c.Role != tr.Chip || len(c.Files["SOD"]) == 0 || len(c.Files["DG2"]) == 0 {
				t.Fatalf("traveller %d: chip %+v", tr.Index, c)
			}
			if tr.Expect != "clear" {
				t.Errorf("traveller %d with a chip is designed to hit: %s", tr.Index, tr.Expect)
			}
			if _, err := c.Card(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if roles[ChipGenuine] != 1 || roles[ChipAltered] != 1 || roles[ChipOtherFace] != 1 {
		t.Fatalf("chip roles %v", roles)
	}
	b, err := os.ReadFile(filepath.Join(res.Paths.State, "chip-trust.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if set, _, err := pa.Parse(b); err != nil || len(set.CSCAs) == 0 {
		t.Fatalf("trust file: %d CSCAs, %v", len(set.CSCAs), err)
	}
}
