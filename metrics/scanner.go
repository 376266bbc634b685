package metrics

import "github.com/prometheus/client_golang/prometheus"

// ScannerStats are the document scanner's counters (device/scanner State),
// read at every scrape. A rejected frame may be a document nobody checked,
// so each reason is exported.
type ScannerStats struct {
	Frames, Partial, Malformed, BadBCC, Overlong uint64
	NoiseBytes, BytesRead                        uint64
	// QueueFulls counts the times the input queue filled (reading paused
	// until the lane caught up); QueueFull is set while it is full.
	QueueFulls  uint64
	QueuedBytes int64
	QueueFull   bool
}

var (
	scanFrames   = prometheus.NewDesc("checkpoint_scanner_frames_total", "Documents framed by the scanner.", nil, nil)
	scanRejected = prometheus.NewDesc("checkpoint_scanner_frames_rejected_total",
		"Frames thrown away, by reason: partial (cut short, by silence, a new start or an unplug), malformed, bad_bcc, overlong.", []string{"reason"}, nil)
	scanNoise      = prometheus.NewDesc("checkpoint_scanner_noise_bytes_total", "Bytes outside any frame.", nil, nil)
	scanRead       = prometheus.NewDesc("checkpoint_scanner_bytes_read_total", "Bytes read from the scanner port.", nil, nil)
	scanQueueFulls = prometheus.NewDesc("checkpoint_scanner_queue_full_total", "Times the scanner's input queue filled and reading paused.", nil, nil)
	scanQueued     = prometheus.NewDesc("checkpoint_scanner_queue_bytes", "Bytes read from the scanner and not yet framed.", nil, nil)
	scanFull       = prometheus.NewDesc("checkpoint_scanner_queue_full", "1 while the scanner's input queue is full.", nil, nil)
)

type scannerCollector struct{ stats func() ScannerStats }

func (c scannerCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{scanFrames, scanRejected, scanNoise, scanRead, scanQueueFulls, scanQueued, scanFull} {
		ch <- d
	}
}

func (c scannerCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	counter(scanFrames, s.Frames)
	counter(scanRejected, s.Partial, "partial")
	counter(scanRejected, s.Malformed, "malformed")
	counter(scanRejected, s.BadBCC, "bad_bcc")
	counter(scanRejected, s.Overlong, "overlong")
	counter(scanNoise, s.NoiseBytes)
	counter(scanRead, s.BytesRead)
	counter(scanQueueFulls, s.QueueFulls)
	ch <- prometheus.MustNewConstMetric(scanQueued, prometheus.GaugeValue, float64(s.QueuedBytes))
	full := 0.0
	if s.QueueFull {
		full = 1
	}
	ch <- prometheus.MustNewConstMetric(scanFull, prometheus.GaugeValue, full)
}

// WatchScanner exports a scanner's counters; stats is called at every
// scrape and must be safe to call from any goroutine.
func (m *Metrics) WatchScanner(stats func() ScannerStats) {
	m.Registry.MustRegister(scannerCollector{stats})
}
