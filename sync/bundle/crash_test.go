package bundle

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/sync/trust"
	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// TestCrashChild is the process TestKillDuringInstall kills: it installs
// one bundle into a store and is SIGKILLed somewhere along the way.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv("CP_CRASH_DIR")
	if dir == "" {
		t.Skip("helper process for TestKillDuringInstall")
	}
	root, err := trust.Load(filepath.Join(dir, "trust.json"))
	if err != nil {
		t.Fatal(err)
	}
	ids, err := LoadIdentities(filepath.Join(dir, "unit.age"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := watchlist.Open(filepath.Join(dir, "watchlist.db"), seal.FileKey{Path: filepath.Join(dir, "kek")}, watchlist.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	applying := false
	_, err = Install(context.Background(), os.Getenv("CP_CRASH_BUNDLE"), s, Options{Trust: root, Identities: ids,
		Now: func() time.Time { return t0 },
		Progress: func(phase string, _, _ int64) {
			if phase == "apply" && !applying {
				applying = true
				fmt.Println("APPLY")
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	fmt.Println("DONE")
}

// TestKillDuringInstall SIGKILLs a process at many points while it
// installs a full bundle and a delta: the store must always reopen at the
// old or the new version, with records that hash to that version's state.
func TestKillDuringInstall(t *testing.T) {
	if os.Getenv("CP_CRASH_DIR") != "" {
		t.Skip("in the helper process")
	}
	e := newEnv(t)
	n, points := 20000, 10
	if raceEnabled {
		n = 4000
	}
	if testing.Short() {
		n, points = 4000, 3
	}
	v1 := records(2000, 1)
	full2 := records(n, 2) // full replacement
	v3 := mutate(full2, 3) // delta on top of it
	state := map[uint64]string{0: "", 1: stateOf(t, v1).Hash.String(), 2: stateOf(t, full2).Hash.String(), 3: stateOf(t, v3).Hash.String()}
	b1 := e.build(t, e.buildOpts(1, 0), v1)
	b2 := e.build(t, e.buildOpts(2, 0), full2)
	b3 := e.delta(t, e.buildOpts(3, 2), full2, v3)

	// Baselines: a store at 1 (for the full bundle 2) and one at 2 (for
	// the delta 3), kept as pristine copies.
	base := t.TempDir()
	prepare := func(name string, bundles ...string) string {
		d := filepath.Join(base, name)
		os.MkdirAll(d, 0o700)
		s := openStore(t, d)
		for _, b := range bundles {
			if _, err := Install(context.Background(), b, s, e.opts()); err != nil {
				t.Fatal(err)
			}
		}
		s.Close()
		os.WriteFile(filepath.Join(d, "trust.json"), e.root.Bytes(), 0o644)
		os.WriteFile(filepath.Join(d, "unit.age"), []byte(e.id.String()+"\n"), 0o600)
		return d
	}
	at1 := prepare("at1", b1)
	at2 := prepare("at2", b1, b2)

	// run installs bundle in a child process killed kill after the apply
	// phase starts (kill < 0: not killed), and returns whether the child
	// died before finishing and how long the apply took when it did not.
	run := func(t *testing.T, pristine, bundle string, old, new uint64, kill time.Duration, reinstall bool) (killed bool, apply time.Duration) {
		dir := t.TempDir()
		for _, f := range []string{"watchlist.db", "kek", "trust.json", "unit.age"} {
			copyFile(t, filepath.Join(pristine, f), filepath.Join(dir, f))
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.v")
		cmd.Env = append(os.Environ(), "CP_CRASH_DIR="+dir, "CP_CRASH_BUNDLE="+bundle)
		out, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		for sc.Scan() && sc.Text() != "APPLY" {
		}
		start := time.Now()
		if kill >= 0 {
			time.Sleep(kill)
			cmd.Process.Signal(syscall.SIGKILL)
		}
		rest, _ := io.ReadAll(out)
		apply = time.Since(start)
		werr := cmd.Wait()
		killed = werr != nil
		if kill < 0 && werr != nil {
			t.Fatalf("uninterrupted install failed: %v\n%s", werr, rest)
		}

		s := openStore(t, dir)
		m := s.Meta()
		if m.Sequence != old && m.Sequence != new {
			t.Fatalf("after kill at %v: sequence %d, want %d or %d", kill, m.Sequence, old, new)
		}
		if m.StateHash != state[m.Sequence] {
			t.Fatalf("after kill at %v: sequence %d with state %s, want %s", kill, m.Sequence, m.StateHash, state[m.Sequence])
		}
		rep, err := s.Verify(context.Background())
		if err != nil || !rep.Consistent {
			t.Fatalf("after kill at %v: store inconsistent: %v %+v", kill, err, rep)
		}
		if m.Sequence == old && reinstall {
			// The interrupted install can simply be run again.
			if _, err := Install(context.Background(), bundle, s, e.opts()); err != nil {
				t.Fatalf("reinstall after kill at %v: %v", kill, err)
			}
		}
		return killed, apply
	}

	for _, tc := range []struct {
		name        string
		pristine, b string
		old, new    uint64
	}{
		{"full", at1, b2, 1, 2},
		{"delta", at2, b3, 2, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, total := run(t, tc.pristine, tc.b, tc.old, tc.new, -1, false)
			kills := 0
			for i := range points {
				// Points spread over the apply phase as first measured; the
				// last ones may land after the commit, which must be fine too.
				d := total * time.Duration(i) / time.Duration(points)
				if killed, _ := run(t, tc.pristine, tc.b, tc.old, tc.new, d, i%3 == 0); killed {
					kills++
				}
			}
			t.Logf("apply takes %v; %d of %d runs killed before finishing", total, kills, points)
			if kills == 0 {
				t.Errorf("no run was killed mid-install")
			}
		})
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
