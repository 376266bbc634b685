package unit

import (
	"github.com/checkpoint-edge/checkpoint/device/scanner"
	"github.com/checkpoint-edge/checkpoint/metrics"
)

// scannerStats exports the scanner's framing and queue counters to
// /metrics (issue 17: documents cut or rejected were counted nowhere).
func scannerStats(s *scanner.Serial) func() metrics.ScannerStats {
	return func() metrics.ScannerStats {
		st := s.State()
		d := st.Decoder
		return metrics.ScannerStats{Frames: d.Frames, Partial: d.Partial, Malformed: d.Malformed, BadBCC: d.BadBCC,
			Overlong: d.Overlong, NoiseBytes: d.Noise, BytesRead: st.BytesRead,
			QueueFulls: st.QueueFulls, QueuedBytes: st.QueuedBytes, QueueFull: st.QueueFull}
	}
}

// scannerAlarm is the officer's alarm while documents wait to be framed
// because the lane is behind (reading paused), or empty.
func scannerAlarm(st scanner.State) string {
	if st.QueueFull {
		return "Scanner input queue full: documents are waiting, reading paused"
	}
	return ""
}
