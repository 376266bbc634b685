package web

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/paxdata"
)

// arrivalsBackend is the test backend with expected arrivals.
type arrivalsBackend struct {
	*backend
	since time.Time
	limit int
}

func (a *arrivalsBackend) ExpectedArrivals(since time.Time, limit int) []paxdata.ExpectedFlight {
	a.since, a.limit = since, limit
	return []paxdata.ExpectedFlight{{Channel: "LHR", Flight: "XX0123", ArrivalAt: since.Add(2 * time.Hour),
		Counts:  paxdata.Counts{Passengers: 400, Screened: 400, Hits: 1},
		Flagged: []paxdata.FlaggedTraveller{{Level: "hit", Name: "DOE, JANE", Reason: "stolen"}}}}
}

func TestArrivals(t *testing.T) {
	f := newFixture(t)
	c := client(t)
	if code, _ := get(t, c, f.srv.URL+"/api/arrivals"); code != 401 {
		t.Fatalf("arrivals without a session: %d", code)
	}
	login(t, f, c, "o1", "246810")
	// The test backend has no arrivals: none served.
	if code, _ := get(t, c, f.srv.URL+"/api/arrivals"); code != 404 {
		t.Fatalf("backend without arrivals: %d", code)
	}

	ab := &arrivalsBackend{backend: f.b}
	s := New(ab, Options{Accounts: f.s.opt.Accounts, SessionTTL: time.Hour, Now: f.clock})
	srv := httptest.NewServer(s)
	defer srv.Close()
	c2 := client(t)
	f2 := &fixture{srv: srv}
	login(t, f2, c2, "o1", "246810")
	code, body := get(t, c2, srv.URL+"/api/arrivals?since_minutes=30&limit=500")
	if code != 200 {
		t.Fatalf("arrivals: %d %s", code, body)
	}
	var v arrivalsView
	if err := json.Unmarshal([]byte(body), &v); err != nil || len(v.Flights) != 1 || v.Flights[0].Counts.Hits != 1 ||
		v.Flights[0].Flagged[0].Name != "DOE, JANE" {
		t.Fatalf("body %s: %v", body, err)
	}
	if !ab.since.Equal(f.clock().Add(-30*time.Minute)) || ab.limit != 100 {
		t.Fatalf("since %v limit %d", ab.since, ab.limit)
	}
	if code, page := get(t, c2, srv.URL+"/arrivals"); code != 200 || !strings.Contains(page, "arrivals.js") {
		t.Fatalf("arrivals page: %d", code)
	}
	if code, js := get(t, c2, srv.URL+"/static/arrivals.js"); code != 200 || !strings.Contains(js, "/api/arrivals") {
		t.Fatalf("arrivals script: %d", code)
	}
}
