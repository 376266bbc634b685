package web

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/lane"
	"github.com/checkpoint-edge/checkpoint/mrz"
)

// apiCall posts a verdict and returns the status and the error code.
func apiVerdict(t *testing.T, c *http.Client, base, id, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/api/transactions/"+id+"/verdict", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Checkpoint", "1")
	req.Header.Set("Origin", base) // as the page's own fetch sends it
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e apiError
	b, _ := io.ReadAll(resp.Body)
	json.Unmarshal(b, &e)
	return resp.StatusCode, e.Error
}

func apiLogin(t *testing.T, base string, id, pin string) *http.Client {
	t.Helper()
	c := client(t)
	req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(url.Values{"officer": {id}, "pin": {pin}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Location") != "/" {
		t.Fatalf("sign-in as %s: %s", id, resp.Header.Get("Location"))
	}
	return c
}

func plainTraveller(surname string, hits ...lane.HitView) *traveller {
	return &traveller{spec: mrz.Spec{Surname: surname, GivenNames: []string{"MINJI"}, DocumentNumber: "M" + strings.Repeat("1", 8),
		Nationality: "KOR", BirthDate: born(1999, 5, 5), Sex: "F"}, hits: hits}
}

var arrest = lane.HitView{Kind: "person", RefID: "P-1", Category: "wanted", Action: "arrest", Strength: "strong", Level: lane.LevelHit}

// TestVerdictAPI: the verdict route over HTTP with the real lane: refused
// for a transaction this session was not shown, or has moved on; one
// verdict per transaction unless superseded with a reason; every refusal a
// code the page words.
func TestVerdictAPI(t *testing.T) {
	l := newAPILane(t)
	before := l.scan(plainTraveller("BEFORE")) // scanned before the shift began
	c := apiLogin(t, l.srv.URL, "o1", "246810")
	hit := l.scan(plainTraveller("PARK", arrest))

	if code, e := apiVerdict(t, c, l.srv.URL, hit.ID, `{"verdict":"confirmed"}`); code != 409 || e != "not_shown" {
		t.Fatalf("verdict before the page was shown the HIT: %d %s", code, e)
	}
	code, body := get(t, c, l.srv.URL+"/api/state")
	var st stateView
	if err := json.Unmarshal([]byte(body), &st); err != nil || code != 200 {
		t.Fatalf("state %d %v", code, err)
	}
	if len(st.Pending) != 1 || st.Pending[0].ID != hit.ID || st.Current == nil || st.Current.ID != hit.ID || st.Officer.Lang != "en" {
		t.Fatalf("state: pending %d, current %v, officer %+v", len(st.Pending), st.Current, st.Officer)
	}
	for _, tc := range []struct {
		body string
		code int
		err  string
	}{
		{`{"verdict":"cleared"}`, 422, "reason_required"},
		{`{"verdict":"confirmed","shout":true}`, 400, "bad_request"},
		{`{"verdict":"confirmed"`, 400, "bad_request"},
		{`{"verdict":"maybe"}`, 400, "bad_verdict"},
		{`{"verdict":"confirmed"}`, 200, ""},
		{`{"verdict":"referred"}`, 409, "already_decided"},
		{`{"verdict":"referred","supersedes":"` + hit.ID + `/1"}`, 422, "reason_required"},
		{`{"verdict":"referred","supersedes":"` + hit.ID + `/7","change_reason":"wrong_key"}`, 409, "stale_verdict"},
		{`{"verdict":"referred","supersedes":"` + hit.ID + `/1","change_reason":"wrong_key","note":"second line asked"}`, 200, ""},
	} {
		if code, e := apiVerdict(t, c, l.srv.URL, hit.ID, tc.body); code != tc.code || e != tc.err {
			t.Errorf("%s: %d %q, want %d %q", tc.body, code, e, tc.code, tc.err)
		}
	}
	if code, e := apiVerdict(t, c, l.srv.URL, "20260101T000000-00", `{"verdict":"confirmed"}`); code != 404 || e != "unknown_transaction" {
		t.Errorf("unknown transaction: %d %s", code, e)
	}
	if v := l.verdicts(); len(v) != 2 || v[1]["supersedes"] != hit.ID+"/1" || v[1]["note"] != "second line asked" {
		t.Fatalf("outbox verdicts %v", v)
	}

	// A clear traveller, once the next came, has moved on.
	a := l.scan(plainTraveller("AHN"))
	l.scan(plainTraveller("BAE"))
	if code, _ := get(t, c, l.srv.URL+"/api/transactions/"+a.ID); code != 200 {
		t.Fatalf("transaction: %d", code)
	}
	if code, e := apiVerdict(t, c, l.srv.URL, a.ID, `{"verdict":"referred"}`); code != 409 || e != "moved_on" {
		t.Errorf("verdict on a traveller who moved on: %d %s", code, e)
	}

	// History: the shift's transactions, by name or document.
	hist := func(q string) []lane.Summary {
		_, body := get(t, c, l.srv.URL+"/api/history?q="+q)
		var h struct{ Transactions []lane.Summary }
		json.Unmarshal([]byte(body), &h)
		return h.Transactions
	}
	if h := hist("park"); len(h) != 1 || h[0].Verdict != "referred" || !h[0].Changed {
		t.Fatalf("history park: %+v", h)
	}
	if h := hist(""); len(h) != 3 {
		t.Fatalf("history of the shift: %d lines, want 3", len(h))
	}
	for _, s := range hist("") {
		if s.ID == before.ID {
			t.Fatal("the history shows a traveller from before the shift")
		}
	}

	// The event stream shows decided transactions: a verdict is accepted
	// for one seen only there.
	c2 := apiLogin(t, l.srv.URL, "o3", "975310")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", l.srv.URL+"/api/events", nil)
	resp, err := c2.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	readEvent(t, r, "health")
	hit2 := l.scan(plainTraveller("CHO", arrest))
	for readEvent(t, r, "") != lane.EventDecision {
	}
	if code, e := apiVerdict(t, c2, l.srv.URL, hit2.ID, `{"verdict":"confirmed"}`); code != 200 {
		t.Fatalf("verdict after the event stream showed it: %d %s", code, e)
	}
}

// readEvent reads the next server-sent event's type (and checks it when
// want is given).
func readEvent(t *testing.T, r *bufio.Reader, want string) string {
	t.Helper()
	done := make(chan string, 1)
	go func() {
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				done <- ""
				return
			}
			if strings.HasPrefix(line, "event: ") {
				done <- strings.TrimSpace(strings.TrimPrefix(line, "event: "))
				return
			}
		}
	}()
	select {
	case ev := <-done:
		if want != "" && ev != want {
			t.Fatalf("event %q, want %q", ev, want)
		}
		return ev
	case <-time.After(30 * time.Second):
		t.Fatal("no event within 30 s")
		return ""
	}
}

// TestShownSetsBounded: what sessions were shown is bounded in sessions
// and in transactions per session.
func TestShownSetsBounded(t *testing.T) {
	s := New(&backend{Broker: lane.NewBroker()}, Options{Accounts: &Accounts{}})
	req := func(tok string) *http.Request {
		r := httptest.NewRequest("GET", "/api/state", nil)
		r.AddCookie(&http.Cookie{Name: cookieName, Value: tok})
		return r
	}
	for i := range maxShownSessions + 10 {
		s.markShown(req(strings.Repeat("x", i+1)), &lane.Transaction{ID: "t", State: lane.StateDecided})
	}
	if n := len(s.shown.by); n != maxShownSessions {
		t.Fatalf("%d sessions remembered", n)
	}
	r := req("one")
	for i := range maxShown + 5 {
		s.markShown(r, &lane.Transaction{ID: strings.Repeat("i", 1) + string(rune('a'+i%26)) + time.Duration(i).String(), State: lane.StateDecided})
	}
	if ss := s.shown.by["one"]; len(ss.ids) != maxShown || len(ss.order) != maxShown {
		t.Fatalf("%d ids remembered", len(ss.ids))
	}
	if s.wasShown(r, "ia0s") {
		t.Fatal("the oldest id was not forgotten")
	}
	s.markShown(r, &lane.Transaction{ID: "running", State: lane.StateStarted})
	if s.wasShown(r, "running") {
		t.Fatal("a transaction still being checked counts as shown")
	}
}

func FuzzDecodeVerdict(f *testing.F) {
	for _, s := range []string{`{"verdict":"confirmed"}`, `{"verdict":"cleared","reason":"different_person","note":"x"}`,
		`{"verdict":"referred","supersedes":"a/1","change_reason":"wrong_key","candidates":[{"hit":0,"verdict":"not_same"}]}`,
		`{"verdict":1}`, `[]`, `{"candidates":[` + strings.Repeat(`{"hit":1},`, 70) + `{}]}`, ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest("POST", "/api/transactions/x/verdict", strings.NewReader(body))
		w := httptest.NewRecorder()
		req, err := decodeVerdict(r, w)
		if err == nil && len(req.Candidates) > 64 {
			t.Fatalf("%d candidates accepted", len(req.Candidates))
		}
		if err == nil && len(body) > maxVerdictBody {
			t.Fatal("oversized body accepted")
		}
	})
}
