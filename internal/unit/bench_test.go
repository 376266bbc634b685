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
	}{
		{"document-only", unittest.Options{}},
		{"face", unittest.Options{Camera: true}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			f := unittest.New(b, bc.opt)
			u := running(b, f)
			docs := [][]string{f.Listed, f.Stolen, f.Clear}
			var lat []float64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				tx := decided(b, u, f, docs[i%len(docs)])
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
