package faceeval

import (
	"fmt"
	"math"

	"github.com/checkpoint-edge/checkpoint/vision"
)

// PoseRow summarises the genuine pairs whose larger head turn falls in a
// bucket.
type PoseRow struct {
	Bucket string  `json:"bucket"`
	MaxYaw float64 `json:"max_yaw"`
	Pairs  int     `json:"pairs"`
	Mean   float64 `json:"mean_distance"`
	FNMR   float64 `json:"fnmr"`
}

// PoseBuckets are the upper edges (degrees) of the yaw buckets.
var PoseBuckets = []float64{10, 20, 25, 30, 35, 40, 50, 90}

// PoseTable groups genuine pairs by the larger |yaw| of the two faces and
// reports their mean distance and the FNMR at threshold t: the measurement
// behind the quality gate's yaw limit.
func PoseTable(samples []Sample, t float32) []PoseRow {
	rows := make([]PoseRow, len(PoseBuckets))
	lo := 0.0
	for i, hi := range PoseBuckets {
		rows[i] = PoseRow{Bucket: fmt.Sprintf("%g-%g°", lo, hi), MaxYaw: hi}
		lo = hi
	}
	misses := make([]int, len(rows))
	for i := range samples {
		for j := i + 1; j < len(samples); j++ {
			if samples[i].key() != samples[j].key() {
				continue
			}
			y := math.Max(math.Abs(samples[i].Yaw), math.Abs(samples[j].Yaw))
			k := len(rows) - 1
			for b, hi := range PoseBuckets {
				if y <= hi {
					k = b
					break
				}
			}
			d := vision.Distance(samples[i].Vec, samples[j].Vec)
			rows[k].Pairs++
			rows[k].Mean += float64(d)
			if d > t {
				misses[k]++
			}
		}
	}
	var out []PoseRow
	for k, r := range rows {
		if r.Pairs == 0 {
			continue
		}
		r.Mean /= float64(r.Pairs)
		r.FNMR = float64(misses[k]) / float64(r.Pairs)
		out = append(out, r)
	}
	return out
}
