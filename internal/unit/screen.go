package unit

import (
	"errors"
	"net/http"

	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// Batch screening on the admin socket: POST /v1/watchlist/screen with JSON
// Lines of watchlist.BatchQuery, answered with one watchlist.BatchResult per
// line (application/x-ndjson), against the daemon's installed watchlist with
// its configured thresholds. It is what `checkpointctl watchlist search
// --batch --daemon` uses while checkpointd holds the store. The socket is
// 0600 (the daemon's user and root); a request is bounded in bytes and
// queries, and at most screenConcurrency run at once so a batch cannot take
// the lane's CPU. Nothing of the queries or results is logged.

const (
	screenMaxBody     = 256 << 20
	screenMaxQueries  = 1_000_000
	screenConcurrency = 1
)

func (u *Unit) screenHandler() http.Handler {
	sem := make(chan struct{}, screenConcurrency)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case sem <- struct{}{}:
			defer func() { <-sem }()
		default:
			http.Error(w, "a batch is already running", http.StatusTooManyRequests)
			return
		}
		// Results stream back while the batch is still being read.
		_ = http.NewResponseController(w).EnableFullDuplex()
		body := http.MaxBytesReader(w, r.Body, screenMaxBody)
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.Header().Set("Trailer", "X-Screen-Error")
		sum, err := u.store.ScreenBatch(r.Context(), body, w, watchlist.BatchOptions{MaxQueries: screenMaxQueries})
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe), errors.Is(err, watchlist.ErrBadQuery):
			// The results so far are written; the trailer says why the
			// batch stopped.
			w.Header().Set("X-Screen-Error", err.Error())
		case err != nil:
			u.log.Warn("admin: batch screening failed", "queries", sum.Queries, "err", err)
		default:
			u.log.Debug("admin: batch screened", "queries", sum.Queries, "hit", sum.Hit, "possible", sum.Possible, "errors", sum.Errors)
		}
	})
}
