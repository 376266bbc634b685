package audit

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

func mustOpen(t *testing.T, path string) *Log {
	t.Helper()
	l, _, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func writeN(t *testing.T, path string, n int) {
	t.Helper()
	l := mustOpen(t, path)
	for i := 0; i < n; i++ {
		if _, err := l.Append(KindOfficerDecision, "officer-7", "confirm", map[string]string{"txn": "t" + strings.Repeat("x", i)}); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
}

func TestAppendVerifyReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	writeN(t, path, 5)
	rep, err := Verify(path)
	if err != nil || rep.Entries != 5 {
		t.Fatalf("Verify = %+v, %v", rep, err)
	}
	// Reopen continues the chain.
	l := mustOpen(t, path)
	e, err := l.Append(KindWatchlistChange, "system", "install", map[string]string{"sequence": "42"})
	if err != nil || e.Seq != 6 || e.Prev != rep.Head {
		t.Fatalf("append after reopen: %+v %v", e, err)
	}
	l.Close()
	if rep, err := Verify(path); err != nil || rep.Entries != 6 {
		t.Fatalf("Verify = %+v, %v", rep, err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode())
	}
}

func TestTamper(t *testing.T) {
	cases := []struct {
		name string
		edit func([][]byte) [][]byte
	}{
		{"edited field", func(l [][]byte) [][]byte {
			l[2] = bytes.Replace(l[2], []byte("confirm"), []byte("dismiss"), 1)
			return l
		}},
		{"deleted entry", func(l [][]byte) [][]byte { return append(l[:1], l[2:]...) }},
		{"swapped entries", func(l [][]byte) [][]byte { l[1], l[2] = l[2], l[1]; return l }},
		{"garbage line", func(l [][]byte) [][]byte { l[3] = []byte("{not json}\n"); return l }},
		{"unknown field", func(l [][]byte) [][]byte {
			l[0] = bytes.Replace(l[0], []byte(`{"seq"`), []byte(`{"x":1,"seq"`), 1)
			return l
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.log")
			writeN(t, path, 5)
			b, _ := os.ReadFile(path)
			lines := bytes.SplitAfter(b, []byte("\n"))
			lines = lines[:len(lines)-1] // trailing empty
			os.WriteFile(path, bytes.Join(tc.edit(lines), nil), 0o600)
			if _, err := Verify(path); !errors.Is(err, ErrBroken) {
				t.Fatalf("Verify err = %v, want ErrBroken", err)
			}
			if _, _, err := Open(path); !errors.Is(err, ErrBroken) {
				t.Fatalf("Open err = %v, want ErrBroken", err)
			}
		})
	}
}

// A crash in the middle of a write leaves an unterminated last line: Open
// cuts it and the chain continues from the last complete entry.
func TestCrashTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	writeN(t, path, 3)
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"seq":4,"time":"2026-`)
	f.Close()
	rep, err := Verify(path)
	if err != nil || !rep.Incomplete || rep.Entries != 3 {
		t.Fatalf("Verify = %+v, %v", rep, err)
	}
	l, res, err := Open(path)
	if err != nil || res.TruncatedTail == 0 {
		t.Fatalf("Open = %+v, %v", res, err)
	}
	if _, err := l.Append(KindSystem, "system", "start", nil); err != nil {
		t.Fatal(err)
	}
	l.Close()
	if rep, err := Verify(path); err != nil || rep.Entries != 4 || rep.Incomplete {
		t.Fatalf("Verify after recovery = %+v, %v", rep, err)
	}
}

func TestConcurrentAppend(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l := mustOpen(t, path)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				if _, err := l.Append(KindSystem, "system", "tick", nil); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	l.Close()
	if _, err := l.Append(KindSystem, "system", "late", nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("append after close: %v", err)
	}
	if rep, err := Verify(path); err != nil || rep.Entries != 160 {
		t.Fatalf("Verify = %+v, %v", rep, err)
	}
}

func FuzzVerify(f *testing.F) {
	dir := f.TempDir()
	path := filepath.Join(dir, "seed.log")
	l, _, _ := Open(path)
	l.Append(KindSystem, "a", "b", map[string]string{"k": "v"})
	l.Append(KindSystem, "a", "c", nil)
	l.Close()
	seed, _ := os.ReadFile(path)
	f.Add(seed)
	f.Add([]byte("{}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := verify(bytes.NewReader(data))
		if err == nil && st.good+st.tail != int64(len(data)) {
			t.Fatalf("accounting: good %d + tail %d != %d", st.good, st.tail, len(data))
		}
	})
}

// TestSeveralWriters has the daemon and checkpointctl (here: this test and
// a child process, plus a second Log in this process) append to one file
// at once. The chain must hold every entry exactly once.
func TestSeveralWriters(t *testing.T) {
	if os.Getenv("AUDIT_CHILD_LOG") != "" {
		return
	}
	path := filepath.Join(t.TempDir(), "audit.log")
	const n = 150
	child := exec.Command(os.Args[0], "-test.run=^TestWriterChild$")
	child.Env = append(os.Environ(), "AUDIT_CHILD_LOG="+path, "AUDIT_CHILD_N="+strconv.Itoa(n))
	child.Stderr = os.Stderr
	a, b := mustOpen(t, path), mustOpen(t, path)
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, l := range []*Log{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range n {
				if _, err := l.Append(KindOfficerDecision, "officer-1", "confirm", nil); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := child.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	// The heads the two in-process writers report follow the others too.
	e, err := a.Append(KindSystem, "system", "last", nil)
	if err != nil {
		t.Fatal(err)
	}
	if e.Seq != 3*n+1 {
		t.Fatalf("last entry has seq %d, want %d", e.Seq, 3*n+1)
	}
	rep, err := Verify(path)
	if err != nil || rep.Entries != 3*n+1 || rep.Head != e.Hash {
		t.Fatalf("Verify = %+v, %v; want %d entries ending in %s", rep, err, 3*n+1, e.Hash)
	}
	raw, _ := os.ReadFile(path)
	if got := bytes.Count(raw, []byte(`"actor":"technician"`)); got != n {
		t.Fatalf("%d entries from the child, want %d", got, n)
	}
}

func TestWriterChild(t *testing.T) {
	path := os.Getenv("AUDIT_CHILD_LOG")
	if path == "" {
		t.Skip("child of TestSeveralWriters")
	}
	n, _ := strconv.Atoi(os.Getenv("AUDIT_CHILD_N"))
	l, _, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for range n {
		if _, err := l.Append(KindKeyOperation, "technician", "rotate", nil); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPartialWriteCut: a writer killed mid-line leaves a fragment; the next
// append by another writer cuts it and keeps the chain whole.
func TestPartialWriteCut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l := mustOpen(t, path)
	if _, err := l.Append(KindSystem, "system", "start", nil); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"seq":2,"time":"2026-11-24T`)
	f.Close()
	if _, err := l.Append(KindSystem, "system", "after", nil); err != nil {
		t.Fatal(err)
	}
	if rep, err := Verify(path); err != nil || rep.Entries != 2 || rep.Incomplete {
		t.Fatalf("Verify = %+v, %v", rep, err)
	}
	// Shrinking the file under a writer (someone cut entries) is refused.
	os.Truncate(path, 10)
	if _, err := l.Append(KindSystem, "system", "x", nil); !errors.Is(err, ErrBroken) {
		t.Fatalf("append after the file shrank: %v, want ErrBroken", err)
	}
}
