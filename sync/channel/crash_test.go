package channel

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/sync/bundle"
	"github.com/checkpoint-edge/checkpoint/sync/trust"
)

// TestCrashChild is the process TestKillDuringInstall kills: it installs
// one channel bundle and is SIGKILLed somewhere along the way.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv("CP_CHANNEL_CRASH_DIR")
	if dir == "" {
		t.Skip("helper process for TestKillDuringInstall")
	}
	root, err := trust.Load(filepath.Join(dir, "trust.json"))
	if err != nil {
		t.Fatal(err)
	}
	ids, err := bundle.LoadIdentities(filepath.Join(dir, "unit.age"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(filepath.Join(dir, "channels.db"), seal.FileKey{Path: filepath.Join(dir, "kek")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("START")
	_, err = Install(context.Background(), os.Getenv("CP_CHANNEL_CRASH_BUNDLE"), s, regWith(bundle.KindTrust), nil,
		bundle.Options{Trust: root, Identities: ids, Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	fmt.Println("DONE")
}

// bulky returns n records of about 2 KB each (a trust list's certificates).
func bulky(n int, tag string) []bundle.Record {
	out := make([]bundle.Record, n)
	pad := strings.Repeat("MIIB"+tag, 400)
	for i := range out {
		out[i] = bundle.Record{ID: fmt.Sprintf("cert-%06d", i), Data: json.RawMessage(fmt.Sprintf(`{"n":%d,"der":%q}`, i, pad+strconv.Itoa(i)))}
	}
	return out
}

// TestKillDuringInstall SIGKILLs a process at many points while it
// replaces a channel's records: the store must always reopen with the old
// or the new version, its records hashing to that version's state.
func TestKillDuringInstall(t *testing.T) {
	if os.Getenv("CP_CHANNEL_CRASH_DIR") != "" {
		t.Skip("in the helper process")
	}
	e := newEnv(t)
	n, points := 4000, 8
	if raceEnabled {
		n, points = 1000, 6
	}
	if testing.Short() {
		n, points = 2000, 4
	}
	b1 := e.build(t, e.buildOpts(bundle.KindTrust, "icao", 1), bulky(500, "a"))
	b2 := e.build(t, e.buildOpts(bundle.KindTrust, "icao", 2), bulky(n, "b"))

	pristine := t.TempDir()
	s := openStore(t, pristine)
	if _, err := Install(context.Background(), b1, s, regWith(bundle.KindTrust), nil, e.opts()); err != nil {
		t.Fatal(err)
	}
	s.Close()
	os.WriteFile(filepath.Join(pristine, "trust.json"), e.root.Bytes(), 0o644)
	os.WriteFile(filepath.Join(pristine, "unit.age"), []byte(e.id.String()+"\n"), 0o600)

	run := func(t *testing.T, kill time.Duration) (killed bool, total time.Duration) {
		dir := t.TempDir()
		for _, f := range []string{"channels.db", "kek", "trust.json", "unit.age"} {
			b, err := os.ReadFile(filepath.Join(pristine, f))
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, f), b, 0o600)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.v")
		cmd.Env = append(os.Environ(), "CP_CHANNEL_CRASH_DIR="+dir, "CP_CHANNEL_CRASH_BUNDLE="+b2)
		out, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		for sc.Scan() && sc.Text() != "START" {
		}
		start := time.Now()
		if kill >= 0 {
			time.Sleep(kill)
			cmd.Process.Signal(syscall.SIGKILL)
		}
		rest, _ := io.ReadAll(out)
		total = time.Since(start)
		werr := cmd.Wait()
		killed = werr != nil
		if kill < 0 && werr != nil {
			t.Fatalf("uninterrupted install failed: %v\n%s", werr, rest)
		}
		s, err := Open(filepath.Join(dir, "channels.db"), seal.FileKey{Path: filepath.Join(dir, "kek")}, Options{})
		if err != nil {
			t.Fatalf("after kill at %v: %v", kill, err)
		}
		defer s.Close()
		st, _, err := s.State(bundle.KindTrust, "icao")
		switch {
		case err != nil:
			t.Fatalf("after kill at %v: %v", kill, err)
		case st.Sequence == 1 && st.Records != 500, st.Sequence == 2 && st.Records != n, st.Sequence != 1 && st.Sequence != 2:
			t.Fatalf("after kill at %v: sequence %d with %d records", kill, st.Sequence, st.Records)
		}
		if err := s.Verify(); err != nil {
			t.Fatalf("after kill at %v: %v", kill, err)
		}
		if st.Sequence == 1 {
			// The interrupted install simply runs again.
			if _, err := Install(context.Background(), b2, s, regWith(bundle.KindTrust), nil, e.opts()); err != nil {
				t.Fatalf("reinstall after kill at %v: %v", kill, err)
			}
		}
		return killed, total
	}
	_, total := run(t, -1)
	kills := 0
	for i := range points {
		if killed, _ := run(t, total*time.Duration(i)/time.Duration(points)); killed {
			kills++
		}
	}
	t.Logf("install takes %v; %d of %d runs killed before finishing", total, kills, points)
	if kills == 0 {
		t.Error("no run was killed mid-install")
	}
}
