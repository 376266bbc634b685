package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/checkpoint-edge/checkpoint/hub/hubtest"
	"github.com/checkpoint-edge/checkpoint/hub/pgtest"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/sync/outbox"
	"github.com/checkpoint-edge/checkpoint/sync/outbox/outboxtest"
	"github.com/checkpoint-edge/checkpoint/sync/pki"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// replica is a checkpoint-hub process over the shared database.
type replica struct {
	n       int
	bin     string
	args    []string
	logPath string
	cmd     *exec.Cmd
	addr    string
	proxy   *outboxtest.FaultProxy
	noProxy bool // benchmarks: units connect directly
	done    chan error
}

// start runs the process and waits until it listens; the proxy in front
// of it is pointed at its new port.
func (r *replica) start(t testing.TB) {
	t.Helper()
	logf, err := os.OpenFile(r.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := logf.Stat()
	from := st.Size() // this process's lines follow
	r.cmd = exec.Command(r.bin, r.args...)
	r.cmd.Stderr, r.cmd.Stdout = logf, logf
	// The replica dies with the test process (a timeout leaves nothing).
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logf.Close()
	r.done = make(chan error, 1)
	go func(c *exec.Cmd, done chan error) { done <- c.Wait() }(r.cmd, r.done)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if addr := listeningAddr(r.logPath, from); addr != "" {
			r.addr = addr
			break
		}
		select {
		case err := <-r.done:
			b, _ := os.ReadFile(r.logPath)
			t.Fatalf("replica %d exited: %v\n%s", r.n, err, b)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica %d does not listen", r.n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if r.noProxy {
		return
	}
	if r.proxy == nil {
		r.proxy = outboxtest.NewFaultProxy(t, r.addr)
		r.proxy.StallFor = 2 * time.Second
	} else {
		r.proxy.SetTarget(r.addr)
	}
}

// listeningAddr finds the address logged ("hub listening") after offset
// from of the log.
func listeningAddr(path string, from int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if _, err := f.Seek(from, 0); err != nil {
		return ""
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l struct {
			Msg  string `json:"msg"`
			Addr string `json:"addr"`
		}
		if json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg == "hub listening" {
			return l.Addr
		}
	}
	return ""
}

// kill is SIGKILL: no shutdown, connections and transactions cut.
func (r *replica) kill(t testing.TB) {
	r.cmd.Process.Signal(syscall.SIGKILL)
	<-r.done
}

func (r *replica) stop() {
	if r.cmd != nil && r.cmd.ProcessState == nil {
		r.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-r.done:
		case <-time.After(15 * time.Second):
			r.cmd.Process.Kill()
			<-r.done
		}
	}
}

// TestFleet is issue 15's fleet test: 1,000 simulated units (each its own
// mTLS certificate and outbox) upload through fault proxies to 3
// checkpoint-hub processes over one PostgreSQL; links are cut, stalled and
// blocked at random, one replica is SIGKILLed and restarted, PostgreSQL is
// restarted (immediate stop: crash recovery). At the end every record is
// in the database exactly once, unit_seq runs 1..n per unit with per-class
// order kept, and every outbox is empty. Scale with CHECKPOINT_FLEET_UNITS,
// CHECKPOINT_FLEET_RECORDS (per unit) and CHECKPOINT_FLEET_REPLICAS.
func TestFleet(t *testing.T) {
	units := envInt("CHECKPOINT_FLEET_UNITS", 1000)
	perUnit := envInt("CHECKPOINT_FLEET_RECORDS", 10)
	nrep := envInt("CHECKPOINT_FLEET_REPLICAS", 3)
	produceFor := time.Duration(envInt("CHECKPOINT_FLEET_SECONDS", 30)) * time.Second
	t0 := time.Now()

	// fsync off: the faults staged are process crashes (SIGKILL, an
	// immediate PostgreSQL stop), not power loss, and synchronous_commit
	// stays on, so a commit is in the kernel before the hub answers; a
	// thousand units' fsyncs on a shared CI disk would only slow the run.
	// The ingestion benchmark keeps fsync on.
	cluster := pgtest.Start(t, pgtest.Options{Settings: map[string]string{"fsync": "off"}})
	db := cluster.DB(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "checkpoint-hub")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	fl := hubtest.NewFleet(t)
	iss, _ := fl.CA.IssueServer(nil, 0)
	srvCert, srvKey := filepath.Join(dir, "hub.pem"), filepath.Join(dir, "hub.key")
	iss.WriteFiles(srvCert, srvKey)
	kek := filepath.Join(dir, "hub.kek")
	seal.GenerateKeyFile(kek)
	reps := make([]*replica, nrep)
	for i := range reps {
		reps[i] = &replica{n: i, bin: bin, logPath: filepath.Join(dir, fmt.Sprintf("replica-%d.log", i)),
			args: []string{"serve", "--listen", "127.0.0.1:0", "--store", "postgres", "--database", db, "--max-db-conns", "16",
				"--cert", srvCert, "--key", srvKey, "--ca", fl.CACert, "--data-key", "file:" + kek, "--data", filepath.Join(dir, "data")}}
	}
	for _, r := range reps {
		r.start(t)
	}
	defer func() {
		for _, r := range reps {
			r.stop()
		}
	}()
	t.Logf("setup: cluster, binary and %d replicas in %v", nrep, time.Since(t0).Round(time.Millisecond))

	// The units: a certificate, an outbox and an uploader each, trying the
	// replicas in a unit-specific order (as a fleet configured with
	// several hub URLs spreads its load).
	pool, _ := pki.LoadPool(fl.CACert)
	type unit struct {
		id  string
		ob  *outbox.Outbox
		up  *outbox.Uploader
		mu  sync.Mutex
		hit []uint64 // outbox seq of enqueued records, per class
		rou []uint64
	}
	us := make([]*unit, units)
	kp := seal.FileKey{Path: filepath.Join(dir, "unit.kek")}
	seal.GenerateKeyFile(kp.Path)
	os.MkdirAll(filepath.Join(dir, "units"), 0o700)
	for i := range us {
		u := &unit{id: fmt.Sprintf("u%04d", i)}
		ci, err := fl.CA.IssueUnit(u.id, 0)
		if err != nil {
			t.Fatal(err)
		}
		cert, _ := ci.TLSCertificate()
		// NoSync: durability of the unit's disk is the outbox's own tests'
		// business; here it would only make a thousand files fsync.
		if u.ob, err = outbox.Open(filepath.Join(dir, "units", u.id+".db"), kp, outbox.Options{UnitID: u.id, NoSync: true}); err != nil {
			t.Fatal(err)
		}
		defer u.ob.Close()
		var urls []string
		for k := range nrep {
			urls = append(urls, "https://"+reps[(i+k)%nrep].proxy.Addr())
		}
		tr := &http.Transport{TLSClientConfig: pki.NewClientConfig(cert, pool), TLSHandshakeTimeout: 5 * time.Second,
			MaxIdleConnsPerHost: 1, IdleConnTimeout: 10 * time.Second}
		if u.up, err = outbox.NewUploader(u.ob, outbox.UploaderOptions{HubURL: urls[0], HubURLs: urls[1:],
			TLS: &tls.Config{}, Transport: tr, MaxItems: 50, RequestTimeout: 15 * time.Second,
			MinBackoff: 200 * time.Millisecond, MaxBackoff: 5 * time.Second, PollInterval: 2 * time.Second}); err != nil {
			t.Fatal(err)
		}
		us[i] = u
	}
	t.Logf("setup: %d units in %v", units, time.Since(t0).Round(time.Millisecond))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for _, u := range us {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u.up.Run(ctx)
		}()
	}

	// Four producers spread units*perUnit records over produceFor, in a
	// random order of units.
	total := units * perUnit
	prodDone := make(chan struct{})
	var enqueued atomic.Int64
	order := make([]int, 0, total)
	for i := range units {
		for range perUnit {
			order = append(order, i)
		}
	}
	rand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	var prodWG sync.WaitGroup
	const producers = 4
	for p := range producers {
		prodWG.Add(1)
		go func() {
			defer prodWG.Done()
			start := time.Now()
			for k := p; k < len(order); k += producers {
				u := us[order[k]]
				pr := outbox.Routine
				if rand.IntN(5) == 0 {
					pr = outbox.Hit
				}
				// A unit's records are enqueued under its lock, so that the
				// order recorded is the outbox's.
				u.mu.Lock()
				e, err := u.ob.Enqueue(context.Background(), outbox.Item{Kind: "result", Priority: pr,
					Payload: json.RawMessage(fmt.Sprintf(`{"decision":"CLEAR","n":%d}`, k))})
				if err == nil {
					if pr == outbox.Hit {
						u.hit = append(u.hit, e.Seq)
					} else {
						u.rou = append(u.rou, e.Seq)
					}
				}
				u.mu.Unlock()
				if err != nil {
					t.Error(err)
					return
				}
				enqueued.Add(1)
				if d := time.Duration(float64(produceFor) * float64(k+1) / float64(total)); time.Since(start) < d {
					time.Sleep(d - time.Since(start))
				}
			}
		}()
	}
	go func() { prodWG.Wait(); close(prodDone) }()

	// Faults while the fleet uploads.
	var events []string
	event := func(s string) {
		events = append(events, fmt.Sprintf("%5.1fs %s", time.Since(t0).Seconds(), s))
	}
	faultsDone := make(chan struct{})
	go func() {
		defer close(faultsDone)
		step := produceFor / 10
		sleep := func(d time.Duration) bool {
			select {
			case <-ctx.Done():
				return false
			case <-time.After(d):
				return true
			}
		}
		for i := 0; i < 10; i++ {
			r := reps[rand.IntN(nrep)]
			switch i {
			case 3:
				k := reps[1%nrep]
				event(fmt.Sprintf("SIGKILL replica %d", k.n))
				k.kill(t)
				if !sleep(step) {
					return
				}
				k.start(t)
				event(fmt.Sprintf("replica %d restarted on %s", k.n, k.addr))
			case 6:
				event("PostgreSQL stopped (immediate: crash recovery at start)")
				if err := cluster.Stop("immediate"); err != nil {
					t.Error(err)
				}
				sleep(step / 2)
				if err := cluster.Start(); err != nil {
					t.Error(err)
				}
				event("PostgreSQL started")
			default:
				r.proxy.Chaos.Store(true)
				r.proxy.Reset()
				event(fmt.Sprintf("chaos on the link to replica %d", r.n))
				if !sleep(step / 2) {
					return
				}
				r.proxy.Chaos.Store(false)
				b := reps[rand.IntN(nrep)]
				b.proxy.Block.Store(true)
				b.proxy.Reset()
				event(fmt.Sprintf("link to replica %d cut", b.n))
				if !sleep(step / 2) {
					return
				}
				b.proxy.Block.Store(false)
			}
		}
	}()
	<-prodDone
	<-faultsDone
	for _, r := range reps {
		r.proxy.Chaos.Store(false)
		r.proxy.Block.Store(false)
	}
	event(fmt.Sprintf("producers done: %d records enqueued", enqueued.Load()))
	deadline := time.Now().Add(3 * time.Minute)
	for {
		depth := 0
		for _, u := range us {
			depth += u.ob.Status().Depth
		}
		if depth == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d records still queued 3 minutes after the faults stopped\n%s", depth, strings.Join(events, "\n"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	event("every outbox empty")
	cancel()
	wg.Wait()

	// Verify in the database.
	conn, err := pgx.Connect(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(context.Background(), `SELECT unit, unit_seq, seq, priority FROM results ORDER BY unit, unit_seq`)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		useq, seq int64
		prio      int16
	}
	got := map[string][]row{}
	n := 0
	for rows.Next() {
		var u string
		var r row
		if err := rows.Scan(&u, &r.useq, &r.seq, &r.prio); err != nil {
			t.Fatal(err)
		}
		got[u] = append(got[u], r)
		n++
	}
	rows.Close()
	var dups, acked int64
	conn.QueryRow(context.Background(), `SELECT coalesce(sum(duplicates), 0) FROM units`).Scan(&dups)
	for _, u := range us {
		acked += int64(u.ob.Status().Link.Uploaded)
	}
	if n != total || int(enqueued.Load()) != total {
		t.Fatalf("database holds %d records, %d were enqueued, want %d", n, enqueued.Load(), total)
	}
	if acked != int64(total) {
		t.Errorf("units saw %d records acknowledged, want %d", acked, total)
	}
	for _, u := range us {
		rs := got[u.id]
		if len(rs) != perUnit {
			t.Fatalf("%s: %d records in the database, want %d", u.id, len(rs), perUnit)
		}
		var hits, rout []uint64
		for i, r := range rs {
			if r.useq != int64(i+1) {
				t.Fatalf("%s: unit_seq %d at position %d (gap or repeat)", u.id, r.useq, i)
			}
			if r.prio == int16(outbox.Hit) {
				hits = append(hits, uint64(r.seq))
			} else {
				rout = append(rout, uint64(r.seq))
			}
		}
		if fmt.Sprint(hits) != fmt.Sprint(u.hit) || fmt.Sprint(rout) != fmt.Sprint(u.rou) {
			t.Fatalf("%s: per-class order broken:\nhits %v want %v\nroutine %v want %v", u.id, hits, u.hit, rout, u.rou)
		}
	}
	var pass, drop, stall int64
	unavailable := 0
	for _, r := range reps {
		pass += r.proxy.Stats.Pass.Load()
		drop += r.proxy.Stats.Drop.Load()
		stall += r.proxy.Stats.Stall.Load()
		b, _ := os.ReadFile(r.logPath)
		unavailable += strings.Count(string(b), `"msg":"ingest failed"`)
	}
	t.Logf("fleet: %d units, %d replicas, %d records: %d in the database exactly once, unit_seq contiguous and per-class order kept for every unit; "+
		"%d acknowledged to units, %d resends deduplicated by the hub, %d batches answered 503 (PostgreSQL down or restarting), "+
		"proxy connections %d passed / %d dropped / %d stalled; %v in all\n%s",
		units, nrep, total, n, acked, dups, unavailable, pass, drop, stall, time.Since(t0).Round(time.Second), strings.Join(events, "\n"))
	if drop == 0 || stall == 0 {
		t.Error("the proxies injected no faults: the test proves nothing")
	}
}
