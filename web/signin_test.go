package web

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// signInServer serves f's sign-in socket and returns a client for it.
func signInServer(t *testing.T, f *fixture, s *Server) *http.Client {
	t.Helper()
	dir, err := os.MkdirTemp("", "si")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "signin.sock")
	ln, err := ListenSignIn(sock)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(sock); st.Mode().Perm() != 0o666 {
		t.Fatalf("socket mode %v, want 0666 (the directory limits who reaches it)", st.Mode().Perm())
	}
	srv := &http.Server{Handler: s.SignInHandler(f.srv.URL), ConnContext: PeerContext}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
}

func requestTicket(t *testing.T, c *http.Client) (int, SignInTicket, string) {
	t.Helper()
	resp, err := c.Post("http://checkpointd/v1/signin", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var tk SignInTicket
	json.Unmarshal(b, &tk)
	return resp.StatusCode, tk, string(b)
}

func TestOSUserSignIn(t *testing.T) {
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	// A unit where no officer is mapped to this OS user refuses, saying
	// what to do.
	none := signInServer(t, f, New(f.b, Options{Accounts: &Accounts{}}))
	if code, _, body := requestTicket(t, none); code != http.StatusForbidden || !strings.Contains(body, "officer add --os-user") {
		t.Fatalf("unmapped OS user: %d %s", code, body)
	}
	f.s.opt.Accounts.Officers[0].OSUser = me.Username // before any request reads it
	sc := signInServer(t, f, f.s)

	code, tk, body := requestTicket(t, sc)
	if code != 200 || tk.Officer != "o1" || !strings.HasPrefix(tk.URL, f.srv.URL+"/login/ticket?t=") || !tk.Expires.Equal(f.clock().Add(TicketTTL)) {
		t.Fatalf("ticket: %d %s", code, body)
	}
	c := client(t)
	resp, err := c.Get(tk.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("redeeming: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if code, body := get(t, c, f.srv.URL+"/api/state"); code != 200 || !strings.Contains(body, `"id":"o1"`) {
		t.Fatalf("state after OS-user sign-in: %d %s", code, body)
	}

	redeem := func(u string) string {
		t.Helper()
		resp, err := client(t).Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header.Get("Location")
	}
	// A ticket works once.
	if loc := redeem(tk.URL); loc != "/login?e=ticket" {
		t.Fatalf("second use of a ticket: → %s", loc)
	}
	// And only within TicketTTL.
	_, tk2, _ := requestTicket(t, sc)
	f.advance(TicketTTL + time.Second)
	if loc := redeem(tk2.URL); loc != "/login?e=ticket" {
		t.Fatalf("expired ticket: → %s", loc)
	}
	if loc := redeem(f.srv.URL + "/login/ticket?t=forged"); loc != "/login?e=ticket" {
		t.Fatalf("forged ticket: → %s", loc)
	}
	if code, body := get(t, client(t), f.srv.URL+"/login?e=ticket"); code != 200 || !strings.Contains(body, "used or has expired") {
		t.Fatalf("login page after a bad ticket: %d", code)
	}

	// Over TCP the kernel names no peer: refused.
	tcp := httptest.NewServer(f.s.SignInHandler(f.srv.URL))
	defer tcp.Close()
	resp, err = http.Post(tcp.URL+"/v1/signin", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("sign-in over TCP: %d, want 403", resp.StatusCode)
	}
}

func TestAccountsOSUser(t *testing.T) {
	a := &Accounts{}
	a.SetOfficer("o1", "One", "246810", "desk1")
	a.SetOfficer("o2", "Two", "135790", "desk1") // the desk login moves to o2
	if o, err := a.ByOSUser("desk1"); err != nil || o.ID != "o2" {
		t.Fatalf("ByOSUser(desk1) = %+v, %v; want o2", o, err)
	}
	if _, err := a.ByOSUser(""); err == nil {
		t.Fatal("empty OS user matched an officer")
	}
	path := filepath.Join(t.TempDir(), "a.json")
	a.Officers[0].OSUser = "desk1" // hand-edited file: two officers, one login
	a.Save(path)
	if _, err := LoadAccounts(path); err == nil || !strings.Contains(err.Error(), "belongs to two officers") {
		t.Fatalf("load with a shared OS user: %v", err)
	}
}
