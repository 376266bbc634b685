package outbox_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/hub/hubtest"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/sync/outbox"
	"github.com/checkpoint-edge/checkpoint/sync/pki"
)

// TestCrash kills a unit with SIGKILL at random points while it enqueues
// and uploads, over and over. Every item whose Enqueue returned (the child
// prints its key right after) must reach the hub exactly once after a final
// clean drain, and the hub must hold nothing twice.
func TestCrash(t *testing.T) {
	budget, maxKills := 20*time.Second, 200
	if testing.Short() {
		budget = 5 * time.Second
	}
	if v := os.Getenv("OUTBOX_CRASH_SECONDS"); v != "" {
		fmt.Sscan(v, &budget)
		budget *= time.Second
	}
	srv := hubtest.Start(t, hubtest.Options{})
	dir := t.TempDir()
	cert, key := srv.Fleet.Unit(t, "desk-k")
	kek := filepath.Join(dir, "outbox.kek")
	if err := seal.GenerateKeyFile(kek); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "outbox.db")
	env := append(os.Environ(),
		"OUTBOX_CRASH_CHILD=1", "OUTBOX_CRASH_URL="+srv.URL, "OUTBOX_CRASH_CERT="+cert,
		"OUTBOX_CRASH_KEY="+key, "OUTBOX_CRASH_CA="+srv.Fleet.CACert, "OUTBOX_CRASH_DB="+db,
		"OUTBOX_CRASH_KEK="+kek)

	acked := map[string]outbox.Priority{}
	var order []string
	kills := 0
	start := time.Now()
	for kills < maxKills && time.Since(start) < budget {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
		cmd.Env = env
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1024)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		// Let it get going (open, first enqueues), then kill at a random
		// moment: during fsync, mid-upload, between ack and delete…
		started := false
		var timer <-chan time.Time // armed once the child is ready
		giveUp := time.After(60 * time.Second)
	read:
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					break read
				}
				if l == "READY" {
					started = true
					timer = time.After(time.Duration(20+rand.IntN(300)) * time.Millisecond)
				}
				parseAck(l, acked, &order)
			case <-timer:
				cmd.Process.Signal(syscall.SIGKILL)
				timer = nil
			case <-giveUp:
				cmd.Process.Signal(syscall.SIGKILL)
				giveUp = nil
			}
		}
		err = cmd.Wait()
		if !started {
			t.Fatalf("child never became ready: %v", err)
		}
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("child exited on its own: %v", err)
		}
		kills++
	}
	atHub := len(srv.Results(t, "desk-k"))

	// Final clean drain by a fresh process-equivalent.
	o, err := outbox.Open(db, seal.FileKey{Path: kek}, outbox.Options{UnitID: "desk-k"})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	tlsCfg, err := pki.ClientConfig(cert, key, srv.Fleet.CACert)
	if err != nil {
		t.Fatal(err)
	}
	up, _ := outbox.NewUploader(o, outbox.UploaderOptions{HubURL: srv.URL, TLS: tlsCfg})
	defer up.Close()
	if _, err := up.Drain(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if d := o.Status().Depth; d != 0 {
		t.Fatalf("depth %d after drain", d)
	}

	res := srv.Results(t, "desk-k")
	t.Logf("%d kills in %v; %d enqueues acknowledged; hub held %d before the final drain, %d after",
		kills, time.Since(start).Round(time.Millisecond), len(acked), atHub, len(res))
	seen := map[string]bool{}
	last := map[outbox.Priority]uint64{}
	for _, r := range res {
		if seen[r.Key] {
			t.Fatalf("hub holds %s twice", r.Key)
		}
		seen[r.Key] = true
		if r.Seq <= last[r.Priority] {
			t.Fatalf("%s out of order at the hub: seq %d after %d", r.Priority, r.Seq, last[r.Priority])
		}
		last[r.Priority] = r.Seq
		if p, ok := acked[r.Key]; ok && p != r.Priority {
			t.Fatalf("%s stored as %s, enqueued as %s", r.Key, r.Priority, p)
		}
	}
	missing := 0
	for _, k := range order {
		if !seen[k] {
			missing++
			t.Errorf("acknowledged %s never reached the hub", k)
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged results lost", missing, len(order))
	}
	if len(acked) == 0 || kills == 0 {
		t.Fatal("nothing was tested")
	}
}

func parseAck(l string, acked map[string]outbox.Priority, order *[]string) {
	f := strings.Fields(l)
	if len(f) != 3 || f[0] != "ACK" {
		return
	}
	var p outbox.Priority
	if p.UnmarshalText([]byte(f[2])) != nil {
		return
	}
	acked[f[1]] = p
	*order = append(*order, f[1])
}

// TestCrashChild is the unit process of TestCrash; it runs until killed.
func TestCrashChild(t *testing.T) {
	if os.Getenv("OUTBOX_CRASH_CHILD") == "" {
		t.Skip("helper process for TestCrash")
	}
	o, err := outbox.Open(os.Getenv("OUTBOX_CRASH_DB"), seal.FileKey{Path: os.Getenv("OUTBOX_CRASH_KEK")},
		outbox.Options{UnitID: "desk-k", Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	tlsCfg, err := pki.ClientConfig(os.Getenv("OUTBOX_CRASH_CERT"), os.Getenv("OUTBOX_CRASH_KEY"), os.Getenv("OUTBOX_CRASH_CA"))
	if err != nil {
		t.Fatal(err)
	}
	up, err := outbox.NewUploader(o, outbox.UploaderOptions{
		HubURL: os.Getenv("OUTBOX_CRASH_URL"), TLS: tlsCfg, MaxItems: 20,
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, PollInterval: 10 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	go up.Run(context.Background())
	os.Stdout.WriteString("READY\n")
	for i := 0; ; i++ {
		p := outbox.Routine
		if rand.IntN(3) == 0 {
			p = outbox.Hit
		}
		e, err := o.Enqueue(context.Background(), item(p, i))
		if err != nil {
			t.Fatal(err)
		}
		// One write(2) per line: atomic on a pipe, nothing buffered to lose.
		os.Stdout.WriteString("ACK " + e.IdempotencyKey + " " + p.String() + "\n")
		time.Sleep(time.Millisecond)
	}
}
