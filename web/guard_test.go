package web

import (
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
)

// bruteForce sends n wrong PINs for id, conc at a time, each from a fresh
// client, and counts the answers by where they send the browser (or the
// status when it is not a redirect).
func bruteForce(t *testing.T, f *fixture, id string, n, conc int) map[string]int {
	t.Helper()
	var mu sync.Mutex
	res := map[string]int{}
	for sent := 0; sent < n; sent += conc {
		var wg sync.WaitGroup
		for range min(conc, n-sent) {
			wg.Go(func() {
				code, loc := loginWith(t, f.srv.URL, client(t), id, "111111", map[string]string{"Origin": f.srv.URL})
				k := loc
				if code != http.StatusSeeOther {
					k = fmt.Sprint(code)
				}
				mu.Lock()
				res[k]++
				mu.Unlock()
			})
		}
		wg.Wait()
	}
	return res
}

// TestConcurrentBruteForce is issue 17's first finding: 60 wrong PINs sent
// 20 at a time were all checked, and the right PIN was then accepted. Each
// attempt is now reserved before the PIN is hashed, so at most MaxFailures
// are checked whatever the concurrency, and the right PIN is refused while
// the id is locked. Run with as many hashing slots as requests, so that the
// bound on concurrent hashing cannot hide a race in the accounting, and
// with the default slots.
func TestConcurrentBruteForce(t *testing.T) {
	for _, slots := range []int{20, 0} {
		t.Run(fmt.Sprintf("slots=%d", slots), func(t *testing.T) {
			f := newFixtureWith(t, func(o *Options) { o.HashSlots = slots })
			res := bruteForce(t, f, "o1", 60, 20)
			checked := res["/login?e=bad"]
			t.Logf("60 wrong PINs, 20 at a time, %d hashing slots: %v", f.s.opt.HashSlots, res)
			if checked > MaxFailures {
				t.Fatalf("%d wrong PINs were checked, want at most %d", checked, MaxFailures)
			}
			if got := checked + res["/login?e=locked"] + res["429"]; got != 60 {
				t.Fatalf("answers %v: want every attempt checked, refused as locked or refused as busy", res)
			}
			if res["/login?e=locked"] == 0 {
				t.Fatalf("no attempt was refused as locked: %v", res)
			}
			if loc := login(t, f, client(t), "o1", "246810"); loc != "/login?e=locked" {
				t.Fatalf("right PIN after the brute force: → %s, want locked", loc)
			}
			f.advance(Lockout + time.Second)
			if loc := login(t, f, client(t), "o1", "246810"); loc != "/" {
				t.Fatalf("right PIN once the lockout ended: → %s", loc)
			}
		})
	}
}

// TestLockoutSurvivesRestart: the lockout is in the state directory, so a
// restarted daemon (a new server on the same file) still refuses the id.
// The file holds keyed hashes, never an officer id or a client address.
func TestLockoutSurvivesRestart(t *testing.T) {
	file := filepath.Join(t.TempDir(), "signin.lockout")
	f := newFixtureWith(t, func(o *Options) { o.LockoutFile = file })
	cheapHashes(t, f)
	for range MaxFailures {
		login(t, f, client(t), "o1", "111111")
	}
	login(t, f, client(t), "nobody", "111111") // an unknown id is kept too
	f.srv.Close()

	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(file)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("lockout file mode %v, want 0600", st.Mode().Perm())
	}
	for _, s := range []string{"o1", "nobody", "127.0.0.1"} {
		if strings.Contains(string(b), s) {
			t.Fatalf("lockout file names %q: %s", s, b)
		}
	}

	g := newFixtureWith(t, func(o *Options) { o.LockoutFile = file })
	cheapHashes(t, g)
	g.now = f.clock().Add(10 * time.Second)
	if loc := login(t, g, client(t), "o1", "246810"); loc != "/login?e=locked" {
		t.Fatalf("right PIN after a restart during the lockout: → %s", loc)
	}
	g.advance(Lockout)
	if loc := login(t, g, client(t), "o1", "246810"); loc != "/" {
		t.Fatalf("right PIN after the lockout: → %s", loc)
	}
	// A crash while a PIN is being hashed counts the attempt: it was
	// saved before hashing.
	g.s.guard.reserve("o1", true, "10.0.0.1", g.clock())
	h := newFixtureWith(t, func(o *Options) { o.LockoutFile = file })
	cheapHashes(t, h)
	h.now = g.clock()
	for range MaxFailures - 1 {
		login(t, h, client(t), "o1", "111111")
	}
	if loc := login(t, h, client(t), "o1", "246810"); loc != "/login?e=locked" {
		t.Fatalf("the attempt in flight at the crash was not counted: → %s", loc)
	}
}

// TestClientLockout: wrong PINs for many ids from one address lock the
// address, so spraying ids gets no more guesses than one id.
func TestClientLockout(t *testing.T) {
	f := newFixtureWith(t, func(o *Options) { o.HashSlots = 4 })
	cheapHashes(t, f)
	for i := range MaxClientFailures {
		if loc := login(t, f, client(t), fmt.Sprintf("spray-%d", i), "111111"); loc != "/login?e=bad" {
			t.Fatalf("attempt %d: → %s", i, loc)
		}
	}
	if loc := login(t, f, client(t), "o1", "246810"); loc != "/login?e=locked" {
		t.Fatalf("right PIN from a locked address: → %s", loc)
	}
	f.advance(Lockout + time.Second)
	if loc := login(t, f, client(t), "o1", "246810"); loc != "/" {
		t.Fatalf("after the address lockout: → %s", loc)
	}
}

// TestSignInBusy: with every hashing slot taken, a sign-in is refused at
// once with 429 and Retry-After, and is not counted against the officer.
func TestSignInBusy(t *testing.T) {
	f := newFixtureWith(t, func(o *Options) { o.HashSlots = 1 })
	cheapHashes(t, f)
	tk, _, err := f.s.guard.reserve("someone", false, "10.0.0.9", f.clock())
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", f.srv.URL+"/login", strings.NewReader("officer=o1&pin=246810"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", f.srv.URL)
	start := time.Now()
	resp, err := client(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("sign-in with no free slot: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// Refused without hashing: far below one argon2id computation under
	// any load (the bound is generous; a hash takes 64 MiB and ~50 ms+).
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("busy refusal took %v", d)
	}
	f.s.guard.finish(tk, false, f.clock())
	if loc := login(t, f, client(t), "o1", "246810"); loc != "/" {
		t.Fatalf("right PIN once a slot is free: → %s", loc)
	}
}

// TestGuardBounded: accounting for unknown ids and client addresses is
// bounded, and flooding it cannot evict a real officer's lockout.
func TestGuardBounded(t *testing.T) {
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	g := newGuard("", 1, []string{"o1"}, discard(), now)
	for range MaxFailures {
		tk, _, err := g.reserve("o1", true, "10.1.0.1", now)
		if err != nil {
			t.Fatal(err)
		}
		g.finish(tk, false, now)
	}
	for i := range 5 * maxTracked {
		tk, _, err := g.reserve(fmt.Sprintf("unknown-%d", i), false, fmt.Sprintf("10.2.%d.%d", i/256, i%256), now)
		if err != nil {
			t.Fatalf("flood attempt %d: %v", i, err)
		}
		g.finish(tk, false, now)
	}
	if n, c := g.unknown.ll.Len(), g.clients.ll.Len(); n > maxTracked || c > maxTracked || len(g.unknown.m) != n {
		t.Fatalf("tracking %d unknown ids and %d clients, bound %d", n, c, maxTracked)
	}
	if _, err := g.check("o1", true, "", now); err != ErrLocked {
		t.Fatalf("o1 after the flood: %v, want still locked", err)
	}
}

// TestSignInSocketHonoursLockout: the OS-user sign-in (no PIN) does not get
// round a lockout: no link is issued for a locked officer, and a link
// issued before the lockout does not open the page during it.
func TestSignInSocketHonoursLockout(t *testing.T) {
	me := currentUser(t)
	f := newFixture(t)
	cheapHashes(t, f)
	f.s.opt.Accounts.Officers[0].OSUser = me
	sc := signInServer(t, f, f.s)
	code, early, body := requestTicket(t, sc)
	if code != 200 {
		t.Fatalf("ticket before the lockout: %d %s", code, body)
	}
	for range MaxFailures {
		login(t, f, client(t), "o1", "111111")
	}
	if code, _, body := requestTicket(t, sc); code != http.StatusTooManyRequests || !strings.Contains(body, "locked") {
		t.Fatalf("ticket for a locked officer: %d %s", code, body)
	}
	resp, err := client(t).Get(early.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); loc != "/login?e=locked" {
		t.Fatalf("early ticket opened during the lockout: → %s", loc)
	}
	f.advance(Lockout + time.Second)
	if code, tk, body := requestTicket(t, sc); code != 200 || tk.URL == "" {
		t.Fatalf("ticket after the lockout: %d %s", code, body)
	}
}

// cheapHashes makes PIN checks cheap (64 KiB, one pass) for tests that
// count attempts rather than measure their cost: argon2id's 64 MiB take
// seconds per check under the race detector on a busy machine.
func cheapHashes(t *testing.T, f *fixture) {
	t.Helper()
	cheap := func(pin string) string {
		salt := []byte("0123456789abcdef")
		enc := base64.RawStdEncoding
		return fmt.Sprintf("$argon2id$v=%d$m=64,t=1,p=1$%s$%s", argon2.Version, enc.EncodeToString(salt),
			enc.EncodeToString(argon2.IDKey([]byte(pin), salt, 1, 64, 1, 32)))
	}
	f.s.opt.Accounts.Officers[0].PINHash = cheap("246810")
	old := dummyHash
	dummyHash = cheap("not-a-real-pin")
	t.Cleanup(func() { dummyHash = old })
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func currentUser(t *testing.T) string {
	t.Helper()
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	return me.Username
}
