package hub_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/hub"
	"github.com/checkpoint-edge/checkpoint/hub/hubtest"
	"github.com/checkpoint-edge/checkpoint/hub/pgtest"
	"github.com/checkpoint-edge/checkpoint/sync/outbox"
)

// junkBatch is a valid batch of n records of about size bytes each.
func junkBatch(unit string, start, n, size int) []byte {
	recs := make([]outbox.Record, n)
	pad := strings.Repeat("x", size)
	for i := range n {
		recs[i] = outbox.Record{Key: fmt.Sprintf("%s:%032x", unit, start+i), Seq: uint64(start + i), Kind: "result", Priority: outbox.Routine,
			CreatedAt: time.Now().UTC(), Payload: json.RawMessage(`{"junk":"` + pad + `"}`)}
	}
	b, _ := json.Marshal(outbox.Batch{Items: recs})
	return b
}

// TestRequestLimits: too large (by Content-Length, by a streamed body,
// by item count) is 413; beyond a unit's rate, quota or concurrency is 429
// with Retry-After.
func TestRequestLimits(t *testing.T) {
	srv := hubtest.Start(t, hubtest.Options{Limits: hub.Limits{
		MaxBatchBytes: 256 << 10, MaxBatchItems: 50,
		UnitRecordsPerSecond: 20, UnitRecordsBurst: 100, UnitBytesPerSecond: 1 << 30, UnitBytesBurst: 1 << 30,
		UnitBytesPerDay: 300 << 10,
	}})
	c := client(srv.Fleet.ClientTLS(t, "desk-1"))
	post := func(unit string, body io.Reader, n int64) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("POST", srv.URL+"/v1/results", body)
		req.ContentLength = n
		cl := c
		if unit != "desk-1" {
			cl = client(srv.Fleet.ClientTLS(t, unit))
		}
		resp, err := cl.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	big := junkBatch("desk-1", 0, 10, 40<<10)
	if r := post("desk-1", bytes.NewReader(big), int64(len(big))); r.StatusCode != 413 {
		t.Fatalf("Content-Length over the limit: %s", r.Status)
	}
	// No Content-Length: the body is cut at the limit while streaming.
	if r := post("desk-1", io.MultiReader(bytes.NewReader(big)), -1); r.StatusCode != 413 {
		t.Fatalf("streamed body over the limit: %s", r.Status)
	}
	many := junkBatch("desk-1", 0, 51, 1)
	if r := post("desk-1", bytes.NewReader(many), int64(len(many))); r.StatusCode != 413 {
		t.Fatalf("too many items: %s", r.Status)
	}
	// Rate: a burst of 100 records, then 20/s; the debt of a large batch
	// is paid before the next one is admitted.
	for i := range 3 {
		ok := junkBatch("desk-1", 100+50*i, 50, 10)
		if r := post("desk-1", bytes.NewReader(ok), int64(len(ok))); r.StatusCode != 200 {
			t.Fatalf("batch %d within the burst: %s", i, r.Status)
		}
	}
	more := junkBatch("desk-1", 200, 1, 10)
	r := post("desk-1", bytes.NewReader(more), int64(len(more)))
	if r.StatusCode != 429 {
		t.Fatalf("beyond the burst: %s", r.Status)
	}
	if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 2 || s > 4 {
		t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	// Daily quota: 300 KiB per day; desk-2 sends 4 × 100 KiB.
	q := 0
	for i := range 4 {
		b := junkBatch("desk-2", i*10, 5, 20<<10)
		if r := post("desk-2", bytes.NewReader(b), int64(len(b))); r.StatusCode == 429 {
			q++
			if s, _ := strconv.Atoi(r.Header.Get("Retry-After")); s < 60 {
				t.Fatalf("daily quota Retry-After %q: want minutes", r.Header.Get("Retry-After"))
			}
		}
	}
	if q != 1 {
		t.Fatalf("%d batches refused by the daily quota, want 1", q)
	}
	resp, body := do(t, client(srv.Fleet.OperatorTLS(t, "ops")), "GET", srv.URL+"/metrics", nil)
	for _, want := range []string{`reason="too_large"} 3`, `reason="unit_rate"} 1`, `reason="unit_daily_quota"} 1`} {
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestFloodDoesNotStarveOtherUnits is issue 17 finding 6: a stolen unit
// certificate floods the hub with large batches from many connections;
// another desk's uploads all go through, promptly, and the thief stores
// no more than its rate allows.
func TestFloodDoesNotStarveOtherUnits(t *testing.T) {
	const rate, burst = 256 << 10, 1 << 20 // bytes per second per unit
	srv := hubtest.Start(t, hubtest.Options{Limits: hub.Limits{
		MaxBatchBytes: 2 << 20, UnitBytesPerSecond: rate, UnitBytesBurst: burst,
	}})
	ctx, cancel := context.WithCancel(context.Background())
	var codes sync.Map // status -> *atomic.Int64
	count := func(code int) {
		v, _ := codes.LoadOrStore(code, new(atomic.Int64))
		v.(*atomic.Int64).Add(1)
	}
	thief := &http.Client{Transport: &http.Transport{TLSClientConfig: srv.Fleet.ClientTLS(t, "thief"), MaxConnsPerHost: 16}}
	start := time.Now()
	var wg sync.WaitGroup
	var next atomic.Int64
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				b := junkBatch("thief", int(next.Add(20)), 20, 20<<10) // 400 KB
				req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/v1/results", bytes.NewReader(b))
				resp, err := thief.Do(req)
				if err != nil {
					// Refused without reading the body: the server
					// closes the connection under the upload.
					count(0)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				count(resp.StatusCode)
			}
		}()
	}

	// Meanwhile a desk uploads 20 results every 100 ms.
	// (NoSync: the outbox's durability is not what is measured here, and
	// fsyncs on a busy CI disk would make the rounds few.)
	o, err := outbox.Open(filepath.Join(t.TempDir(), "o.db"), newKP(t), outbox.Options{UnitID: "desk-2", NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	up, _ := outbox.NewUploader(o, outbox.UploaderOptions{HubURL: srv.URL, TLS: srv.Fleet.ClientTLS(t, "desk-2"), RequestTimeout: 20 * time.Second})
	defer up.Close()
	var lat []time.Duration
	sent := 0
	deskStart := time.Now()
	for round := 0; time.Since(deskStart) < 4*time.Second; round++ {
		for i := range 20 {
			o.Enqueue(ctx, outbox.Item{Kind: "result", Priority: outbox.Routine, Payload: json.RawMessage(fmt.Sprintf(`{"n":%d}`, round*20+i))})
		}
		sent += 20
		t0 := time.Now()
		n, err := up.Drain(ctx, nil)
		lat = append(lat, time.Since(t0))
		if err != nil || n != 20 {
			t.Fatalf("desk-2 round %d: %d acknowledged, %v", round, n, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	p99 := lat[len(lat)*99/100]
	var summary []string
	codes.Range(func(k, v any) bool {
		summary = append(summary, fmt.Sprintf("%v:%d", k, v.(*atomic.Int64).Load()))
		return true
	})
	thiefStored := len(srv.Results(t, "thief"))
	t.Logf("thief: responses (0: cut while sending) %v, %d records stored in %v; desk-2: %d rounds, upload p50 %v p99 %v",
		summary, thiefStored, elapsed.Round(time.Millisecond), len(lat), lat[len(lat)/2], p99)
	if got := len(srv.Results(t, "desk-2")); got != sent {
		t.Fatalf("desk-2: hub holds %d of %d", got, sent)
	}
	for _, code := range []int{200, 429} {
		if v, ok := codes.Load(code); !ok || v.(*atomic.Int64).Load() == 0 {
			t.Fatalf("the thief never got a %d: the test proves nothing", code)
		}
	}
	if p99 > 3*time.Second {
		t.Errorf("desk-2 upload p99 %v under the flood", p99)
	}
	// At most the burst, the rate, and what was in flight when the
	// balance went negative (two requests of the unit).
	maxBytes := float64(burst) + rate*elapsed.Seconds() + 2*(400<<10)
	if got := float64(thiefStored) * (20 << 10); got > maxBytes*1.1 {
		t.Errorf("thief stored %.1f MB, its limit allows %.1f MB", got/(1<<20), maxBytes/(1<<20))
	}
}

// TestSlowClientsAreCut: a client that sends its headers, or its body, a
// byte at a time is disconnected by the header and request timeouts.
func TestSlowClientsAreCut(t *testing.T) {
	srv := hubtest.Start(t, hubtest.Options{Limits: hub.Limits{ReadHeaderTimeout: 500 * time.Millisecond, ReadTimeout: time.Second}})
	cfg := srv.Fleet.ClientTLS(t, "desk-1")
	for _, tc := range []struct {
		name, head string
	}{
		{"headers", "POST /v1/results HTTP/1.1\r\nHost: hub\r\n"},
		{"body", "POST /v1/results HTTP/1.1\r\nHost: hub\r\nContent-Length: 100000\r\n\r\n{\"items\":["},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := tls.Dial("tcp", srv.Addr, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			io.WriteString(conn, tc.head)
			start := time.Now()
			cut := false
			for time.Since(start) < 10*time.Second {
				if _, err := io.WriteString(conn, " "); err != nil {
					cut = true
					break
				}
				conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
				var b [512]byte
				if _, err := conn.Read(b[:]); err != nil && !isTimeout(err) {
					cut = true
					break
				}
			}
			if !cut {
				t.Fatalf("a slow client kept its connection for %v", time.Since(start))
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("cut after %v", d)
			}
		})
	}
}

func isTimeout(err error) bool {
	type timeout interface{ Timeout() bool }
	te, ok := err.(timeout)
	return ok && te.Timeout()
}

// TestPostgresDown: with the database stopped the hub answers 503 with
// Retry-After and acknowledges nothing; the unit keeps its records and
// delivers them, once each, when the database is back.
func TestPostgresDown(t *testing.T) {
	cluster := pgtest.Start(t)
	srv := hubtest.Start(t, hubtest.Options{Postgres: cluster})
	o, err := outbox.Open(filepath.Join(t.TempDir(), "o.db"), newKP(t), outbox.Options{UnitID: "desk-1"})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	up, _ := outbox.NewUploader(o, outbox.UploaderOptions{HubURL: srv.URL, TLS: srv.Fleet.ClientTLS(t, "desk-1"), MaxItems: 5})
	defer up.Close()
	enqueue := func(n int) {
		for i := range n {
			o.Enqueue(context.Background(), outbox.Item{Kind: "result", Priority: outbox.Routine, Payload: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))})
		}
	}
	enqueue(10)
	if n, err := up.Drain(context.Background(), nil); err != nil || n != 10 {
		t.Fatalf("drain: %d %v", n, err)
	}
	if err := cluster.Stop("immediate"); err != nil {
		t.Fatal(err)
	}
	enqueue(10)
	desk := client(srv.Fleet.ClientTLS(t, "desk-1"))
	b := junkBatch("desk-1", 1000, 3, 10)
	resp, body := do(t, desk, "POST", srv.URL+"/v1/results", b)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || strings.Contains(string(body), "acked") {
		t.Fatalf("database down: %s %q Retry-After %q", resp.Status, body, resp.Header.Get("Retry-After"))
	}
	if resp, _ := do(t, client(srv.Fleet.OperatorTLS(t, "ops")), "GET", srv.URL+"/v1/results?unit=desk-1", nil); resp.StatusCode != 503 {
		t.Fatalf("query with the database down: %s", resp.Status)
	}
	if n, err := up.Drain(context.Background(), nil); err == nil || n != 0 || o.Status().Depth != 10 {
		t.Fatalf("drain with the database down: %d acknowledged, %v, depth %d", n, err, o.Status().Depth)
	}
	if err := cluster.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for o.Status().Depth > 0 {
		up.Drain(context.Background(), nil)
		if time.Now().After(deadline) {
			t.Fatalf("not drained after the database came back: %+v", o.Status())
		}
		time.Sleep(100 * time.Millisecond)
	}
	got := srv.Results(t, "desk-1")
	if len(got) != 20 {
		t.Fatalf("hub holds %d records, want 20", len(got))
	}
	for i, r := range got {
		if r.UnitSeq != uint64(i+1) {
			t.Fatalf("unit_seq %d at %d", r.UnitSeq, i)
		}
	}
}

// TestImportLimit: an import over its limit is refused (413) whether its
// length is announced or not; it is never held in memory.
func TestImportLimit(t *testing.T) {
	srv := hubtest.Start(t, hubtest.Options{Import: true, Limits: hub.Limits{MaxImportBytes: 4096}})
	c := client(srv.Fleet.OperatorTLS(t, "ops"))
	big := bytes.Repeat([]byte("a"), 10000)
	for _, n := range []int64{int64(len(big)), -1} {
		req, _ := http.NewRequest("POST", srv.URL+"/v1/imports", io.MultiReader(bytes.NewReader(big)))
		req.ContentLength = n
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 413 {
			t.Fatalf("import of %d bytes (Content-Length %d): %s", len(big), n, resp.Status)
		}
	}
}
