package unit

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/checkpoint-edge/checkpoint/sync/outbox"
)

// maxAdminList bounds one listing on the admin socket.
const maxAdminList = 10000

// adminRoutes are the technician's reads of unit state while the daemon
// holds the stores' file locks: checkpointctl asks here first and opens
// the files itself only when no daemon answers.
func (u *Unit) adminRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/outbox", func(w http.ResponseWriter, r *http.Request) {
		adminJSON(w, http.StatusOK, u.outbox.Status())
	})
	mux.HandleFunc("GET /v1/outbox/records", func(w http.ResponseWriter, r *http.Request) {
		limit := 100
		if s := r.URL.Query().Get("limit"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > maxAdminList {
				adminJSON(w, http.StatusBadRequest, map[string]string{"error": "limit must be 1.." + strconv.Itoa(maxAdminList)})
				return
			}
			limit = n
		}
		recs, err := u.outbox.List(limit)
		if err != nil {
			adminJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
			return
		}
		if recs == nil {
			recs = []outbox.Listed{}
		}
		adminJSON(w, http.StatusOK, map[string]any{"records": recs})
	})
	// The installed watchlist as the daemon screens with it; ?max_age=
	// (a Go duration) sets the STALE limit, else the configured one.
	mux.HandleFunc("GET /v1/watchlist/info", func(w http.ResponseWriter, r *http.Request) {
		maxAge := u.cfg.Watchlist.MaxAge.D()
		if s := r.URL.Query().Get("max_age"); s != "" {
			d, err := time.ParseDuration(s)
			if err != nil || d < 0 {
				adminJSON(w, http.StatusBadRequest, map[string]string{"error": "max_age must be a duration such as 48h"})
				return
			}
			maxAge = d
		}
		in, err := u.store.Info(u.now(), maxAge)
		if err != nil {
			adminJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
			return
		}
		adminJSON(w, http.StatusOK, in)
	})
}

func adminJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}
