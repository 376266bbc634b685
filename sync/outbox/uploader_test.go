package outbox_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/checkpoint-edge/checkpoint/hub"
	"github.com/checkpoint-edge/checkpoint/hub/hubtest"
	"github.com/checkpoint-edge/checkpoint/internal/backoff/backofftest"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/sync/outbox"
	"github.com/checkpoint-edge/checkpoint/sync/outbox/outboxtest"
	"github.com/checkpoint-edge/checkpoint/sync/pki"
)

func newKey(t testing.TB) seal.KeyProvider {
	t.Helper()
	p := filepath.Join(t.TempDir(), "outbox.kek")
	if err := seal.GenerateKeyFile(p); err != nil {
		t.Fatal(err)
	}
	return seal.FileKey{Path: p}
}

func openOutbox(t testing.TB, unit string) *outbox.Outbox {
	t.Helper()
	o, err := outbox.Open(filepath.Join(t.TempDir(), "outbox.db"), newKey(t), outbox.Options{UnitID: unit})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	return o
}

func item(p outbox.Priority, n int) outbox.Item {
	return outbox.Item{Kind: "result", Priority: p, Payload: json.RawMessage(fmt.Sprintf(`{"n":%d,"decision":"CLEAR"}`, n))}
}

// checkHub asserts that the hub holds exactly the keys in want (per class,
// in that order) for unit, each once.
func checkHub(t *testing.T, srv *hubtest.Server, unit string, want map[outbox.Priority][]string) {
	t.Helper()
	got := map[outbox.Priority][]string{}
	seen := map[string]bool{}
	lastSeq := map[outbox.Priority]uint64{}
	for _, r := range srv.Results(t, unit) {
		if seen[r.Key] {
			t.Fatalf("hub holds %s twice", r.Key)
		}
		seen[r.Key] = true
		if r.Unit != unit {
			t.Fatalf("record %s filed under unit %q", r.Key, r.Unit)
		}
		if r.Seq <= lastSeq[r.Priority] {
			t.Fatalf("%s records out of order at the hub: seq %d after %d", r.Priority, r.Seq, lastSeq[r.Priority])
		}
		lastSeq[r.Priority] = r.Seq
		got[r.Priority] = append(got[r.Priority], r.Key)
	}
	for _, p := range []outbox.Priority{outbox.Hit, outbox.Routine} {
		if len(got[p]) != len(want[p]) {
			t.Fatalf("%s: hub holds %d records, want %d", p, len(got[p]), len(want[p]))
		}
		for i := range want[p] {
			if got[p][i] != want[p][i] {
				t.Fatalf("%s record %d: hub has %s, want %s", p, i, got[p][i], want[p][i])
			}
		}
	}
}

func TestUploadToHub(t *testing.T) {
	srv := hubtest.Start(t, hubtest.Options{})
	o := openOutbox(t, "desk-1")
	want := map[outbox.Priority][]string{}
	for i := range 1200 {
		p := outbox.Routine
		if i%7 == 0 {
			p = outbox.Hit
		}
		e, err := o.Enqueue(context.Background(), item(p, i))
		if err != nil {
			t.Fatal(err)
		}
		want[p] = append(want[p], e.IdempotencyKey)
	}
	up, err := outbox.NewUploader(o, outbox.UploaderOptions{HubURL: srv.URL, TLS: srv.Fleet.ClientTLS(t, "desk-1"), MaxItems: 200})
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	var calls int
	n, err := up.Drain(context.Background(), func(done, remaining int) {
		calls++
		if done+remaining != 1200 {
			t.Errorf("progress %d + %d != 1200", done, remaining)
		}
	})
	if err != nil || n != 1200 {
		t.Fatalf("Drain = %d, %v", n, err)
	}
	if calls < 6 {
		t.Fatalf("progress called %d times for 6+ batches", calls)
	}
	checkHub(t, srv, "desk-1", want)
	// Hits first: the first 172 records the hub received are the hits.
	res := srv.Results(t, "desk-1")
	for i := range want[outbox.Hit] {
		if res[i].Priority != outbox.Hit {
			t.Fatalf("arrival %d is %s; hits must be uploaded first", i, res[i].Priority)
		}
	}
	st := o.Status()
	if st.Depth != 0 || st.Link.State != outbox.LinkUp || st.Link.Uploaded != 1200 || st.Link.LastSuccess.IsZero() {
		t.Fatalf("status after drain %+v", st)
	}
}

func TestWrongUnitCertificate(t *testing.T) {
	srv := hubtest.Start(t, hubtest.Options{})
	o := openOutbox(t, "desk-1")
	if _, err := o.Enqueue(context.Background(), item(outbox.Hit, 1)); err != nil {
		t.Fatal(err)
	}
	// desk-2's certificate on desk-1's outbox: the hub files by certificate
	// and refuses keys of another unit.
	up, _ := outbox.NewUploader(o, outbox.UploaderOptions{HubURL: srv.URL, TLS: srv.Fleet.ClientTLS(t, "desk-2")})
	defer up.Close()
	if _, err := up.UploadOnce(context.Background()); !errors.Is(err, outbox.ErrHubRejected) {
		t.Fatalf("err = %v, want ErrHubRejected", err)
	}
	if o.Status().Depth != 1 {
		t.Fatal("rejected record was deleted")
	}
	if r := srv.Results(t, "desk-2"); len(r) != 0 {
		t.Fatalf("hub stored %d records under the wrong unit", len(r))
	}
	if st := o.Status().Link; st.State != outbox.LinkDegraded || st.ConsecutiveFailures != 1 || st.LastError == "" {
		t.Fatalf("link %+v", st)
	}
}

func TestBackoffAndLinkDown(t *testing.T) {
	fl := hubtest.NewFleet(t)
	// A port with nothing listening: every attempt fails fast.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "https://" + ln.Addr().String()
	ln.Close()
	o := openOutbox(t, "desk-1")
	o.Enqueue(context.Background(), item(outbox.Hit, 1))
	clk := backofftest.New(time.Unix(1_800_000_000, 0))
	up, err := outbox.NewUploader(o, outbox.UploaderOptions{
		HubURL: dead, TLS: fl.ClientTLS(t, "desk-1"),
		MinBackoff: time.Second, MaxBackoff: 30 * time.Second, Clock: clk,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- up.Run(ctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if len(clk.Waits()) >= 10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("uploader did not retry")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run returned %v after cancel", err)
	}
	waits := clk.Waits()[:10]
	for i, w := range waits {
		ceil := min(time.Second<<i, 30*time.Second)
		if w < ceil/2 || w > ceil {
			t.Errorf("wait %d = %v, want in [%v, %v]", i+1, w, ceil/2, ceil)
		}
	}
	st := o.Status()
	if st.Link.State != outbox.LinkDown || st.Link.ConsecutiveFailures < outbox.DownAfter || st.Depth != 1 {
		t.Fatalf("status %+v", st)
	}
	// Jitter: the same retry number does not always wait the same time.
	distinct := map[time.Duration]bool{}
	for range 20 {
		distinct[up.Backoff(3)] = true
	}
	if len(distinct) < 2 {
		t.Fatal("backoff has no jitter")
	}
}

// TestLinkFailure stages a bad link: a proxy that drops and stalls
// connections, the link cut entirely, and the hub restarted (it closes its
// database and connections) several times while a desk keeps enqueueing.
// At the end the hub must hold every result exactly once, in order per
// class.
func TestLinkFailure(t *testing.T) {
	srv := hubtest.Start(t, hubtest.Options{})
	proxy := outboxtest.NewFaultProxy(t, srv.Addr)
	o := openOutbox(t, "desk-1")
	up, err := outbox.NewUploader(o, outbox.UploaderOptions{
		HubURL: "https://" + proxy.Addr(), TLS: srv.Fleet.ClientTLS(t, "desk-1"),
		MaxItems: 40, RequestTimeout: 400 * time.Millisecond,
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 150 * time.Millisecond,
		PollInterval: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- up.Run(ctx) }()

	const total = 800
	want := map[outbox.Priority][]string{}
	prodDone := make(chan struct{})
	go func() {
		defer close(prodDone)
		for i := range total {
			p := outbox.Routine
			if rand.IntN(4) == 0 {
				p = outbox.Hit
			}
			e, err := o.Enqueue(context.Background(), item(p, i))
			if err != nil {
				t.Error(err)
				return
			}
			want[p] = append(want[p], e.IdempotencyKey)
			time.Sleep(2 * time.Millisecond)
		}
	}()

	sawDown := false
	for round := range 4 {
		proxy.Chaos.Store(true)
		proxy.Reset()
		time.Sleep(700 * time.Millisecond)
		proxy.Chaos.Store(false)
		srv.Stop() // hub down: connections refused behind the proxy
		time.Sleep(200 * time.Millisecond)
		srv.Restart()
		proxy.Block.Store(true)
		time.Sleep(300 * time.Millisecond)
		if s := o.Status().Link.State; s == outbox.LinkDown || s == outbox.LinkDegraded {
			sawDown = true
		}
		proxy.Block.Store(false)
		time.Sleep(100 * time.Millisecond)
		t.Logf("round %d: depth %d, link %s", round, o.Status().Depth, o.Status().Link.State)
	}
	<-prodDone
	deadline := time.Now().Add(30 * time.Second)
	for o.Status().Depth > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("outbox not drained after the link healed: %+v", o.Status())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-runDone; err != nil {
		t.Fatal(err)
	}
	t.Logf("proxy: %d passed, %d dropped, %d stalled connections (%d in chaos mode)", proxy.Stats.Pass.Load(), proxy.Stats.Drop.Load(), proxy.Stats.Stall.Load(), proxy.Seq.Load())
	if proxy.Stats.Drop.Load() == 0 || proxy.Stats.Stall.Load() == 0 {
		t.Fatal("the proxy injected no faults; the test proves nothing")
	}
	if !sawDown {
		t.Error("link state never left up while the link was cut")
	}
	if s := o.Status().Link.State; s != outbox.LinkUp {
		t.Errorf("link state %s after recovery, want up", s)
	}
	checkHub(t, srv, "desk-1", want)
}

func TestExportImport(t *testing.T) {
	srv := hubtest.Start(t, hubtest.Options{Import: true})
	o := openOutbox(t, "post-9")
	want := map[outbox.Priority][]string{}
	for i := range 30 {
		p := outbox.Priority(1 + i%2)
		e, _ := o.Enqueue(context.Background(), item(p, i))
		want[p] = append(want[p], e.IdempotencyKey)
	}
	cert := srv.Fleet.Certificate(t, "post-9")
	var buf bytes.Buffer
	n, err := o.Export(&buf, []age.Recipient{srv.Recipient}, cert)
	if err != nil || n != 30 {
		t.Fatalf("Export = %d, %v", n, err)
	}
	if bytes.Contains(buf.Bytes(), []byte("CLEAR")) {
		t.Fatal("export is not encrypted")
	}
	if o.Status().Depth != 30 {
		t.Fatal("export removed records from the outbox")
	}
	if _, err := o.Export(io.Discard, []age.Recipient{srv.Recipient}, srv.Fleet.Certificate(t, "other")); err == nil {
		t.Fatal("exported with another unit's certificate")
	}

	h := srv.Hub()
	res, err := h.Import(bytes.NewReader(buf.Bytes()))
	if err != nil || res.Unit != "post-9" || res.New != 30 {
		t.Fatalf("Import = %+v, %v", res, err)
	}
	// Carrying the same stick twice stores nothing new.
	res, err = h.Import(bytes.NewReader(buf.Bytes()))
	if err != nil || res.New != 0 || res.Duplicates != 30 {
		t.Fatalf("second Import = %+v, %v", res, err)
	}
	checkHub(t, srv, "post-9", want)
	// The link returns: uploading the same records stores nothing twice and
	// empties the outbox.
	up, _ := outbox.NewUploader(o, outbox.UploaderOptions{HubURL: srv.URL, TLS: srv.Fleet.ClientTLS(t, "post-9")})
	defer up.Close()
	if n, err := up.Drain(context.Background(), nil); err != nil || n != 30 {
		t.Fatalf("Drain = %d, %v", n, err)
	}
	checkHub(t, srv, "post-9", want)
	units, _ := h.Units(context.Background())
	if len(units) != 1 || units[0].Records != 30 || units[0].Duplicates != 60 || units[0].LastImport.IsZero() {
		t.Fatalf("units %+v", units)
	}

	// Tampered, truncated, foreign or undecryptable files are refused.
	other := hubtest.NewFleet(t)
	var foreign bytes.Buffer
	o.Enqueue(context.Background(), item(outbox.Hit, 99))
	if _, err := o.Export(&foreign, []age.Recipient{srv.Recipient}, other.Certificate(t, "post-9")); err != nil {
		t.Fatal(err)
	}
	wrongID, _ := age.GenerateX25519Identity()
	var notForHQ bytes.Buffer
	o.Export(&notForHQ, []age.Recipient{wrongID.Recipient()}, cert)
	flipped := bytes.Clone(buf.Bytes())
	flipped[len(flipped)-40] ^= 1
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"signed by another CA's unit", foreign.Bytes()},
		{"encrypted to someone else", notForHQ.Bytes()},
		{"flipped byte", flipped},
		{"truncated", buf.Bytes()[:len(buf.Bytes())/2]},
		{"empty", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := h.Import(bytes.NewReader(tc.data)); !errors.Is(err, outbox.ErrBadExport) {
				t.Fatalf("err = %v, want ErrBadExport", err)
			}
		})
	}
	if got := len(srv.Results(t, "post-9")); got != 30 {
		t.Fatalf("hub holds %d records after bad imports, want 30", got)
	}
	_ = hub.SourceImport
}

func TestBandwidthCap(t *testing.T) {
	srv := hubtest.Start(t, hubtest.Options{})
	for _, tc := range []struct {
		rate     int64
		min, max time.Duration
	}{
		{0, 0, 0},
		{1000, time.Second, 10 * time.Second}, // >1000 bytes of JSON for 10 records
	} {
		o := openOutbox(t, "desk-1")
		for i := range 10 {
			o.Enqueue(context.Background(), item(outbox.Routine, i))
		}
		clk := backofftest.New(time.Unix(1_800_000_000, 0))
		up, _ := outbox.NewUploader(o, outbox.UploaderOptions{HubURL: srv.URL, TLS: srv.Fleet.ClientTLS(t, "desk-1"), BytesPerSecond: tc.rate, Clock: clk})
		if n, err := up.UploadOnce(context.Background()); err != nil || n != 10 {
			t.Fatalf("rate %d: UploadOnce = %d, %v", tc.rate, n, err)
		}
		up.Close()
		var slept time.Duration
		for _, w := range clk.Waits() {
			slept += w
		}
		if slept < tc.min || slept > tc.max {
			t.Errorf("rate %d B/s: paused %v, want %v..%v", tc.rate, slept, tc.min, tc.max)
		}
	}
}

func TestNoPersonalDataInLogs(t *testing.T) {
	srv := hubtest.Start(t, hubtest.Options{})
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	o, err := outbox.Open(filepath.Join(t.TempDir(), "o.db"), newKey(t), outbox.Options{UnitID: "desk-1", Logger: log, RoutineQuota: outbox.Quota{Items: 2}})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	for i := range 5 {
		o.Enqueue(context.Background(), outbox.Item{Kind: "result", Priority: outbox.Priority(1 + i%2),
			Payload: json.RawMessage(`{"surname":"ERIKSSON","number":"L898902C3"}`)})
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "https://" + ln.Addr().String()
	ln.Close()
	for _, url := range []string{dead, srv.URL} {
		up, _ := outbox.NewUploader(o, outbox.UploaderOptions{HubURL: url, TLS: srv.Fleet.ClientTLS(t, "desk-1"), Logger: log})
		for range outbox.DownAfter {
			up.UploadOnce(context.Background())
		}
		up.Close()
	}
	l := logs.String()
	if !strings.Contains(l, "evicted") || !strings.Contains(l, `"state":"down"`) || !strings.Contains(l, `"state":"up"`) {
		t.Fatalf("expected eviction and link logs, got:\n%s", l)
	}
	for _, s := range []string{"ERIKSSON", "L898902C3"} {
		if strings.Contains(l, s) {
			t.Fatalf("personal data %q in logs:\n%s", s, l)
		}
	}
}

// TestUploaderFailover: the first hub URL refuses connections and the
// second answers 503; the third takes the upload, and the uploader stays
// with it. A 4xx is not retried elsewhere.
func TestUploaderFailover(t *testing.T) {
	srv := hubtest.Start(t, hubtest.Options{})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "https://" + ln.Addr().String()
	ln.Close()
	var busyHits atomic.Int64
	busy := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		busyHits.Add(1)
		w.Header().Set("Retry-After", "30")
		http.Error(w, `{"error":"storage unavailable"}`, http.StatusServiceUnavailable)
	}))
	busy.TLS = srvTLS(t, srv)
	busy.StartTLS()
	defer busy.Close()
	o := openOutbox(t, "desk-1")
	for i := range 30 {
		o.Enqueue(context.Background(), item(outbox.Routine, i))
	}
	up, err := outbox.NewUploader(o, outbox.UploaderOptions{HubURL: dead, HubURLs: []string{busy.URL, srv.URL},
		TLS: srv.Fleet.ClientTLS(t, "desk-1"), MaxItems: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	if n, err := up.Drain(context.Background(), nil); err != nil || n != 30 {
		t.Fatalf("Drain = %d, %v", n, err)
	}
	if busyHits.Load() != 1 {
		t.Fatalf("the busy replica was asked %d times; the uploader should stay with the one that answered", busyHits.Load())
	}
	if got := len(srv.Results(t, "desk-1")); got != 30 {
		t.Fatalf("hub holds %d", got)
	}
	if _, err := outbox.NewUploader(o, outbox.UploaderOptions{HubURL: srv.URL, HubURLs: []string{"http://plain"}, TLS: srv.Fleet.ClientTLS(t, "desk-1")}); err == nil {
		t.Fatal("accepted a plain-HTTP replica")
	}
}

// TestUploaderHonoursRetryAfter: a hub that answers 429 or 503 with
// Retry-After is not asked again sooner (within MaxBackoff).
func TestUploaderHonoursRetryAfter(t *testing.T) {
	srv := hubtest.Start(t, hubtest.Options{})
	busy := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "40")
		http.Error(w, `{"error":"unit rate"}`, http.StatusTooManyRequests)
	}))
	busy.TLS = srvTLS(t, srv)
	busy.StartTLS()
	defer busy.Close()
	o := openOutbox(t, "desk-1")
	o.Enqueue(context.Background(), item(outbox.Hit, 1))
	clk := backofftest.New(time.Unix(1_800_000_000, 0))
	up, err := outbox.NewUploader(o, outbox.UploaderOptions{HubURL: busy.URL, TLS: srv.Fleet.ClientTLS(t, "desk-1"),
		MinBackoff: time.Second, MaxBackoff: time.Minute, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- up.Run(ctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for len(clk.Waits()) < 3 {
		if time.Now().After(deadline) {
			t.Fatal("uploader did not retry")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	for i, w := range clk.Waits()[:3] {
		if w < 40*time.Second || w > time.Minute {
			t.Errorf("wait %d = %v, want the hub's 40 s", i+1, w)
		}
	}
}

// srvTLS is a server TLS configuration of srv's fleet, for stand-in hubs.
func srvTLS(t *testing.T, srv *hubtest.Server) *tls.Config {
	iss, err := srv.Fleet.CA.IssueServer(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := iss.TLSCertificate()
	pool, _ := pki.LoadPool(srv.Fleet.CACert)
	return pki.NewServerConfig(c, pool)
}
