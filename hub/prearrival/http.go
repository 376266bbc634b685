package prearrival

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"

	"github.com/checkpoint-edge/checkpoint/paxdata/edifact"
	"github.com/checkpoint-edge/checkpoint/sync/pki"
)

// Handler serves, over the hub's mutual-TLS listener:
//
//	POST /v1/paxdata          a PAXLST/PNRGOV interchange (uploaders only) → Receipt
//	GET  /v1/paxdata/flights  what is stored, without personal data (operators only)
//
// operators are certificate ids that may read the list; uploaders (Config)
// may submit. Anyone else gets 403.
func (s *Service) Handler(operators []string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/paxdata", s.post)
	mux.HandleFunc("GET /v1/paxdata/flights", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := s.caller(w, r, operators); !ok {
			return
		}
		list, err := s.Flights()
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "storage error"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"flights": list, "watchlist_sequence": s.Watchlist().Sequence})
	})
	return mux
}

func (s *Service) caller(w http.ResponseWriter, r *http.Request, allowed []string) (string, bool) {
	id, err := pki.UnitID(r.TLS)
	if err != nil {
		code := http.StatusForbidden
		if errors.Is(err, pki.ErrNoPeerCert) {
			code = http.StatusUnauthorized
		}
		writeJSON(w, code, map[string]string{"error": err.Error()})
		return "", false
	}
	if !slices.Contains(allowed, id) {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "this certificate may not use the passenger data API"})
		return "", false
	}
	return id, true
}

func (s *Service) post(w http.ResponseWriter, r *http.Request) {
	id, ok := s.caller(w, r, s.cfg.Uploaders)
	if !ok {
		return
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxUpload))
	if err != nil {
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": "message larger than the limit or unreadable"})
		return
	}
	rc, err := s.Submit(r.Context(), data, "upload:"+id)
	clear(data)
	switch {
	case errors.Is(err, ErrBusy):
		w.Header().Set("Retry-After", "5")
		writeJSON(w, http.StatusTooManyRequests, map[string]string{"error": err.Error()})
	case errors.Is(err, edifact.ErrNoInterchange), errors.Is(err, edifact.ErrTooLarge):
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
	case err != nil && rc == nil:
		s.log.Error("prearrival: submission failed", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "storage or publication failed; send again"})
	default:
		if err != nil {
			s.log.Error("prearrival: publication failed", "err", err)
		}
		writeJSON(w, http.StatusOK, rc)
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}
