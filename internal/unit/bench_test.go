package unit_test

import (
	"sort"
	"testing"

	"github.com/checkpoint-edge/checkpoint/internal/unit/unittest"
)

// BenchmarkDocumentToDecision measures the lane end to end: the last byte
// of a passport on the serial PTY to the decision, durable in the outbox
// and the audit log. "face" runs the camera (a recorded video at 10 fps)
// with capture, quality gate, embedding and 1:N search.
func BenchmarkDocumentToDecision(b *testing.B) {
	for _, bc := range []struct {
		name string
		opt  unittest.Options
		chip bool // a genuine chip on the reader (PACE-less BAC, AA, PA, 1:1)
	}{
		{"document-only", unittest.Options{}, false},
		{"face", unittest.Options{Camera: true, Embedder: "onnx"}, false},
		{"face+chip", unittest.Options{Camera: true, Photo: "bona.jpg"}, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			f := unittest.New(b, bc.opt)
			docs := [][]string{f.Listed, f.Stolen, f.Clear}
			if bc.chip {
				c := f.AddChip(b)
				c.Insert(b, unittest.ChipDoc{MRZ: f.Clear, FacePhoto: "bona.jpg"})
				docs = [][]string{f.Clear}
			}
			u := running(b, f)
			var lat []float64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				tx := decided(b, u, f, docs[i%len(docs)])
				if bc.chip && (tx.Chip == nil || tx.Chip.Verdict != "genuine" || tx.Chip.Face == nil || !tx.Chip.Face.Compared) {
					b.Fatalf("chip %+v", tx.Chip)
				}
				lat = append(lat, tx.LatencyMS)
			}
			b.StopTimer()
			sort.Float64s(lat)
			pct := func(p float64) float64 { return lat[int(p*float64(len(lat)-1))] }
			b.ReportMetric(pct(.50), "p50-ms")
			b.ReportMetric(pct(.95), "p95-ms")
			b.ReportMetric(lat[len(lat)-1], "max-ms")
		})
	}
}
