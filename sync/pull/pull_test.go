package pull

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/internal/backoff/backofftest"
	"github.com/checkpoint-edge/checkpoint/sync/bundle"
	"github.com/checkpoint-edge/checkpoint/watchlist"
)

func newPuller(t testing.TB, h *hub, addr string, store bundle.Store, q *hq, clk Clock) *Puller {
	t.Helper()
	p, err := New(Config{
		BaseURL: "https://" + addr + "/v1/bundles/", WatchlistID: "national", TLS: h.clientTL,
		Dir: t.TempDir(), Store: store, Bundle: q.opts(), Clock: clk,
		Backoff: Backoff{Min: 10 * time.Millisecond, Max: 100 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// TestPullResumesAcrossCuts downloads a ~20 MB bundle through a link that
// drops every ~1 MB: it completes without starting over, and installs.
func TestPullResumesAcrossCuts(t *testing.T) {
	size := 15 << 20 // photos in base64: a ~21 MB bundle
	if testing.Short() {
		size = 4 << 20
	}
	h, q := newHub(t), newHQ(t)
	cs := heavy(size)
	q.publish(t, h, 1, 0, cs, nil)
	proxy := newCutProxy(t, h.srv.Listener.Addr().String(), 1<<20)
	store := openStore(t)
	p := newPuller(t, h, proxy.addr(), store, q, backofftest.New(time.Now()))

	res, err := p.Once(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Installed) != 1 || res.Installed[0] != 1 || store.Meta().Sequence != 1 {
		t.Fatalf("result %+v, store at %d", res, store.Meta().Sequence)
	}
	if store.Meta().StateHash != stateOf(t, cs).Hash.String() {
		t.Fatal("installed state differs from the published one")
	}
	d := res.Downloads[0]
	t.Logf("download: %+v, proxy cuts %d", d, proxy.cuts.Load())
	minResumes := int(d.Size/(5<<20/4)) - 1 // cuts come at most every 1.25 MB
	if d.Resumes < minResumes || proxy.cuts.Load() < int64(minResumes) {
		t.Errorf("resumes = %d, cuts = %d, want >= %d", d.Resumes, proxy.cuts.Load(), minResumes)
	}
	if d.Restarts != 0 || d.Bytes != d.Size {
		t.Errorf("bytes transferred %d for a %d-byte file (restarts %d): nothing should be fetched twice", d.Bytes, d.Size, d.Restarts)
	}
	if p.Link().State != LinkUp || p.Link().Installed != 1 {
		t.Errorf("link = %+v", p.Link())
	}

	// Unchanged index: a 304 and nothing downloaded.
	before := h.requests.Load()
	res, err = p.Once(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !res.NotModified || len(res.Installed) != 0 || h.requests.Load() != before+1 {
		t.Fatalf("second pull: %+v, %d requests", res, h.requests.Load()-before)
	}
}

func TestPullDeltaChainAndFallback(t *testing.T) {
	h, q := newHub(t), newHQ(t)
	v1, v2, v3 := docs(2000, "a"), docs(2010, "a"), docs(2005, "a")
	q.publish(t, h, 1, 0, v1, nil)
	store := openStore(t)
	p := newPuller(t, h, h.srv.Listener.Addr().String(), store, q, backofftest.New(time.Now()))
	if _, err := p.Once(context.Background()); err != nil {
		t.Fatal(err)
	}

	delta := func(seq, base uint64, prev, next []watchlist.Change, st *bundle.State) {
		src, got, err := bundle.Diff(&watchlist.SliceSource{Changes: prev}, func() (watchlist.ChangeSource, error) {
			return &watchlist.SliceSource{Changes: next}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if st == nil {
			st = got
		}
		var cs []watchlist.Change
		for c, err := src.Next(); err == nil; c, err = src.Next() {
			cs = append(cs, c)
		}
		q.publish(t, h, seq, base, cs, st)
	}
	delta(2, 1, v1, v2, nil)
	delta(3, 2, v2, v3, nil)
	q.publish(t, h, 3, 0, v3, nil)
	res, err := p.Once(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Installed) != 2 || res.Installed[0] != 2 || res.Installed[1] != 3 || res.FellBack {
		t.Fatalf("chain: %+v", res)
	}
	if store.Meta().StateHash != stateOf(t, v3).Hash.String() {
		t.Fatal("state after chain differs")
	}

	// A delta whose signed state disagrees with the unit's list: keep the
	// list, then install the full bundle.
	v4 := docs(2020, "a")
	delta(4, 3, v3, v4, stateOf(t, docs(1, "wrong")))
	q.publish(t, h, 4, 0, v4, nil)
	res, err = p.Once(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !res.FellBack || store.Meta().Sequence != 4 || store.Meta().StateHash != stateOf(t, v4).Hash.String() {
		t.Fatalf("fallback: %+v, store at %d", res, store.Meta().Sequence)
	}
}

func TestDownload(t *testing.T) {
	h := newHub(t)
	data := make([]byte, 3<<20+123)
	r := rand.New(rand.NewPCG(5, 6))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	os.WriteFile(filepath.Join(h.dir, "blob"), data, 0o644)
	sum := sha256.Sum256(data)
	good := hex.EncodeToString(sum[:])
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: h.clientTL}}
	url := h.srv.URL + "/v1/bundles/blob"

	t.Run("file changed under a part", func(t *testing.T) {
		dst := filepath.Join(t.TempDir(), "blob")
		os.WriteFile(dst+".part", []byte("old content of another file"), 0o600)
		os.WriteFile(dst+".part.etag", []byte(`"stale"`), 0o600)
		st, err := Download(context.Background(), client, url, dst, DownloadOptions{Size: int64(len(data)), SHA256: good})
		if err != nil {
			t.Fatal(err)
		}
		if st.Restarts != 1 || st.Resumes != 0 {
			t.Errorf("stats %+v: want one restart", st)
		}
		if got, _ := os.ReadFile(dst); len(got) != len(data) || sha256.Sum256(got) != sum {
			t.Fatal("downloaded content differs")
		}
	})
	t.Run("resume a part", func(t *testing.T) {
		dst := filepath.Join(t.TempDir(), "blob")
		// A first attempt cut at 1 MB by the proxy leaves a part file.
		proxy := newCutProxy(t, h.srv.Listener.Addr().String(), 1<<20)
		pc := &http.Client{Transport: &http.Transport{TLSClientConfig: h.clientTL}}
		clk := backofftest.New(time.Now())
		st, err := Download(context.Background(), pc, "https://"+proxy.addr()+"/v1/bundles/blob", dst,
			DownloadOptions{Size: int64(len(data)), SHA256: good, Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		if st.Resumes < 2 || st.Bytes != int64(len(data)) {
			t.Errorf("stats %+v", st)
		}
	})
	t.Run("checksum mismatch", func(t *testing.T) {
		dst := filepath.Join(t.TempDir(), "blob")
		bad := "00" + good[2:]
		_, err := Download(context.Background(), client, url, dst, DownloadOptions{Size: int64(len(data)), SHA256: bad})
		if !errors.Is(err, ErrChecksum) {
			t.Fatalf("err = %v", err)
		}
		if _, err := os.Stat(dst); err == nil {
			t.Fatal("a file that failed its checksum was kept")
		}
		if _, err := os.Stat(dst + ".part"); err == nil {
			t.Fatal("the bad part file was kept")
		}
	})
	t.Run("rate limit", func(t *testing.T) {
		dst := filepath.Join(t.TempDir(), "blob")
		clk := backofftest.New(time.Now())
		rate := int64(512 << 10)
		if _, err := Download(context.Background(), client, url, dst, DownloadOptions{Size: int64(len(data)), SHA256: good, RateLimit: rate, Clock: clk}); err != nil {
			t.Fatal(err)
		}
		_, total := slept(clk)
		want := time.Duration(float64(len(data)) / float64(rate) * float64(time.Second))
		if total < want*9/10 || total > want*11/10 {
			t.Errorf("waited %v on the clock, want about %v", total, want)
		}
	})
	t.Run("not found", func(t *testing.T) {
		_, err := Download(context.Background(), client, h.srv.URL+"/v1/bundles/nope", filepath.Join(t.TempDir(), "x"),
			DownloadOptions{Size: 10, SHA256: good})
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestLinkDownAndBackoff(t *testing.T) {
	h, q := newHub(t), newHQ(t)
	store := openStore(t)
	clk := backofftest.New(time.Now())

	// Without a client certificate the hub refuses the handshake.
	noCert := h.clientTL.Clone()
	noCert.Certificates = nil
	p, err := New(Config{BaseURL: h.srv.URL + "/v1/bundles/", WatchlistID: "national", TLS: noCert,
		Dir: t.TempDir(), Store: store, Bundle: q.opts(), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for range 3 {
		if _, err := p.Once(context.Background()); err == nil {
			t.Fatal("pull without a client certificate succeeded")
		}
	}
	if l := p.Link(); l.State != LinkDown || l.Failures != 3 || l.LastError == "" {
		t.Fatalf("link = %+v", l)
	}

	// Run backs off, growing delays, on the replaceable clock.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()
	for {
		if n, _ := slept(clk); n >= 6 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
	s := clk.Waits()
	if s[4] <= s[0] {
		t.Errorf("backoff does not grow: %v", s)
	}

	b := Backoff{Min: time.Second, Max: 8 * time.Second, Rand: func() float64 { return 0.5 }}
	for i, want := range []time.Duration{750 * time.Millisecond, 1500 * time.Millisecond, 3 * time.Second, 6 * time.Second, 6 * time.Second} {
		if got := b.Delay(i); got != want {
			t.Errorf("Delay(%d) = %v, want %v", i, got, want)
		}
	}
}

// TestPullFailsOverToNextServer: the first base URL is a dead replica
// (connection refused), the second a 5xx one, the third serves: the pull
// installs from the third and stays with it.
func TestPullFailsOverToNextServer(t *testing.T) {
	h, q := newHub(t), newHQ(t)
	q.publish(t, h, 1, 0, docs(500, "a"), nil)
	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	deadAddr := dead.Addr().String()
	dead.Close()
	broken := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "replica overloaded", http.StatusServiceUnavailable)
	}))
	broken.TLS = h.srv.TLS.Clone()
	broken.StartTLS()
	defer broken.Close()
	store := openStore(t)
	p, err := New(Config{
		BaseURL:     "https://" + deadAddr + "/v1/bundles/",
		BaseURLs:    []string{broken.URL + "/v1/bundles/", h.srv.URL + "/v1/bundles/"},
		WatchlistID: "national", TLS: h.clientTL, Dir: t.TempDir(), Store: store, Bundle: q.opts(),
		Clock: backofftest.New(time.Now()), Backoff: Backoff{Min: time.Millisecond, Max: 10 * time.Millisecond}, MaxAttempts: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	res, err := p.Once(context.Background())
	if err != nil || len(res.Installed) != 1 || store.Meta().Sequence != 1 {
		t.Fatalf("pull through failover: %+v %v", res, err)
	}
	before := h.requests.Load()
	q.publish(t, h, 2, 0, docs(510, "a"), nil)
	if res, err := p.Once(context.Background()); err != nil || store.Meta().Sequence != 2 {
		t.Fatalf("second pull: %+v %v", res, err)
	}
	if h.requests.Load() == before {
		t.Fatal("second pull did not go to the server that worked")
	}
	if _, err := New(Config{BaseURL: "https://a/", BaseURLs: []string{"ftp://b/"}, WatchlistID: "x", TLS: h.clientTL,
		Dir: t.TempDir(), Store: store, Bundle: q.opts()}); err == nil {
		t.Fatal("accepted a non-HTTP base URL")
	}
}
