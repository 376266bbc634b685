package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
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
	// The old plain page sends the officer to the lane page's list.
	resp, err := c2.Get(srv.URL + "/arrivals")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/#arrivals" {
		t.Fatalf("arrivals page: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}
