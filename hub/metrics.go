package hub

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// hubMetrics are the hub's Prometheus metrics, on a registry of its own.
// Labels carry reasons and sources only, never unit ids or content.
type hubMetrics struct {
	reg         *prometheus.Registry
	ingested    *prometheus.CounterVec // source
	duplicates  prometheus.Counter
	refused     *prometheus.CounterVec // reason
	ackLatency  prometheus.Histogram
	anchorFails *prometheus.CounterVec // status
	feedEvents  prometheus.Counter
}

func newHubMetrics(h *Hub) *hubMetrics {
	r := prometheus.NewRegistry()
	m := &hubMetrics{
		reg: r,
		ingested: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "checkpoint_hub_results_ingested_total", Help: "Results newly stored, by source (upload, import).",
		}, []string{"source"}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "checkpoint_hub_results_duplicate_total", Help: "Results received again and acknowledged without storing.",
		}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "checkpoint_hub_requests_refused_total", Help: "Requests refused, by reason (too_large, unit_rate, unit_daily_quota, unit_concurrency, busy, bad_batch, unavailable).",
		}, []string{"reason"}),
		ackLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "checkpoint_hub_ingest_seconds", Help: "Time from a batch's arrival to its acknowledgement (commit included).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}),
		anchorFails: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "checkpoint_hub_audit_anchor_failures_total", Help: "Audit heads that do not extend the anchored one, by status (truncated, forked, invalid).",
		}, []string{"status"}),
		feedEvents: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "checkpoint_hub_feed_events_total", Help: "Hits and officer decisions sent to the live feed (this replica).",
		}),
	}
	flagged := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "checkpoint_hub_audit_flagged_units", Help: "Units whose audit chain failed to extend their anchored head (until an operator resets them).",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		units, err := h.store.Units(ctx)
		if err != nil {
			return -1
		}
		n := 0
		for _, u := range units {
			if u.Audit.Flag != "" {
				n++
			}
		}
		return float64(n)
	})
	subs := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "checkpoint_hub_feed_subscribers", Help: "Consoles connected to the live feed (this replica).",
	}, func() float64 { return float64(h.feed.count()) })
	r.MustRegister(m.ingested, m.duplicates, m.refused, m.ackLatency, m.anchorFails, m.feedEvents, flagged, subs,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
