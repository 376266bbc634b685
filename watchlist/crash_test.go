package watchlist

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/checkpoint-edge/checkpoint/internal/seal"
)

// crashDocs is the size of the change set the child applies: large enough
// that a kill lands mid-apply, small enough for -race.
const crashDocs = 8000

// TestCrashChild is the subprocess of TestCrashMidApply: it opens the store
// and applies version 2 (a full snapshot or a delta) until killed.
func TestCrashChild(t *testing.T) {
	path := os.Getenv("CP_CRASH_STORE")
	if path == "" {
		t.Skip("subprocess of TestCrashMidApply")
	}
	s, err := Open(path, seal.FileKey{Path: os.Getenv("CP_CRASH_KEY")}, Options{MemoryRecords: crashDocs / 3})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("READY")
	ctx := context.Background()
	if os.Getenv("CP_CRASH_MODE") == "delta" {
		err = s.ApplyDelta(ctx, testMeta(2), 1, &SliceSource{Changes: versionChanges(2, crashDocs)})
	} else {
		err = s.ReplaceAll(ctx, testMeta(2), &SliceSource{Changes: versionChanges(2, crashDocs)})
	}
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	fmt.Println("DONE")
}

func TestCrashMidApply(t *testing.T) {
	v1, v2 := versionChanges(1, crashDocs), versionChanges(2, crashDocs)
	h1, h2 := hashOf(t, v1), hashOf(t, v2)
	for _, mode := range []string{"replace", "delta"} {
		// The first run lets the child finish and times it; the kills then
		// land at fractions of that time: while encoding, spilling,
		// writing, and close to the flip.
		var full time.Duration
		for _, frac := range []float64{0, 0.3, 0.7, 0.95} {
			delay := time.Hour
			if frac > 0 {
				delay = time.Duration(frac * float64(full))
			}
			t.Run(fmt.Sprintf("%s/%.0f%%", mode, 100*frac), func(t *testing.T) {
				s := MustOpen(t, Options{NoSync: true})
				mustReplace(t, s.Store, 1, v1...)
				s.Close()
				cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
				cmd.Env = append(os.Environ(), "CP_CRASH_STORE="+s.Path, "CP_CRASH_KEY="+s.Key.(seal.FileKey).Path, "CP_CRASH_MODE="+mode)
				out, err := cmd.StdoutPipe()
				if err != nil {
					t.Fatal(err)
				}
				cmd.Stderr = os.Stderr
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				lines := bufio.NewScanner(out)
				if !lines.Scan() || !strings.Contains(lines.Text(), "READY") {
					cmd.Process.Kill()
					cmd.Wait()
					t.Fatalf("child did not start: %q", lines.Text())
				}
				started := time.Now()
				finished := make(chan struct{})
				go func() {
					for lines.Scan() {
					}
					close(finished)
				}()
				select {
				case <-time.After(delay):
					cmd.Process.Signal(syscall.SIGKILL)
				case <-finished:
				}
				cmd.Wait()
				if frac == 0 {
					full = time.Since(started)
				}

				s.Reopen(t, Options{})
				m := s.Meta()
				rep, err := s.Verify(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				switch {
				case m.Sequence == 1 && rep.StateHash == h1, m.Sequence == 2 && rep.StateHash == h2:
				default:
					t.Fatalf("after kill: sequence %d, records hash %s (v1 %s, v2 %s)", m.Sequence, rep.StateHash, h1, h2)
				}
				if !rep.Consistent {
					t.Fatalf("inconsistent after kill: %+v", rep)
				}
				if delay == time.Hour && m.Sequence != 2 {
					t.Fatal("child finished but version 2 is not installed")
				}
				// Exactly one generation and no spill files remain.
				gens := 0
				s.db.View(func(tx *bolt.Tx) error {
					return tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
						if _, ok := parseGen(name); ok {
							gens++
						}
						return nil
					})
				})
				if gens != 1 {
					t.Fatalf("%d generations after reopen", gens)
				}
				if left, _ := os.ReadDir(strings.TrimSuffix(s.Path, "/watchlist.db")); len(left) != 1 {
					names := []string{}
					for _, e := range left {
						names = append(names, e.Name())
					}
					t.Fatalf("leftover files: %v", names)
				}
				t.Logf("killed after %v: sequence %s", delay, strconv.FormatUint(m.Sequence, 10))
			})
		}
	}
}
