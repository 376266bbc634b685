// Package metrics defines the unit's Prometheus metrics on a registry of its
// own (no global state, so tests can make as many as they like). Labels
// carry kinds and states only, never personal data.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/checkpoint-edge/checkpoint/internal/buildinfo"
)

// Metrics holds the collectors.
type Metrics struct {
	Registry        *prometheus.Registry
	Decisions       *prometheus.CounterVec   // decision
	Latency         *prometheus.HistogramVec // face: with, without
	Hits            *prometheus.CounterVec   // kind
	DeviceUp        *prometheus.GaugeVec     // device
	WatchlistAge    prometheus.Gauge
	WatchlistSeq    prometheus.Gauge
	WatchlistStale  prometheus.Gauge
	OutboxDepth     prometheus.Gauge
	OutboxHits      prometheus.Gauge
	UploadErrors    prometheus.Counter
	IntegrityAlarms prometheus.Counter
	OfficerVerdicts *prometheus.CounterVec // verdict
	HubLinkUp       prometheus.Gauge
	DiskFree        prometheus.Gauge
}

// New creates and registers the collectors.
func New() *Metrics {
	r := prometheus.NewRegistry()
	m := &Metrics{
		Registry: r,
		Decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "checkpoint_decisions_total", Help: "Decisions made, by kind (CLEAR, REFER, HIT).",
		}, []string{"decision"}),
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "checkpoint_decision_latency_seconds", Help: "Document-to-decision latency.",
			Buckets: []float64{.01, .025, .05, .1, .2, .3, .5, .75, 1, 1.5, 2, 3, 5},
		}, []string{"face"}),
		Hits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "checkpoint_watchlist_hits_total", Help: "Watchlist hits, by kind (document, person, face).",
		}, []string{"kind"}),
		DeviceUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "checkpoint_device_up", Help: "1 when the device works (scanner connected, camera streaming).",
		}, []string{"device"}),
		WatchlistAge:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "checkpoint_watchlist_age_seconds", Help: "Age of the installed watchlist (since issue)."}),
		WatchlistSeq:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "checkpoint_watchlist_sequence", Help: "Installed watchlist sequence number."}),
		WatchlistStale:  prometheus.NewGauge(prometheus.GaugeOpts{Name: "checkpoint_watchlist_stale", Help: "1 when the watchlist is older than its maximum age."}),
		OutboxDepth:     prometheus.NewGauge(prometheus.GaugeOpts{Name: "checkpoint_outbox_depth", Help: "Results waiting for upload."}),
		OutboxHits:      prometheus.NewGauge(prometheus.GaugeOpts{Name: "checkpoint_outbox_hits", Help: "Hit results waiting for upload."}),
		UploadErrors:    prometheus.NewCounter(prometheus.CounterOpts{Name: "checkpoint_upload_errors_total", Help: "Failed upload attempts."}),
		IntegrityAlarms: prometheus.NewCounter(prometheus.CounterOpts{Name: "checkpoint_integrity_alarms_total", Help: "Watchlist records that failed authentication."}),
		OfficerVerdicts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "checkpoint_officer_verdicts_total", Help: "Officer verdicts, by verdict.",
		}, []string{"verdict"}),
		HubLinkUp: prometheus.NewGauge(prometheus.GaugeOpts{Name: "checkpoint_hub_link_up",
			Help: "1 when the last exchange with headquarters succeeded, 0 when the link is down or degraded (absent when the unit has no hub)."}),
		DiskFree: prometheus.NewGauge(prometheus.GaugeOpts{Name: "checkpoint_disk_free_bytes",
			Help: "Free bytes on the state directory's file system (available to the daemon)."}),
	}
	bi := buildinfo.Get()
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "checkpoint_build_info",
		Help: "Always 1; the labels say which build runs."}, []string{"version", "commit", "goversion", "opencv", "dlib"})
	build.WithLabelValues(bi.Version, bi.Commit, bi.Go, bi.Libraries["opencv"], bi.Libraries["dlib"]).Set(1)
	r.MustRegister(build, m.DiskFree)
	r.MustRegister(m.Decisions, m.Latency, m.Hits, m.DeviceUp, m.WatchlistAge, m.WatchlistSeq, m.WatchlistStale,
		m.OutboxDepth, m.OutboxHits, m.UploadErrors, m.IntegrityAlarms, m.OfficerVerdicts,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// ObserveDecision records one decided transaction.
func (m *Metrics) ObserveDecision(decision string, withFace bool, latency time.Duration, hitKinds []string) {
	m.Decisions.WithLabelValues(decision).Inc()
	face := "without"
	if withFace {
		face = "with"
	}
	m.Latency.WithLabelValues(face).Observe(latency.Seconds())
	for _, k := range hitKinds {
		m.Hits.WithLabelValues(k).Inc()
	}
}

// Handler serves the registry.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}
