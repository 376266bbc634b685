package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/checkpoint-edge/checkpoint/paxdata"
)

// ArrivalsBackend is the optional part of a Backend that knows the flights
// screened before arrival (package paxdata): from the hub's prearrival
// channel and the unit's own inbox. A Backend without it serves no
// arrivals.
type ArrivalsBackend interface {
	ExpectedArrivals(since time.Time, limit int) []paxdata.ExpectedFlight
}

// arrivalsView is GET /api/arrivals: the next flights, soonest first, with
// their counts and flagged travellers (personal data: signed-in officers
// only, never cached).
type arrivalsView struct {
	Now     time.Time                `json:"now"`
	Flights []paxdata.ExpectedFlight `json:"flights"`
}

func (s *Server) arrivalsRoutes() {
	s.mux.HandleFunc("GET /api/arrivals", s.auth(s.arrivals))
	s.mux.HandleFunc("GET /arrivals", s.auth(s.arrivalsPage))
}

// arrivals answers with the flights arriving from ?since_minutes ago (60
// by default: a landed flight stays while its passengers queue), at most
// ?limit (20, up to 100).
func (s *Server) arrivals(w http.ResponseWriter, r *http.Request) {
	ab, ok := s.b.(ArrivalsBackend)
	if !ok {
		http.NotFound(w, r)
		return
	}
	back, limit := 60, 20
	if v, err := strconv.Atoi(r.URL.Query().Get("since_minutes")); err == nil && v >= 0 && v <= 24*60 {
		back = v
	}
	if v, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && v > 0 {
		limit = min(v, 100)
	}
	now := s.opt.Now()
	fl := ab.ExpectedArrivals(now.Add(-time.Duration(back)*time.Minute), limit)
	if fl == nil {
		fl = []paxdata.ExpectedFlight{}
	}
	writeJSON(w, http.StatusOK, arrivalsView{Now: now, Flights: fl})
}

// arrivalsPage sends the officer to the lane page with the "expected
// arrivals" list open: one page, in the officer's language.
func (s *Server) arrivalsPage(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/#arrivals", http.StatusSeeOther)
}
