package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/hub/hubtest"
	"github.com/checkpoint-edge/checkpoint/hub/pgtest"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/sync/outbox"
	"github.com/checkpoint-edge/checkpoint/sync/pki"
)

// benchPayload is a lane result of realistic size (about 900 bytes: the
// document view, one hit with its explanation, no face image).
func benchPayload(unit string, n int, hit bool) json.RawMessage {
	dec, hits := "CLEAR", ""
	if hit {
		dec = "HIT"
		hits = `{"kind":"person","ref_id":"P-1234567","source":"national","category":"wanted","action":"arrest","score":0.97,` +
			`"strength":"strong","level":"hit","explanation":"surname, given names and date of birth match (transliteration ERIKSSON/ERIKSON); nationality matches","fields":[{"field":"surname","score":0.98,"detail":"ERIKSSON ~ ERIKSON"},{"field":"birth_date","score":1,"detail":"exact"}]}`
	}
	return json.RawMessage(fmt.Sprintf(`{"tx_id":"%s-%d","unit":%q,"mode":"desk","source":"scanner","started_at":"2030-01-01T10:00:00Z","decided_at":"2030-01-01T10:00:00.412Z",`+
		`"decision":%q,"watchlist_sequence":1234,"stale":false,"document":{"type":"P","issuing_state":"UTO","surname":"ERIKSSON","given_names":"ANNA MARIA",`+
		`"document_number":"L898902C3","nationality":"UTO","birth_date":"1974-08-12","sex":"F","expiry_date":"2032-04-15","valid":true,"checks":{"document_number":true,"birth_date":true,"expiry_date":true,"composite":true}},`+
		`"face":{"captured":true,"quality":0.81,"model_id":"dlib-resnet-v1"},"hits":[%s]}`, unit, n, unit, dec, hits))
}

// BenchmarkIngest is issue 15's ingestion budget: 1,000 units, each with
// its own mTLS certificate and connection, post batches of 100 results
// to 1, 2 or 3 checkpoint-hub processes over one PostgreSQL (fsync on),
// for CHECKPOINT_BENCH_SECONDS (default 20) per replica count. It reports
// results/s and the p50/p99 acknowledgement latency of a batch, and the
// live feed's latency: an operator console on replica 0 receives a HIT
// uploaded through the last replica.
//
//	nice go test -run '^$' -bench Ingest -benchtime 1x ./cmd/checkpoint-hub
func BenchmarkIngest(b *testing.B) {
	units, secs := 1000, 20
	if testing.Short() { // make bench
		units, secs = 200, 5
	}
	units = envInt("CHECKPOINT_FLEET_UNITS", units)
	batch := envInt("CHECKPOINT_BENCH_BATCH", 100)
	secs = envInt("CHECKPOINT_BENCH_SECONDS", secs)
	env := newBenchEnv(b, units)
	us := env.units
	for _, nrep := range []int{1, 2, 3} {
		b.Run(fmt.Sprintf("replicas=%d", nrep), func(b *testing.B) {
			cluster, reps := env.startHQ(b, nrep)
			defer cluster.Destroy()
			for _, r := range reps {
				defer r.stop()
			}
			// The console follows the feed on replica 0.
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			feed := make(chan string, 1024)
			go followFeed(ctx, &http.Client{Transport: &http.Transport{TLSClientConfig: env.opTLS}}, "https://"+reps[0].addr, feed)

			cpu0 := cpuNow(cluster, reps)
			var results atomic.Int64
			var mu sync.Mutex
			var lat []time.Duration
			var errs atomic.Int64
			deadline := time.Now().Add(time.Duration(secs) * time.Second)
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for i, u := range us {
				wg.Add(1)
				go func() {
					defer wg.Done()
					url := "https://" + reps[i%nrep].addr + "/v1/results"
					var mine []time.Duration
					for k := 0; time.Now().Before(deadline); k++ {
						recs := make([]outbox.Record, batch)
						for j := range recs {
							n := k*batch + j
							recs[j] = outbox.Record{Key: fmt.Sprintf("%s:%032x", u.id, n), Seq: uint64(n + 1), Kind: "result", Priority: outbox.Routine,
								CreatedAt: time.Now().UTC(), Payload: benchPayload(u.id, n, false)}
						}
						body, _ := json.Marshal(outbox.Batch{Items: recs})
						t0 := time.Now()
						resp, err := u.c.Post(url, "application/json", bytes.NewReader(body))
						if err != nil {
							errs.Add(1)
							continue
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode != 200 {
							errs.Add(1)
							time.Sleep(100 * time.Millisecond)
							continue
						}
						mine = append(mine, time.Since(t0))
						results.Add(int64(batch))
					}
					mu.Lock()
					lat = append(lat, mine...)
					mu.Unlock()
				}()
			}
			// Meanwhile, every second, a HIT through the last replica; its
			// time to the console on replica 0.
			// feedLat: from the upload's start (queueing at a saturated hub
			// included); feedAck: from its acknowledgement (the commit).
			var feedLat, feedAck []time.Duration
			for k := 0; time.Now().Before(deadline.Add(-time.Second)); k++ {
				time.Sleep(time.Second)
				if up, ack, ok := hitOnFeed(b, us[0], k, "https://"+reps[nrep-1].addr, feed, deadline.Add(time.Minute)); ok {
					feedLat, feedAck = append(feedLat, up), append(feedAck, ack)
				}
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			cpu := cpuNow(cluster, reps).sub(cpu0)
			slices.Sort(lat)
			slices.Sort(feedLat)
			slices.Sort(feedAck)
			q := func(d []time.Duration, p float64) time.Duration {
				if len(d) == 0 {
					return 0
				}
				return d[min(len(d)-1, int(float64(len(d))*p))]
			}
			rate := float64(results.Load()) / elapsed.Seconds()
			b.ReportMetric(rate, "results/s")
			b.ReportMetric(float64(q(lat, .5).Microseconds())/1000, "ack-p50-ms")
			b.ReportMetric(float64(q(lat, .99).Microseconds())/1000, "ack-p99-ms")
			b.ReportMetric(float64(q(feedLat, .5).Microseconds())/1000, "feed-p50-ms")
			b.ReportMetric(float64(q(feedLat, .99).Microseconds())/1000, "feed-p99-ms")
			b.ReportMetric(float64(q(feedAck, .99).Microseconds())/1000, "feed-after-ack-p99-ms")
			// CPU cost per result, all parties: what 2 dedicated cores
			// would sustain, whatever else the shared machine runs.
			perResult := cpu.total() / float64(results.Load())
			b.ReportMetric(2/perResult, "results/s-on-2-cores")
			b.Logf("%d replicas, %d units, batches of %d: %d results in %v = %.0f results/s; ack p50 %v p99 %v; %d refused or failed; feed (%d hits) from upload p50 %v p99 %v, from acknowledgement p50 %v p99 %v max %v",
				nrep, units, batch, results.Load(), elapsed.Round(time.Millisecond), rate, q(lat, .5), q(lat, .99), errs.Load(),
				len(feedLat), q(feedLat, .5), q(feedLat, .99), q(feedAck, .5), q(feedAck, .99), q(feedAck, 1))
			hq := (cpu.hub + cpu.pg) / float64(results.Load())
			b.ReportMetric(2/hq, "results/s-on-2-hq-cores")
			b.Logf("CPU: hub %.1f s, PostgreSQL %.1f s, units (client) %.1f s = %.1f µs per result (hub %.1f, PostgreSQL %.1f, units %.1f): "+
				"2 dedicated cores sustain %.0f results/s with the units on them too, %.0f results/s for headquarters alone",
				cpu.hub, cpu.pg, cpu.client, perResult*1e6, cpu.hub/float64(results.Load())*1e6, cpu.pg/float64(results.Load())*1e6,
				cpu.client/float64(results.Load())*1e6, 2/perResult, 2/hq)
		})
	}
}

// followFeed reads the SSE stream and sends each event's record key.
func followFeed(ctx context.Context, c *http.Client, base string, out chan<- string) {
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, "GET", base+"/v1/hits/stream", nil)
		resp, err := c.Do(req)
		if err != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var e struct {
					Key string `json:"key"`
				}
				if json.Unmarshal([]byte(d), &e) == nil {
					select {
					case out <- e.Key:
					default:
					}
				}
			}
		}
		resp.Body.Close()
	}
}

// cpuTimes are CPU seconds used by the replicas, PostgreSQL and this
// process (the simulated units).
type cpuTimes struct{ hub, pg, client float64 }

func (a cpuTimes) sub(b cpuTimes) cpuTimes {
	return cpuTimes{a.hub - b.hub, a.pg - b.pg, a.client - b.client}
}

func (a cpuTimes) total() float64 { return a.hub + a.pg + a.client }

func cpuNow(c *pgtest.Cluster, reps []*replica) cpuTimes {
	var t cpuTimes
	for _, r := range reps {
		t.hub += pgtest.ProcCPUSeconds(r.cmd.Process.Pid, false)
	}
	t.pg = c.CPUSeconds()
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	t.client = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	return t
}

// benchUnit is a simulated unit: an id and an HTTP client with its own
// certificate.
type benchUnit struct {
	id string
	c  *http.Client
}

// benchEnv is what every benchmark run shares: the hub binary, a fleet CA,
// the server's certificate and key-encryption key, the units' clients and
// an operator's TLS configuration.
type benchEnv struct {
	bin, srvCert, srvKey, kek string
	fl                        *hubtest.Fleet
	units                     []benchUnit
	opTLS                     *tls.Config
}

func newBenchEnv(b *testing.B, units int) *benchEnv {
	dir := b.TempDir()
	e := &benchEnv{bin: filepath.Join(dir, "checkpoint-hub"), fl: hubtest.NewFleet(b)}
	if out, err := exec.Command("go", "build", "-o", e.bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	iss, _ := e.fl.CA.IssueServer(nil, 0)
	e.srvCert, e.srvKey = filepath.Join(dir, "hub.pem"), filepath.Join(dir, "hub.key")
	iss.WriteFiles(e.srvCert, e.srvKey)
	e.kek = filepath.Join(dir, "hub.kek")
	seal.GenerateKeyFile(e.kek)
	pool, _ := pki.LoadPool(e.fl.CACert)
	e.units = make([]benchUnit, units)
	for i := range e.units {
		id := fmt.Sprintf("u%04d", i)
		ci, err := e.fl.CA.IssueUnit(id, 0)
		if err != nil {
			b.Fatal(err)
		}
		cert, _ := ci.TLSCertificate()
		e.units[i] = benchUnit{id: id, c: &http.Client{Transport: &http.Transport{TLSClientConfig: pki.NewClientConfig(cert, pool), MaxIdleConnsPerHost: 1}}}
	}
	e.opTLS = e.fl.OperatorTLS(b, "console")
	return e
}

// startHQ starts a PostgreSQL cluster (fsync on) and nrep replicas; the
// caller destroys the cluster and stops the replicas.
func (e *benchEnv) startHQ(b *testing.B, nrep int) (*pgtest.Cluster, []*replica) {
	cluster, err := pgtest.New()
	if err != nil {
		b.Fatal(err)
	}
	if err := cluster.Start(); err != nil {
		cluster.Destroy()
		b.Fatal(err)
	}
	db, err := cluster.CreateDB("bench")
	if err != nil {
		cluster.Destroy()
		b.Fatal(err)
	}
	reps := make([]*replica, nrep)
	for i := range reps {
		reps[i] = &replica{n: i, bin: e.bin, logPath: filepath.Join(b.TempDir(), "replica.log"), noProxy: true,
			args: []string{"serve", "--listen", "127.0.0.1:0", "--store", "postgres", "--database", db, "--max-db-conns", "16",
				"--cert", e.srvCert, "--key", e.srvKey, "--ca", e.fl.CACert, "--data-key", "file:" + e.kek,
				"--unit-records-per-second", "1000000", "--unit-bytes-per-second", "1e12"}}
		reps[i].start(b)
	}
	return cluster, reps
}

// hitOnFeed uploads HIT number k of unit u to hubURL (again while it is
// refused, as a unit would) and waits for it on feed: the time from the
// upload's start and from its acknowledgement.
func hitOnFeed(b *testing.B, u benchUnit, k int, hubURL string, feed <-chan string, until time.Time) (fromUpload, fromAck time.Duration, ok bool) {
	key := fmt.Sprintf("%s:f%031x", u.id, k)
	rec := outbox.Record{Key: key, Seq: uint64(1e9 + k), Kind: "result", Priority: outbox.Hit, CreatedAt: time.Now().UTC(), Payload: benchPayload(u.id, 1e9+k, true)}
	body, _ := json.Marshal(outbox.Batch{Items: []outbox.Record{rec}})
	t0 := time.Now()
	var acked time.Time
	for time.Now().Before(until) {
		resp, err := u.c.Post(hubURL+"/v1/results", "application/json", bytes.NewReader(body))
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				acked = time.Now()
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if acked.IsZero() {
		return 0, 0, false
	}
	timeout := time.After(10 * time.Second)
	for {
		select {
		case got := <-feed:
			if got == key {
				return time.Since(t0), time.Since(acked), true
			}
		case <-timeout:
			b.Errorf("HIT %s not on the feed 10 s after its acknowledgement", key)
			return 0, 0, false
		}
	}
}

// BenchmarkFeedLatency: a HIT uploaded through replica 1 reaches an
// operator's console on replica 0, while 200 units upload 10 results a
// second each (2,000 results/s, below saturation). 40 hits, p50/p99 from
// the upload's start.
//
//	go test -run '^$' -bench FeedLatency -benchtime 1x ./cmd/checkpoint-hub
func BenchmarkFeedLatency(b *testing.B) {
	env := newBenchEnv(b, 200)
	cluster, reps := env.startHQ(b, 2)
	defer cluster.Destroy()
	for _, r := range reps {
		defer r.stop()
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	feed := make(chan string, 1024)
	go followFeed(ctx, &http.Client{Transport: &http.Transport{TLSClientConfig: env.opTLS}}, "https://"+reps[0].addr, feed)
	var wg sync.WaitGroup
	for i, u := range env.units[1:] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			url := "https://" + reps[i%2].addr + "/v1/results"
			tick := time.NewTicker(time.Second)
			defer tick.Stop()
			for k := 0; ctx.Err() == nil; k++ {
				recs := make([]outbox.Record, 10)
				for j := range recs {
					n := k*10 + j
					recs[j] = outbox.Record{Key: fmt.Sprintf("%s:%032x", u.id, n), Seq: uint64(n + 1), Kind: "result", Priority: outbox.Routine,
						CreatedAt: time.Now().UTC(), Payload: benchPayload(u.id, n, false)}
				}
				body, _ := json.Marshal(outbox.Batch{Items: recs})
				if resp, err := u.c.Post(url, "application/json", bytes.NewReader(body)); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				select {
				case <-ctx.Done():
				case <-tick.C:
				}
			}
		}()
	}
	time.Sleep(3 * time.Second) // the background load settles
	var fromUp, fromAck []time.Duration
	b.ResetTimer()
	for k := range 40 {
		if up, ack, ok := hitOnFeed(b, env.units[0], k, "https://"+reps[1].addr, feed, time.Now().Add(time.Minute)); ok {
			fromUp, fromAck = append(fromUp, up), append(fromAck, ack)
		}
		time.Sleep(250 * time.Millisecond)
	}
	b.StopTimer()
	cancel()
	wg.Wait()
	if len(fromUp) == 0 {
		b.Fatal("no hit reached the feed")
	}
	slices.Sort(fromUp)
	slices.Sort(fromAck)
	p := func(d []time.Duration, f float64) time.Duration { return d[min(len(d)-1, int(float64(len(d))*f))] }
	b.ReportMetric(float64(p(fromUp, .5).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(p(fromUp, .99).Microseconds())/1000, "p99-ms")
	b.Logf("%d hits through replica 1 to a console on replica 0 under 2,000 results/s: from the upload p50 %v p99 %v max %v; from the acknowledgement p50 %v p99 %v",
		len(fromUp), p(fromUp, .5), p(fromUp, .99), fromUp[len(fromUp)-1], p(fromAck, .5), p(fromAck, .99))
}
