package web

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/lane"
)

// backend is a small in-memory lane for the page's HTTP tests; the
// end-to-end tests in cmd/checkpointd drive the real pipeline.
type backend struct {
	*lane.Broker
	mu       sync.Mutex
	txs      []*lane.Transaction
	verdicts []string
}

func (b *backend) Recent(n int) []lane.Transaction {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []lane.Transaction
	for i := len(b.txs) - 1; i >= 0 && len(out) < n; i-- {
		out = append(out, *b.txs[i])
	}
	return out
}
func (b *backend) Transaction(id string) *lane.Transaction {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, t := range b.txs {
		if t.ID == id {
			return t
		}
	}
	return nil
}
func (b *backend) Record(ctx context.Context, r lane.VerdictRequest) (*lane.Transaction, error) {
	tx := b.Transaction(r.TxID)
	if tx == nil {
		return nil, lane.ErrUnknownTransaction
	}
	if r.Verdict != "confirmed" && r.Verdict != "false_positive" && r.Verdict != "referred" && r.Verdict != "cleared" {
		return nil, lane.ErrBadVerdict
	}
	b.mu.Lock()
	b.verdicts = append(b.verdicts, r.Officer+":"+r.Verdict)
	tx.Officer = &lane.OfficerDecision{Officer: r.Officer, Verdict: r.Verdict, Recorded: true}
	b.mu.Unlock()
	return tx, nil
}
func (b *backend) Pending() []lane.Transaction                { return nil }
func (b *backend) History(q lane.HistoryQuery) []lane.Summary { return nil }
func (b *backend) Health() lane.Health {
	return lane.Health{Unit: "desk-01", Mode: "desk", Scanner: "connected"}
}

type fixture struct {
	srv   *httptest.Server
	b     *backend
	now   time.Time
	nowMu sync.Mutex
	s     *Server
}

func (f *fixture) clock() time.Time { f.nowMu.Lock(); defer f.nowMu.Unlock(); return f.now }
func (f *fixture) advance(d time.Duration) {
	f.nowMu.Lock()
	f.now = f.now.Add(d)
	f.nowMu.Unlock()
}

func newFixture(t *testing.T) *fixture { t.Helper(); return newFixtureWith(t, nil) }

// newFixtureWith lets a test set more Options (lockout file, hash slots).
func newFixtureWith(t *testing.T, opts func(*Options)) *fixture {
	t.Helper()
	acc := &Accounts{}
	acc.Set("o1", "Officer One", "246810")
	path := filepath.Join(t.TempDir(), "officers.json")
	if err := acc.Save(path); err != nil {
		t.Fatal(err)
	}
	loaded, err := LoadAccounts(path)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{b: &backend{Broker: lane.NewBroker()}, now: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)}
	f.b.txs = []*lane.Transaction{{ID: "tx1", State: "decided", Decision: lane.Hit, FaceJPEG: []byte("\xff\xd8jpeg"),
		Hits: []lane.HitView{{Kind: "document", RefID: "SLTD-1", Action: "arrest", Photo: []byte("\xff\xd8ref")}}}}
	opt := Options{Accounts: loaded, SessionTTL: time.Hour, Now: f.clock}
	if opts != nil {
		opts(&opt)
	}
	f.s = New(f.b, opt)
	f.srv = httptest.NewServer(f.s)
	t.Cleanup(f.srv.Close)
	return f
}

func client(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// login posts the sign-in form as the page does (a browser sends its
// Origin) and returns where it was sent.
func login(t *testing.T, f *fixture, c *http.Client, id, pin string) string {
	t.Helper()
	code, loc := loginWith(t, f.srv.URL, c, id, pin, map[string]string{"Origin": f.srv.URL})
	if code != http.StatusSeeOther {
		t.Fatalf("sign-in answered %d, want 303", code)
	}
	return loc
}

func loginWith(t *testing.T, base string, c *http.Client, id, pin string, hdr map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(url.Values{"officer": {id}, "pin": {pin}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location")
}

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func post(t *testing.T, c *http.Client, u, body string, hdr map[string]string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestSignInAndAccess(t *testing.T) {
	f := newFixture(t)
	c := client(t)
	if code, _ := get(t, c, f.srv.URL+"/api/state"); code != 401 {
		t.Fatalf("state without session: %d", code)
	}
	resp, _ := c.Get(f.srv.URL + "/")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Fatalf("page without session: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if loc := login(t, f, c, "o1", "000000"); loc != "/login?e=bad" {
		t.Fatalf("wrong PIN redirect %q", loc)
	}
	if loc := login(t, f, c, "o1", "246810"); loc != "/" {
		t.Fatalf("login redirect %q", loc)
	}
	code, body := get(t, c, f.srv.URL+"/api/state")
	if code != 200 || !strings.Contains(body, `"id":"o1"`) || strings.Contains(body, "argon2id") {
		t.Fatalf("state: %d %s", code, body)
	}
	if code, body := get(t, c, f.srv.URL+"/"); code != 200 || !strings.Contains(body, "app.js") {
		t.Fatalf("page: %d", code)
	}
	if code, body := get(t, c, f.srv.URL+"/api/transactions/tx1/face.jpg"); code != 200 || !strings.HasPrefix(body, "\xff\xd8") {
		t.Fatalf("face: %d", code)
	}
	if code, _ := get(t, c, f.srv.URL+"/api/transactions/tx1/hits/0/photo.jpg"); code != 200 {
		t.Fatalf("hit photo: %d", code)
	}
	if code, _ := get(t, c, f.srv.URL+"/api/transactions/tx1/hits/9/photo.jpg"); code != 404 {
		t.Fatalf("missing hit photo: %d", code)
	}
	// Session expiry.
	f.advance(2 * time.Hour)
	if code, _ := get(t, c, f.srv.URL+"/api/state"); code != 401 {
		t.Fatalf("expired session: %d", code)
	}
}

func TestLockout(t *testing.T) {
	f := newFixture(t)
	c := client(t)
	for i := 0; i < MaxFailures; i++ {
		login(t, f, c, "o1", "111111")
	}
	if loc := login(t, f, c, "o1", "246810"); loc != "/login?e=locked" {
		t.Fatalf("right PIN during lockout: %q", loc)
	}
	f.advance(Lockout + time.Second)
	if loc := login(t, f, c, "o1", "246810"); loc != "/" {
		t.Fatalf("after lockout: %q", loc)
	}
}

func TestDecisionAndCSRF(t *testing.T) {
	f := newFixture(t)
	c := client(t)
	login(t, f, c, "o1", "246810")
	u := f.srv.URL + "/api/transactions/tx1/decision"
	if code := post(t, c, u, `{"verdict":"confirmed"}`, map[string]string{"Origin": f.srv.URL}); code != 403 {
		t.Fatalf("without X-Checkpoint: %d", code)
	}
	if code := post(t, c, u, `{"verdict":"confirmed"}`, map[string]string{"X-Checkpoint": "1", "Origin": "http://evil.example"}); code != 403 {
		t.Fatalf("cross origin: %d", code)
	}
	if code := post(t, c, u, `{"verdict":"confirmed"}`, map[string]string{"X-Checkpoint": "1"}); code != 403 {
		t.Fatalf("with no Origin, Referer or Sec-Fetch-Site: %d", code)
	}
	ok := map[string]string{"X-Checkpoint": "1", "Origin": f.srv.URL}
	if code := post(t, c, u, `{"verdict":"confirmed"}`, ok); code != 409 {
		t.Fatalf("verdict before the page showed the transaction: %d, want 409", code)
	}
	get(t, c, f.srv.URL+"/api/state") // the page shows tx1
	if code := post(t, c, u, `{"verdict":"maybe"}`, ok); code != 400 {
		t.Fatalf("bad verdict: %d", code)
	}
	if code := post(t, c, f.srv.URL+"/api/transactions/nope/decision", `{"verdict":"confirmed"}`, ok); code != 404 {
		t.Fatalf("unknown tx: %d", code)
	}
	if code := post(t, c, u, `{"verdict":"confirmed"}`, ok); code != 200 {
		t.Fatalf("decision: %d", code)
	}
	if len(f.b.verdicts) != 1 || f.b.verdicts[0] != "o1:confirmed" {
		t.Fatalf("verdicts %v", f.b.verdicts)
	}
	// Sign out ends the session.
	post(t, c, f.srv.URL+"/logout", "", map[string]string{"Origin": f.srv.URL})
	if code, _ := get(t, c, f.srv.URL+"/api/state"); code != 401 {
		t.Fatalf("after logout: %d", code)
	}
}

func TestEventStream(t *testing.T) {
	f := newFixture(t)
	c := client(t)
	login(t, f, c, "o1", "246810")
	req, _ := http.NewRequest("GET", f.srv.URL+"/api/events", nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp, err := c.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	readEvent := func() string {
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(line, "event: ") {
				return strings.TrimSpace(strings.TrimPrefix(line, "event: "))
			}
		}
	}
	if ev := readEvent(); ev != "health" {
		t.Fatalf("first event %q", ev)
	}
	f.b.Publish(lane.Event{Type: lane.EventDecision, Transaction: f.b.txs[0]})
	if ev := readEvent(); ev != "decision" {
		t.Fatalf("event %q", ev)
	}
}

func TestAccountsFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.json")
	os.WriteFile(p, []byte(`{"officers":[{"id":"x","pin_hash":"plain"}]}`), 0o600)
	if _, err := LoadAccounts(p); err == nil {
		t.Fatal("accepted a non-argon2 hash")
	}
	os.WriteFile(p, []byte(`{"officers":[]}`), 0o644)
	os.Chmod(p, 0o644)
	if _, err := LoadAccounts(p); err == nil || !strings.Contains(err.Error(), "readable by other users") {
		t.Fatalf("world-readable accounts: %v", err)
	}
	if VerifyPIN("$argon2id$v=19$m=1,t=1,p=1$AA$AA", "x") {
		t.Fatal("verified garbage")
	}
	h := HashPIN("1234")
	if !VerifyPIN(h, "1234") || VerifyPIN(h, "1235") {
		t.Fatal("PIN verification")
	}
}

// TestAccountsReload: officers added or removed in the file (as
// checkpointctl officer add/remove does, by atomic rename) count from the
// next request; a removed officer's session ends; a broken file keeps the
// last good accounts.
func TestAccountsReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "officers.json")
	acc := &Accounts{}
	acc.Set("o1", "Officer One", "246810")
	if err := acc.Save(path); err != nil {
		t.Fatal(err)
	}
	af, err := OpenAccountsFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{b: &backend{Broker: lane.NewBroker()}, now: time.Now()}
	f.s = New(f.b, Options{AccountsFile: af, SessionTTL: time.Hour, Now: f.clock})
	f.srv = httptest.NewServer(f.s)
	defer f.srv.Close()

	c1, c2 := client(t), client(t)
	if loc := login(t, f, c2, "o2", "135790"); loc != "/login?e=bad" {
		t.Fatalf("o2 before being added: → %s", loc)
	}
	if loc := login(t, f, c1, "o1", "246810"); loc != "/" {
		t.Fatalf("o1: → %s", loc)
	}
	acc.Set("o2", "Officer Two", "135790")
	if err := acc.Save(path); err != nil {
		t.Fatal(err)
	}
	if loc := login(t, f, c2, "o2", "135790"); loc != "/" {
		t.Fatalf("o2 after being added: → %s", loc)
	}
	// Remove o1: the open session ends.
	acc.Officers = acc.Officers[1:]
	if err := acc.Save(path); err != nil {
		t.Fatal(err)
	}
	if code, _ := get(t, c1, f.srv.URL+"/api/state"); code != http.StatusUnauthorized {
		t.Fatalf("removed officer's session: %d, want 401", code)
	}
	// A hand-broken file: the last good accounts stay in force.
	if err := os.WriteFile(path+".tmp", []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Rename(path+".tmp", path)
	if code, _ := get(t, c2, f.srv.URL+"/api/state"); code != 200 {
		t.Fatalf("o2 after the file broke: %d, want 200", code)
	}
	if loc := login(t, f, client(t), "o1", "246810"); loc != "/login?e=bad" {
		t.Fatalf("removed o1 signs in after the file broke: → %s", loc)
	}
}
