package outbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/checkpoint-edge/checkpoint/internal/seal"
)

// testKey writes a fresh KEK file and returns its provider.
func testKey(t testing.TB) seal.KeyProvider {
	t.Helper()
	p := filepath.Join(t.TempDir(), "outbox.kek")
	if err := seal.GenerateKeyFile(p); err != nil {
		t.Fatal(err)
	}
	return seal.FileKey{Path: p}
}

// mustOpen opens an outbox in a temp dir (bbolt's btesting.MustOpen idea).
func mustOpen(t testing.TB, opts Options) (*Outbox, string, seal.KeyProvider) {
	t.Helper()
	if opts.UnitID == "" {
		opts.UnitID = "desk-1"
	}
	kp := testKey(t)
	path := filepath.Join(t.TempDir(), "outbox.db")
	o, err := Open(path, kp, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	return o, path, kp
}

func payload(i int) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"n":%d,"doc":"P<UTOERIKSSON<<ANNA<MARIA"}`, i))
}

func enqueue(t testing.TB, o *Outbox, p Priority, i int) Entry {
	t.Helper()
	e, err := o.Enqueue(context.Background(), Item{Kind: "result", Priority: p, Payload: payload(i)})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestOrderAckAndReopen(t *testing.T) {
	o, path, kp := mustOpen(t, Options{})
	// Interleave classes: upload order must be hits (in order) then routine.
	prio := []Priority{Routine, Hit, Routine, Routine, Hit, Routine, Hit}
	var want []string
	var hits, routine []string
	for i, p := range prio {
		e := enqueue(t, o, p, i)
		if e.Seq != uint64(i+1) {
			t.Fatalf("seq = %d, want %d", e.Seq, i+1)
		}
		if !strings.HasPrefix(e.IdempotencyKey, "desk-1:") || len(e.IdempotencyKey) != len("desk-1:")+32 {
			t.Fatalf("key %q", e.IdempotencyKey)
		}
		if p == Hit {
			hits = append(hits, e.IdempotencyKey)
		} else {
			routine = append(routine, e.IdempotencyKey)
		}
	}
	want = append(hits, routine...)
	st := o.Status()
	if st.Depth != 7 || st.Hits != 3 || st.Routine != 4 || st.Bytes <= 0 || st.Oldest.IsZero() {
		t.Fatalf("status %+v", st)
	}
	recs, err := o.Peek(100, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := keysOf(recs); !equal(got, want) {
		t.Fatalf("peek order\n got %v\nwant %v", got, want)
	}
	if string(recs[0].Payload) != string(payload(1)) || recs[0].Priority != Hit || recs[0].Kind != "result" {
		t.Fatalf("record 0 = %+v", recs[0])
	}
	if two, _ := o.Peek(2, 0); len(two) != 2 {
		t.Fatalf("Peek(2) gave %d", len(two))
	}
	if one, _ := o.Peek(10, 1); len(one) != 1 {
		t.Fatalf("Peek with a tiny byte budget must still return one record, got %d", len(one))
	}

	n, err := o.Ack([]string{want[0], want[4], "desk-1:unknown"})
	if err != nil || n != 2 {
		t.Fatalf("Ack = %d, %v", n, err)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	if err := o.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := o.Enqueue(context.Background(), Item{Kind: "x", Priority: Hit, Payload: payload(0)}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Enqueue after Close: %v", err)
	}

	if _, err := Open(path, kp, Options{UnitID: "desk-2"}); !errors.Is(err, ErrUnitMismatch) {
		t.Fatalf("reopen as another unit: %v", err)
	}
	o2, err := Open(path, kp, Options{}) // the recorded unit id
	if err != nil {
		t.Fatal(err)
	}
	defer o2.Close()
	if o2.UnitID() != "desk-1" {
		t.Fatalf("UnitID = %q", o2.UnitID())
	}
	recs, _ = o2.Peek(100, 0)
	rest := []string{want[1], want[2], want[3], want[5], want[6]}
	if got := keysOf(recs); !equal(got, rest) {
		t.Fatalf("after reopen\n got %v\nwant %v", got, rest)
	}
	if st := o2.Status(); st.Depth != 5 || st.Hits != 2 || st.Routine != 3 {
		t.Fatalf("status after reopen %+v", st)
	}
	// Sequence numbers continue after a restart.
	if e := enqueue(t, o2, Hit, 9); e.Seq != 8 {
		t.Fatalf("seq after reopen = %d, want 8", e.Seq)
	}
}

func TestEncryptedAtRest(t *testing.T) {
	o, path, _ := mustOpen(t, Options{})
	for i := range 20 {
		enqueue(t, o, Hit, i)
	}
	o.Close()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"ERIKSSON", "ANNA", `"n":`, "result"} {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("outbox file contains %q in clear", s)
		}
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	if _, err := Open(path, testKey(t), Options{UnitID: "desk-1"}); !errors.Is(err, seal.ErrWrongKey) {
		t.Fatalf("wrong KEK: err = %v, want seal.ErrWrongKey", err)
	}
}

func TestTamperDetected(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func(b *bolt.Bucket)
	}{
		{"flipped byte", func(b *bolt.Bucket) {
			k, v := b.Cursor().First()
			v = bytes.Clone(v)
			v[len(v)-3] ^= 1
			b.Put(k, v)
		}},
		{"swapped records", func(b *bolt.Bucket) {
			c := b.Cursor()
			k1, v1 := c.First()
			k2, v2 := c.Next()
			v1, v2 = bytes.Clone(v1), bytes.Clone(v2)
			b.Put(k1, v2)
			b.Put(k2, v1)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, path, kp := mustOpen(t, Options{})
			enqueue(t, o, Hit, 1)
			enqueue(t, o, Hit, 2)
			o.Close()
			db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			db.Update(func(tx *bolt.Tx) error { tc.tamper(tx.Bucket(bucketHits)); return nil })
			db.Close()
			o2, err := Open(path, kp, Options{UnitID: "desk-1"})
			if err != nil {
				t.Fatal(err)
			}
			defer o2.Close()
			if _, err := o2.Peek(10, 0); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Peek after tampering: err = %v, want ErrCorrupt", err)
			}
		})
	}
}

func TestInvalidItems(t *testing.T) {
	o, _, _ := mustOpen(t, Options{})
	big := json.RawMessage(`"` + strings.Repeat("a", MaxPayloadSize) + `"`)
	for _, tc := range []struct {
		name string
		item Item
	}{
		{"no kind", Item{Priority: Hit, Payload: payload(1)}},
		{"long kind", Item{Kind: strings.Repeat("k", 65), Priority: Hit, Payload: payload(1)}},
		{"no priority", Item{Kind: "result", Payload: payload(1)}},
		{"bad priority", Item{Kind: "result", Priority: 9, Payload: payload(1)}},
		{"not json", Item{Kind: "result", Priority: Hit, Payload: json.RawMessage(`{"a":`)}},
		{"empty payload", Item{Kind: "result", Priority: Hit}},
		{"too large", Item{Kind: "result", Priority: Hit, Payload: big}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := o.Enqueue(context.Background(), tc.item); !errors.Is(err, ErrInvalidItem) {
				t.Fatalf("err = %v, want ErrInvalidItem", err)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := o.Enqueue(ctx, Item{Kind: "r", Priority: Hit, Payload: payload(1)}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled ctx: %v", err)
	}
	if st := o.Status(); st.Depth != 0 {
		t.Fatalf("invalid items were stored: %+v", st)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "x.db"), testKey(t), Options{UnitID: "bad id"}); err == nil {
		t.Fatal("Open accepted an invalid unit id")
	}
	if _, err := Open(filepath.Join(t.TempDir(), "x.db"), testKey(t), Options{}); !errors.Is(err, ErrNoUnit) {
		t.Fatalf("new outbox without unit: %v", err)
	}
}

func TestRoutineQuota(t *testing.T) {
	for _, tc := range []struct {
		name  string
		quota Quota
		keep  int // routine records kept of 10
	}{
		{"items", Quota{Items: 4}, 4},
		{"bytes", Quota{Bytes: 3 * 200}, 3}, // each sealed record is ~150-200 bytes
		{"none", Quota{}, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			alarms := 0
			o, path, kp := mustOpen(t, Options{RoutineQuota: tc.quota, OnEvict: func(n int) { alarms += n }})
			var routine []string
			for i := range 10 {
				routine = append(routine, enqueue(t, o, Routine, i).IdempotencyKey)
				enqueue(t, o, Hit, 100+i) // hits never count against the quota
			}
			st := o.Status()
			if st.Hits != 10 {
				t.Fatalf("hits = %d, want 10 (hits are never dropped)", st.Hits)
			}
			if tc.quota.Bytes > 0 {
				if st.Routine < 1 || st.Routine > tc.keep {
					t.Fatalf("routine = %d, want 1..%d", st.Routine, tc.keep)
				}
			} else if st.Routine != tc.keep {
				t.Fatalf("routine = %d, want %d", st.Routine, tc.keep)
			}
			if int(st.Evicted) != 10-st.Routine || alarms != int(st.Evicted) {
				t.Fatalf("evicted = %d, alarms = %d, routine = %d", st.Evicted, alarms, st.Routine)
			}
			recs, _ := o.Peek(100, 0)
			got := keysOf(recs[10:])
			if !equal(got, routine[10-st.Routine:]) {
				t.Fatalf("kept routine records are not the newest:\n got %v\nwant %v", got, routine[10-st.Routine:])
			}
			o.Close()
			o2, err := Open(path, kp, Options{UnitID: "desk-1", RoutineQuota: tc.quota})
			if err != nil {
				t.Fatal(err)
			}
			defer o2.Close()
			if s2 := o2.Status(); s2.Evicted != st.Evicted || s2.Routine != st.Routine || s2.Bytes != st.Bytes {
				t.Fatalf("counters after reopen %+v, before %+v", s2, st)
			}
		})
	}
}

func TestKeysUniqueAcrossRecreation(t *testing.T) {
	seen := map[string]bool{}
	dir := t.TempDir()
	kp := testKey(t)
	path := filepath.Join(dir, "outbox.db")
	for round := range 3 {
		o, err := Open(path, kp, Options{UnitID: "desk-1"})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 50 {
			e := enqueue(t, o, Routine, i)
			if seen[e.IdempotencyKey] {
				t.Fatalf("round %d: key %s reused", round, e.IdempotencyKey)
			}
			seen[e.IdempotencyKey] = true
		}
		o.Close()
		os.Remove(path) // a technician wiping the outbox must not make keys repeat
	}
}

func TestLockTimeout(t *testing.T) {
	o, path, kp := mustOpen(t, Options{})
	_ = o
	start := time.Now()
	_, err := Open(path, kp, Options{UnitID: "desk-1", Timeout: 200 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open of a locked outbox: %v, want ErrLocked", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("Open did not honour Timeout")
	}
}

// TestDiskFull fills a small tmpfs (root can mount one) or, where mounting
// is not allowed, limits the file size of a child process with
// RLIMIT_FSIZE; either way Enqueue must fail with ErrDiskFull, flag it, and
// recover once space is back, losing nothing stored before.
func TestDiskFull(t *testing.T) {
	dir := t.TempDir()
	mnt := filepath.Join(dir, "small")
	os.Mkdir(mnt, 0o700)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Logf("tmpfs not available (%v: %s); using RLIMIT_FSIZE in a child process", err, bytes.TrimSpace(out))
		diskFullRlimit(t, dir)
		return
	}
	t.Cleanup(func() { exec.Command("umount", "-l", mnt).Run() })
	kp := testKey(t)
	o, err := Open(filepath.Join(mnt, "outbox.db"), kp, Options{UnitID: "desk-1"})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	// A ballast file leaves little room; removing it later frees space.
	ballast := filepath.Join(mnt, "ballast")
	os.WriteFile(ballast, make([]byte, 512<<10), 0o600)
	big := json.RawMessage(`"` + strings.Repeat("x", 16<<10) + `"`)
	stored := 0
	var ferr error
	for range 200 {
		if _, ferr = o.Enqueue(context.Background(), Item{Kind: "result", Priority: Hit, Payload: big}); ferr != nil {
			break
		}
		stored++
	}
	if !errors.Is(ferr, ErrDiskFull) {
		t.Fatalf("after %d items: err = %v, want ErrDiskFull", stored, ferr)
	}
	if st := o.Status(); !st.DiskFull || st.Hits != stored || !strings.Contains(st.LastError, "disk full") {
		t.Fatalf("status %+v, want DiskFull and %d hits", st, stored)
	}
	os.Remove(ballast)
	if _, err := o.Enqueue(context.Background(), Item{Kind: "result", Priority: Hit, Payload: payload(1)}); err != nil {
		t.Fatalf("Enqueue after freeing space: %v", err)
	}
	if st := o.Status(); st.DiskFull {
		t.Fatal("DiskFull still set after a successful enqueue")
	}
	recs, err := o.Peek(1000, 0)
	if err != nil || len(recs) != stored+1 {
		t.Fatalf("Peek = %d records, %v; want %d", len(recs), err, stored+1)
	}
}

func diskFullRlimit(t *testing.T, dir string) {
	if os.Getenv("CI") == "" && testing.Short() {
		t.Skip("short mode")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestDiskFullChild$", "-test.v")
	cmd.Env = append(os.Environ(), "OUTBOX_DISKFULL_DIR="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("DISKFULL-OK")) {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

// TestDiskFullChild runs only as the child of diskFullRlimit.
func TestDiskFullChild(t *testing.T) {
	dir := os.Getenv("OUTBOX_DISKFULL_DIR")
	if dir == "" {
		t.Skip("helper process for TestDiskFull")
	}
	diskFullChild(t, dir)
}

func TestConcurrentEnqueue(t *testing.T) {
	o, path, kp := mustOpen(t, Options{RoutineQuota: Quota{Items: 30}})
	var wg sync.WaitGroup
	seqs := make(chan uint64, 200)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				p := Routine
				if i%5 == 0 {
					p = Hit
				}
				e, err := o.Enqueue(context.Background(), Item{Kind: "result", Priority: p, Payload: payload(g*100 + i)})
				if err != nil {
					t.Error(err)
					return
				}
				seqs <- e.Seq
			}
		}()
	}
	wg.Wait()
	close(seqs)
	seen := map[uint64]bool{}
	for s := range seqs {
		if seen[s] {
			t.Fatalf("sequence %d handed out twice", s)
		}
		seen[s] = true
	}
	st := o.Status()
	if st.Hits != 40 || st.Routine != 30 || st.Evicted != 130 {
		t.Fatalf("status %+v, want 40 hits, 30 routine, 130 evicted", st)
	}
	o.Close()
	o2, err := Open(path, kp, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer o2.Close()
	if s2 := o2.Status(); s2.Hits != st.Hits || s2.Routine != st.Routine || s2.Bytes != st.Bytes || s2.Evicted != st.Evicted {
		t.Fatalf("in-memory counters %+v disagree with the file %+v", st, s2)
	}
}

// TestRotateKEK: after rotation the queue opens with the new key only, and
// nothing queued is lost.
func TestRotateKEK(t *testing.T) {
	o, path, oldKP := mustOpen(t, Options{})
	for i := range 20 {
		enqueue(t, o, Priority(1+i%2), i)
	}
	newKP := testKey(t)
	if err := o.RotateKEK(newKP); err != nil {
		t.Fatal(err)
	}
	enqueue(t, o, Hit, 20) // the open outbox keeps working
	o.Close()
	if err := o.RotateKEK(newKP); !errors.Is(err, ErrClosed) {
		t.Fatalf("rotate after close: %v, want ErrClosed", err)
	}
	if _, err := Open(path, oldKP, Options{}); !errors.Is(err, seal.ErrWrongKey) {
		t.Fatalf("open with the old key: %v, want ErrWrongKey", err)
	}
	o2, err := Open(path, newKP, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer o2.Close()
	recs, err := o2.Peek(100, 1<<20)
	if err != nil || len(recs) != 21 {
		t.Fatalf("after rotation: %d records, %v; want 21", len(recs), err)
	}
}
