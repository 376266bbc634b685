package web

import (
	"net/http"
	"testing"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// TestLoginCSRF: issue 17 finding 7. Sign-in and sign-out are refused
// unless the request shows it came from this page (Sec-Fetch-Site, Origin
// or Referer), so another site cannot sign the desk's browser in as the
// attacker's officer or sign the officer out.
func TestLoginCSRF(t *testing.T) {
	f := newFixture(t)
	cheapHashes(t, f)
	self := f.srv.URL
	host := self[len("http://"):]
	for _, tc := range []struct {
		name string
		hdr  map[string]string
		want int
	}{
		{"no origin headers", nil, http.StatusForbidden},
		{"other origin", map[string]string{"Origin": "http://evil.example"}, http.StatusForbidden},
		{"look-alike origin", map[string]string{"Origin": "http://" + host + ".evil.example"}, http.StatusForbidden},
		{"null origin", map[string]string{"Origin": "null"}, http.StatusForbidden},
		{"cross-site fetch", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": self}, http.StatusForbidden},
		{"same-site fetch", map[string]string{"Sec-Fetch-Site": "same-site"}, http.StatusForbidden},
		{"other referer", map[string]string{"Referer": "http://evil.example/login"}, http.StatusForbidden},
		{"own origin", map[string]string{"Origin": self}, http.StatusSeeOther},
		{"own referer", map[string]string{"Referer": self + "/login?e=bad"}, http.StatusSeeOther},
		{"same-origin fetch", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "null"}, http.StatusSeeOther},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := client(t)
			code, loc := loginWith(t, self, c, "o1", "246810", tc.hdr)
			if code != tc.want {
				t.Fatalf("sign-in: %d → %q, want %d", code, loc, tc.want)
			}
			signedIn, _ := get(t, c, self+"/api/state")
			if (signedIn == 200) != (tc.want == http.StatusSeeOther) {
				t.Fatalf("state after sign-in answered %d: %d", code, signedIn)
			}
			if signedIn != 200 {
				return
			}
			// Sign-out with the same headers except a foreign origin:
			// refused, and the session stays.
			if code := post(t, c, self+"/logout", "", map[string]string{"Origin": "http://evil.example"}); code != http.StatusForbidden {
				t.Fatalf("cross-site sign-out: %d", code)
			}
			if code, _ := get(t, c, self+"/api/state"); code != 200 {
				t.Fatalf("session ended by a cross-site sign-out: %d", code)
			}
			if code := post(t, c, self+"/logout", "", tc.hdr); code != http.StatusSeeOther {
				t.Fatalf("sign-out from the page: %d", code)
			}
			if code, _ := get(t, c, self+"/api/state"); code != 401 {
				t.Fatalf("session after sign-out: %d", code)
			}
		})
	}
}

// TestMetricsNeedSignIn: issue 17 finding 7. The page serves /metrics
// (web.metrics) to signed-in officers only; Prometheus scrapes the admin
// socket.
func TestMetricsNeedSignIn(t *testing.T) {
	f := newFixtureWith(t, func(o *Options) { o.Metrics = promhttp.Handler() })
	cheapHashes(t, f)
	if code, body := get(t, client(t), f.srv.URL+"/metrics"); code != http.StatusUnauthorized {
		t.Fatalf("/metrics without sign-in: %d %.80s", code, body)
	}
	c := client(t)
	login(t, f, c, "o1", "246810")
	if code, body := get(t, c, f.srv.URL+"/metrics"); code != 200 || len(body) == 0 {
		t.Fatalf("/metrics signed in: %d", code)
	}
}

// TestTicketFromAnotherSite: a sign-in link followed from another site is
// refused (login CSRF by GET), and the ticket still works when the desk's
// browser opens it directly.
func TestTicketFromAnotherSite(t *testing.T) {
	f := newFixture(t)
	f.s.opt.Accounts.Officers[0].OSUser = currentUser(t)
	sc := signInServer(t, f, f.s)
	_, tk, body := requestTicket(t, sc)
	if tk.URL == "" {
		t.Fatalf("no ticket: %s", body)
	}
	for _, site := range []string{"cross-site", "same-site"} {
		req, _ := http.NewRequest("GET", tk.URL, nil)
		req.Header.Set("Sec-Fetch-Site", site)
		resp, err := client(t).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("ticket followed %s: %d", site, resp.StatusCode)
		}
	}
	req, _ := http.NewRequest("GET", tk.URL, nil)
	req.Header.Set("Sec-Fetch-Site", "none") // typed, or chromium --app
	resp, err := client(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/" {
		t.Fatalf("ticket opened directly: %d → %s", resp.StatusCode, loc)
	}
}
