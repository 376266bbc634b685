package powercut_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"gopkg.in/yaml.v3"

	"github.com/checkpoint-edge/checkpoint/audit"
	"github.com/checkpoint-edge/checkpoint/config"
	"github.com/checkpoint-edge/checkpoint/hub/hubtest"
	"github.com/checkpoint-edge/checkpoint/internal/powercut"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/internal/unit"
	"github.com/checkpoint-edge/checkpoint/lane"
	"github.com/checkpoint-edge/checkpoint/mrz"
	"github.com/checkpoint-edge/checkpoint/sync/bundle"
	"github.com/checkpoint-edge/checkpoint/sync/outbox"
	"github.com/checkpoint-edge/checkpoint/sync/pki"
	"github.com/checkpoint-edge/checkpoint/sync/trust"
	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// The power-cut tests run the real stores in a child process (this test
// binary again, TestPowerCutChild) on a powercut mount, cut the power at a
// random operation, kill the child, and restart from what survived:
//
//   - lane: the daemon (internal/unit) decides documents: each decision is
//     in the encrypted outbox and the audit log before it is acknowledged;
//   - upload: results are enqueued while the uploader sends them to a real
//     hub over mutual TLS and deletes what the hub acknowledged;
//   - install: signed bundles (a full one, through spill files, then a
//     delta) install into the watchlist store.
//
// After every cut: the stores open, the audit chain verifies, every
// acknowledged decision is in the outbox (or at the hub) and in the audit
// log, the watchlist is at the old or the new version with records that
// hash to it, and the daemon starts. POWERCUT_ITERATIONS sets the cuts per
// scenario (default 3, half of them with torn writes); POWERCUT_SEED
// replays a run.

const (
	childEnv = "POWERCUT_CHILD"
	unitID   = "desk-pc"
)

func iterations() int {
	if n, err := strconv.Atoi(os.Getenv("POWERCUT_ITERATIONS")); err == nil && n > 0 {
		return n
	}
	if testing.Short() {
		return 1
	}
	return 3
}

// world is what a scenario needs outside the mount: keys, a trust root,
// bundles, a hub.
type world struct {
	dir      string // outside the mount
	kek, okk string // key files
	trust    string
	identity string
	key      ed25519.PrivateKey
	ageID    *age.X25519Identity
	hub      *hubtest.Server
	hubCert  string
	hubKey   string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{dir: t.TempDir()}
	w.kek, w.okk = filepath.Join(w.dir, "watchlist.kek"), filepath.Join(w.dir, "outbox.kek")
	for _, k := range []string{w.kek, w.okk} {
		if err := seal.GenerateKeyFile(k); err != nil {
			t.Fatal(err)
		}
	}
	rootKey, _ := trust.GenerateKey()
	now := time.Now()
	r, err := trust.New([]ed25519.PublicKey{rootKey.Public().(ed25519.PublicKey)}, 1, now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	w.key, _ = trust.GenerateKey()
	if err := r.AddSigner("hq", w.key.Public().(ed25519.PublicKey), now.Add(-time.Hour), now.AddDate(1, 0, 0)); err != nil {
		t.Fatal(err)
	}
	file, err := trust.Sign(r, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	w.trust = filepath.Join(w.dir, "trust.json")
	os.WriteFile(w.trust, file, 0o600)
	w.ageID, _ = age.GenerateX25519Identity()
	w.identity = filepath.Join(w.dir, "unit.age")
	os.WriteFile(w.identity, []byte(w.ageID.String()+"\n"), 0o600)
	return w
}

func docChanges(n int, tag string) []watchlist.Change {
	out := make([]watchlist.Change, n)
	for i := range n {
		d := &watchlist.DocumentAlert{ID: fmt.Sprintf("%s-%d", tag, i), IssuingState: "UTO", DocumentType: "P",
			Number: fmt.Sprintf("%s%07d", strings.ToUpper(tag[:1]), i), Status: "stolen", Source: "SLTD", Action: "refer"}
		out[i] = watchlist.Change{Op: watchlist.OpPut, Kind: watchlist.KindDocument, ID: d.ID, Document: d}
	}
	return out
}

// bundleFile builds a signed, encrypted bundle (a delta when prev is set).
func (w *world) bundleFile(t *testing.T, seq, base uint64, prev, next []watchlist.Change) string {
	t.Helper()
	now := time.Now()
	o := bundle.BuildOptions{WatchlistID: "national", Sequence: seq, BaseSequence: base, IssuedAt: now.Add(-time.Minute),
		ExpiresAt: now.Add(48 * time.Hour), Authority: "HQ", Key: w.key, Recipients: []age.Recipient{w.ageID.Recipient()}, TempDir: w.dir}
	var src watchlist.ChangeSource = &watchlist.SliceSource{Changes: next}
	if prev != nil {
		d, st, err := bundle.Diff(&watchlist.SliceSource{Changes: prev}, func() (watchlist.ChangeSource, error) {
			return &watchlist.SliceSource{Changes: next}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		src, o.State = d, st
	}
	var buf bytes.Buffer
	if _, err := bundle.Build(context.Background(), &buf, src, o); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(w.dir, fmt.Sprintf("b-%d-%d.cpwl", base, seq))
	if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// config writes the unit's config for a state directory.
func (w *world) config(t *testing.T, stateDir string) string {
	t.Helper()
	cfg := config.Default(stateDir)
	cfg.Unit = config.Unit{ID: unitID, Mode: "desk", Site: "test"}
	cfg.Scanner.Enabled, cfg.Camera.Enabled = false, false
	cfg.Web.Listen = ""
	cfg.Watchlist.Key, cfg.Outbox.Key = "file:"+w.kek, "file:"+w.okk
	cfg.Watchlist.Trust, cfg.Watchlist.Identity = w.trust, w.identity
	cfg.Log.Level = "error"
	if w.hub != nil {
		cfg.Hub = config.Hub{URL: w.hub.URL, CA: w.hub.Fleet.CACert, Cert: w.hubCert, Key: w.hubKey, PollInterval: config.Duration(time.Hour)}
	}
	b, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "checkpointd.yaml")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// shm is a fresh directory on tmpfs (powercut's backing needs inode
// numbers that are not reused).
func shm(t *testing.T) string {
	t.Helper()
	parent := "/dev/shm"
	if st, err := os.Stat(parent); err != nil || !st.IsDir() {
		parent = ""
	}
	d, err := os.MkdirTemp(parent, "powercut-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// outcome is one run of a child up to the cut.
type outcome struct {
	acks     []string
	done     bool // the child finished before the cut
	stats    powercut.Stats
	restored string
}

// cycle mounts backing, runs the child scenario with the cut at operation
// cutAt (0: no cut, the power goes when the child is done), kills it and
// restores what survived.
func cycle(t *testing.T, scenario string, w *world, backing string, cutAt int, torn bool, rnd *rand.Rand) outcome {
	t.Helper()
	mnt := t.TempDir()
	fsys, err := powercut.Mount(backing, mnt, powercut.Options{Torn: torn})
	if errors.Is(err, powercut.ErrUnavailable) {
		if os.Getenv("CI") != "" {
			t.Fatalf("the power-cut test needs FUSE (make deps installs fuse3; CI runs as root): %v", err)
		}
		t.Skipf("the power-cut test needs FUSE: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer fsys.Unmount()
	if cutAt > 0 {
		fsys.CutAt(cutAt)
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestPowerCutChild$", "-test.timeout", "5m")
	cmd.Env = append(os.Environ(), childEnv+"="+scenario, "POWERCUT_CONFIG="+w.config(t, mnt),
		"POWERCUT_WORLD="+w.dir, "POWERCUT_STATE="+mnt)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1<<16)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	exited := make(chan error, 1)
	var o outcome
	collect := func() {
		for l := range lines {
			if a, ok := strings.CutPrefix(l, "ACK "); ok {
				o.acks = append(o.acks, a)
			}
			o.done = o.done || l == "DONE"
		}
		exited <- cmd.Wait()
	}
	go collect()
	select {
	case <-fsys.CutDone():
		// Everything after the cut blocks: kill the child, then read what
		// it acknowledged before. Its blocked requests are let go (they
		// fail) so that it can die; a killed process runs no more code,
		// so it acknowledges nothing after the cut.
		cmd.Process.Kill()
		fsys.Release()
		<-exited
	case err := <-exited:
		if !o.done {
			t.Fatalf("child %s exited before the cut without finishing: %v\n%s", scenario, err, stderr.String())
		}
		fsys.Cut() // the power goes after a clean run
	case <-time.After(4 * time.Minute):
		cmd.Process.Kill()
		<-exited
		t.Fatalf("child %s neither finished nor reached the cut in 4 minutes\n%s", scenario, stderr.String())
	}
	if err := fsys.Unmount(); err != nil {
		t.Fatal(err)
	}
	o.restored = shm(t)
	if err := fsys.Restore(o.restored, rnd); err != nil {
		t.Fatal(err)
	}
	o.stats = fsys.Stats()
	return o
}

// TestPowerCut runs each scenario once without a cut (to count its
// operations), then cuts it at random operations.
func TestPowerCut(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("in the child")
	}
	seed := uint64(time.Now().UnixNano())
	if s, err := strconv.ParseUint(os.Getenv("POWERCUT_SEED"), 10, 64); err == nil {
		seed = s
	}
	t.Logf("POWERCUT_SEED=%d", seed)
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			rnd := rand.New(rand.NewPCG(seed, uint64(len(sc.name))))
			w := newWorld(t)
			if sc.world != nil {
				sc.world(t, w)
			}
			var total int
			for i := 0; i <= iterations(); i++ {
				backing := shm(t)
				sc.prepare(t, w, backing)
				cutAt, torn := 0, false
				if i > 0 {
					cutAt, torn = 1+rnd.IntN(total), i%2 == 0
				}
				o := cycle(t, sc.name, w, backing, cutAt, torn, rnd)
				if i == 0 {
					total = o.stats.Ops
				}
				t.Logf("iteration %d: cut at operation %d of %d (torn %v): %d acknowledged, finished %v; %d writes, %d file syncs, %d directory syncs before the cut, %d files with unsynced changes",
					i, o.stats.CutAt, total, torn, len(o.acks), o.done, o.stats.Writes, o.stats.Syncs, o.stats.DirSyncs, o.stats.LostFiles)
				sc.check(t, w, o)
				if t.Failed() {
					t.Fatalf("replay with POWERCUT_SEED=%d", seed)
				}
			}
		})
	}
}

type scenario struct {
	name    string
	world   func(t *testing.T, w *world)
	prepare func(t *testing.T, w *world, backing string)
	check   func(t *testing.T, w *world, o outcome)
}

var scenarios = []scenario{
	{name: "lane", prepare: prepareLane, check: checkLane},
	{name: "upload", world: withHub, prepare: prepareLane, check: checkUpload},
	{name: "install", prepare: prepareInstall, check: checkInstall},
}

// laneDocs is how many documents the lane child decides.
const laneDocs = 60

// prepareLane installs a small signed watchlist (sequence 1) on the backing
// directory: outbox and audit log do not exist yet.
func prepareLane(t *testing.T, w *world, backing string) {
	t.Helper()
	s, err := watchlist.Open(filepath.Join(backing, "watchlist.db"), seal.FileKey{Path: w.kek}, watchlist.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	roots, _ := trust.Load(w.trust)
	ids, _ := bundle.LoadIdentities(w.identity)
	if _, err := bundle.Install(context.Background(), w.bundleFile(t, 1, 0, nil, docChanges(50, "lane")), s,
		bundle.Options{Trust: roots, Identities: ids}); err != nil {
		t.Fatal(err)
	}
}

func withHub(t *testing.T, w *world) {
	w.hub = hubtest.Start(t, hubtest.Options{BundleDir: t.TempDir()})
	w.hubCert, w.hubKey = w.hub.Fleet.Unit(t, unitID)
}

func laneDoc(i int) *mrz.Document {
	number := fmt.Sprintf("L%07d", i%80) // some of them are on the list
	lines, err := mrz.Generate(mrz.Spec{Format: mrz.FormatTD3, DocumentCode: "P", IssuingState: "UTO", Surname: "CUT",
		GivenNames: []string{"POWER"}, DocumentNumber: number, Nationality: "UTO",
		BirthDate: time.Date(1980, 1, 2, 0, 0, 0, 0, time.UTC), ExpiryDate: time.Now().AddDate(3, 0, 0), Sex: "F"})
	if err != nil {
		panic(err)
	}
	return mrz.Parse(lines, mrz.Options{})
}

// TestPowerCutChild is the process whose power is cut.
func TestPowerCutChild(t *testing.T) {
	scenario := os.Getenv(childEnv)
	if scenario == "" {
		t.Skip("helper process for TestPowerCut")
	}
	cfg, err := config.Load(os.Getenv("POWERCUT_CONFIG"))
	if err != nil {
		t.Fatal(err)
	}
	ack := func(s string) { fmt.Fprintf(os.Stdout, "ACK %s\n", s) }
	ctx := context.Background()
	switch scenario {
	case "lane":
		u, err := unit.New(cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		for i := range laneDocs {
			tx, err := u.Pipeline().Process(ctx, lane.DocumentEvent{Document: laneDoc(i), Source: "powercut", At: time.Now()})
			if err != nil {
				t.Fatalf("decision %d not stored: %v", i, err)
			}
			ack(tx.ID)
		}
		u.Close()
	case "upload":
		ob, err := outbox.Open(cfg.Outbox.Path, seal.FileKey{Path: strings.TrimPrefix(cfg.Outbox.Key, "file:")}, outbox.Options{UnitID: unitID})
		if err != nil {
			t.Fatal(err)
		}
		tlsCfg, err := pki.ClientConfig(cfg.Hub.Cert, cfg.Hub.Key, cfg.Hub.CA)
		if err != nil {
			t.Fatal(err)
		}
		up, err := outbox.NewUploader(ob, outbox.UploaderOptions{HubURL: cfg.Hub.URL, TLS: tlsCfg, MaxItems: 7})
		if err != nil {
			t.Fatal(err)
		}
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- up.Run(rctx) }()
		for i := range laneDocs {
			payload, _ := json.Marshal(map[string]any{"tx_id": fmt.Sprintf("up-%d", i), "n": i})
			e, err := ob.Enqueue(ctx, outbox.Item{Kind: "result", Priority: outbox.Routine, CreatedAt: time.Now(), Payload: payload})
			if err != nil {
				t.Fatalf("enqueue %d: %v", i, err)
			}
			ack(e.IdempotencyKey)
			if i%10 == 9 {
				time.Sleep(20 * time.Millisecond) // let the uploader drain in between
			}
		}
		deadline := time.Now().Add(time.Minute)
		for ob.Status().Depth > 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		<-done
		up.Close()
		ob.Close()
	case "install":
		s, err := watchlist.Open(cfg.Watchlist.Path, seal.FileKey{Path: strings.TrimPrefix(cfg.Watchlist.Key, "file:")},
			watchlist.Options{MemoryRecords: 300}) // spill files too
		if err != nil {
			t.Fatal(err)
		}
		roots, _ := trust.Load(cfg.Watchlist.Trust)
		ids, _ := bundle.LoadIdentities(cfg.Watchlist.Identity)
		for _, b := range []string{"b-0-2.cpwl", "b-2-3.cpwl"} {
			v, err := bundle.Install(ctx, filepath.Join(os.Getenv("POWERCUT_WORLD"), b), s, bundle.Options{Trust: roots, Identities: ids})
			if err != nil {
				t.Fatalf("install %s: %v", b, err)
			}
			ack(strconv.FormatUint(v.Header.Sequence, 10))
		}
		s.Close()
	}
	fmt.Fprintln(os.Stdout, "DONE")
}

// readAudit verifies the chain and returns the transactions it records.
func readAudit(t *testing.T, path string) map[string]int {
	t.Helper()
	rep, err := audit.Verify(path)
	if err != nil {
		t.Fatalf("audit chain after the cut: %v (report %+v)", err, rep)
	}
	b, _ := os.ReadFile(path)
	txs := map[string]int{}
	for _, l := range bytes.Split(b, []byte("\n")) {
		var e audit.Entry
		if json.Unmarshal(l, &e) == nil && e.Action == "decision" {
			txs[e.Fields["tx"]]++
		}
	}
	return txs
}

// outboxItems returns the outbox's items by key and by transaction.
func outboxItems(t *testing.T, w *world, path string) (keys map[string]bool, txs map[string]int) {
	t.Helper()
	ob, err := outbox.Open(path, seal.FileKey{Path: w.okk}, outbox.Options{UnitID: unitID})
	if err != nil {
		t.Fatalf("outbox after the cut: %v", err)
	}
	defer ob.Close()
	recs, err := ob.Peek(1<<20, 0)
	if err != nil {
		t.Fatalf("outbox after the cut: %v", err)
	}
	keys, txs = map[string]bool{}, map[string]int{}
	for _, r := range recs {
		var p struct {
			TxID string `json:"tx_id"`
		}
		json.Unmarshal(r.Payload, &p)
		keys[r.Key] = true
		txs[p.TxID]++
	}
	return keys, txs
}

// restart starts the daemon on what survived: it must come up.
func restart(t *testing.T, w *world, dir string) *unit.Unit {
	t.Helper()
	cfg, err := config.Load(w.config(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	u, err := unit.New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("the daemon does not start after the cut: %v", err)
	}
	return u
}

func checkLane(t *testing.T, w *world, o outcome) {
	dir := o.restored
	if len(o.acks) > 0 {
		for _, f := range []string{"audit.log", "outbox.db"} {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Fatalf("%d decisions acknowledged but %s is gone: %v", len(o.acks), f, err)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "audit.log")); err == nil {
		inAudit := readAudit(t, filepath.Join(dir, "audit.log"))
		_, inOutbox := outboxItems(t, w, filepath.Join(dir, "outbox.db"))
		for _, tx := range o.acks {
			if inOutbox[tx] != 1 || inAudit[tx] != 1 {
				t.Errorf("acknowledged decision %s: %d times in the outbox, %d in the audit log; want 1 and 1", tx, inOutbox[tx], inAudit[tx])
			}
		}
		for tx, n := range inOutbox {
			if n != 1 {
				t.Errorf("decision %s is %d times in the outbox", tx, n)
			}
		}
	}
	u := restart(t, w, dir)
	defer u.Close()
	if m := u.Status().Watchlist.Meta; m.Sequence != 1 || m.Documents != 50 {
		t.Errorf("watchlist after the cut: %+v", m)
	}
	// The lane works on the restored state.
	if _, err := u.Pipeline().Process(context.Background(), lane.DocumentEvent{Document: laneDoc(1), Source: "powercut"}); err != nil {
		t.Errorf("deciding after the restart: %v", err)
	}
}

func checkUpload(t *testing.T, w *world, o outcome) {
	dir := o.restored
	keys, _ := outboxItems(t, w, filepath.Join(dir, "outbox.db"))
	atHub := map[string]int{}
	for _, r := range w.hub.Results(t, unitID) {
		atHub[r.Key]++
	}
	for _, k := range o.acks {
		if !keys[k] && atHub[k] == 0 {
			t.Errorf("acknowledged result %s is neither in the outbox nor at the hub", k)
		}
	}
	// Restart the uploader on what survived: the outbox drains, and the
	// hub holds every acknowledged result exactly once.
	ob, err := outbox.Open(filepath.Join(dir, "outbox.db"), seal.FileKey{Path: w.okk}, outbox.Options{UnitID: unitID})
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	up, err := outbox.NewUploader(ob, outbox.UploaderOptions{HubURL: w.hub.URL, TLS: w.hub.Fleet.ClientTLS(t, unitID)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- up.Run(ctx) }()
	deadline := time.Now().Add(time.Minute)
	for ob.Status().Depth > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	up.Close()
	if d := ob.Status().Depth; d != 0 {
		t.Fatalf("outbox still holds %d results after the restart", d)
	}
	atHub = map[string]int{}
	for _, r := range w.hub.Results(t, unitID) {
		atHub[r.Key]++
	}
	for _, k := range o.acks {
		if atHub[k] != 1 {
			t.Errorf("acknowledged result %s is %d times at the hub, want 1", k, atHub[k])
		}
	}
	for k, n := range atHub {
		if n != 1 {
			t.Errorf("result %s is %d times at the hub", k, n)
		}
	}
}

// prepareInstall installs sequence 1 and writes the bundles the child
// installs (a full 2 of 1,500 records, then a delta 2→3).
func prepareInstall(t *testing.T, w *world, backing string) {
	t.Helper()
	prepareLane(t, w, backing)
	v2, v3 := docChanges(1500, "two"), slices.Concat(docChanges(1400, "two"), docChanges(150, "three"))
	w.bundleFile(t, 2, 0, nil, v2)
	w.bundleFile(t, 3, 2, v2, v3)
}

func checkInstall(t *testing.T, w *world, o outcome) {
	dir := o.restored
	s, err := watchlist.Open(filepath.Join(dir, "watchlist.db"), seal.FileKey{Path: w.kek}, watchlist.Options{})
	if err != nil {
		t.Fatalf("watchlist after the cut: %v", err)
	}
	m := s.Meta()
	want := map[uint64]int64{1: 50, 2: 1500, 3: 1550}
	acked := uint64(1)
	for _, a := range o.acks {
		n, _ := strconv.ParseUint(a, 10, 64)
		acked = max(acked, n)
	}
	if want[m.Sequence] != m.Documents || m.Sequence < acked {
		t.Errorf("watchlist after the cut at sequence %d with %d documents; acknowledged %d", m.Sequence, m.Documents, acked)
	}
	if rep, err := s.Verify(context.Background()); err != nil {
		t.Errorf("watchlist records after the cut: %v (%+v)", err, rep)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".watchlist-import-*")); len(left) > 0 {
		t.Errorf("spill files left after reopening: %v", left)
	}
	// A later signed bundle installs: nothing is stuck.
	roots, _ := trust.Load(w.trust)
	ids, _ := bundle.LoadIdentities(w.identity)
	if _, err := bundle.Install(context.Background(), w.bundleFile(t, 4, 0, nil, docChanges(10, "four")), s,
		bundle.Options{Trust: roots, Identities: ids}); err != nil {
		t.Errorf("installing sequence 4 after the cut: %v", err)
	}
	s.Close()
	u := restart(t, w, dir)
	u.Close()
}

var _ = io.EOF
