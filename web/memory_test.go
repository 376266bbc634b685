package web

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestSignInMemoryBound is issue 17's second finding: every sign-in took
// argon2id's 64 MiB with no bound on concurrency (40 concurrent requests
// took the daemon from 130 MB to 2.77 GB). Here 1,000 clients, each from
// its own loopback address (so no lockout stops them early), sign in with
// unknown ids as fast as they are let, for a few seconds; the process's
// peak RSS may grow by at most what the hashing slots allow:
//
//	slots × 64 MiB × 2.5 (the hash, and the garbage collector's headroom)
//	+ 192 MiB (1,000 connections: goroutines, buffers, both ends)
//
// times 3 under the race detector (its shadow memory). The storm runs in a
// child process so that the peak is this storm's alone.
func TestSignInMemoryBound(t *testing.T) {
	if os.Getenv("CHECKPOINT_SIGNIN_STORM") == "1" {
		signInStorm(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestSignInMemoryBound$", "-test.v")
	cmd.Env = append(os.Environ(), "CHECKPOINT_SIGNIN_STORM=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("storm: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`STORM slots=(\d+) clients=(\d+) hashed=(\d+) busy=(\d+) other=(\d+) base=(\d+) peak=(\d+)`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("storm printed no figures:\n%s", out)
	}
	n := func(i int) int64 { v, _ := strconv.ParseInt(m[i], 10, 64); return v }
	slots, hashed, busy, base, peak := n(1), n(3), n(4), n(6), n(7)
	bound := slots*hashMemory*5/2 + 192<<20
	if raceEnabled {
		bound *= 3
	}
	t.Logf("1,000 concurrent sign-ins: %d hashing slots, %d PINs hashed, %d refused busy (429); RSS %d MiB before, peak %d MiB (+%d MiB; bound +%d MiB)",
		slots, hashed, busy, base>>20, peak>>20, (peak-base)>>20, bound>>20)
	if hashed == 0 || busy == 0 {
		t.Fatalf("storm did not exercise the bound: %d hashed, %d busy", hashed, busy)
	}
	if peak-base > bound {
		t.Fatalf("peak RSS grew by %d MiB, bound %d MiB", (peak-base)>>20, bound>>20)
	}
}

// signInStorm runs in the child: 1,000 clients sign in until the window
// closes, each from 127.1.x.y, retrying after a 429.
func signInStorm(t *testing.T) {
	const clients = 1000
	window := 4 * time.Second
	f := newFixture(t)
	base := procStatus(t, "VmRSS")
	var hashed, busy, other atomic.Int64
	deadline := time.Now().Add(window)
	var ready, wg sync.WaitGroup
	start := make(chan struct{})
	ready.Add(clients)
	for i := range clients {
		wg.Go(func() {
			local := &net.TCPAddr{IP: net.IPv4(127, 1, byte(i/250), byte(1+i%250))}
			c := &http.Client{Transport: &http.Transport{
				DialContext: (&net.Dialer{LocalAddr: local}).DialContext, MaxIdleConnsPerHost: 1},
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			ready.Done()
			<-start
			for j := 0; time.Now().Before(deadline); j++ {
				form := url.Values{"officer": {fmt.Sprintf("storm-%d-%d", i, j)}, "pin": {"000000"}}
				req, _ := http.NewRequestWithContext(context.Background(), "POST", f.srv.URL+"/login", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Origin", f.srv.URL)
				resp, err := c.Do(req)
				if err != nil {
					other.Add(1)
					time.Sleep(50 * time.Millisecond)
					continue
				}
				resp.Body.Close()
				switch {
				case resp.StatusCode == http.StatusTooManyRequests:
					busy.Add(1)
					time.Sleep(50 * time.Millisecond)
				case resp.Header.Get("Location") == "/login?e=bad":
					hashed.Add(1)
				default:
					other.Add(1)
				}
			}
		})
	}
	ready.Wait()
	close(start)
	wg.Wait()
	peak := procStatus(t, "VmHWM")
	fmt.Printf("STORM slots=%d clients=%d hashed=%d busy=%d other=%d base=%d peak=%d\n",
		f.s.opt.HashSlots, clients, hashed.Load(), busy.Load(), other.Load(), base, peak)
}

// procStatus reads a /proc/self/status size in bytes.
func procStatus(t *testing.T, field string) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/self/status", field)
	return 0
}
