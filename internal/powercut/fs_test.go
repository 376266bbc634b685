package powercut

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/internal/atomicfile"
)

// shmDir is a temporary directory on tmpfs (inode numbers not reused),
// removed at the end of the test.
func shmDir(t testing.TB) string {
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

// MustMount mounts an FS over a fresh backing directory holding what init
// writes, and unmounts it at cleanup. When FUSE cannot be mounted the test
// fails under CI (which installs fuse3 and runs as root) and is skipped
// elsewhere, saying why.
func MustMount(t testing.TB, opt Options, init func(dir string)) (*FS, string) {
	t.Helper()
	backing, mnt := shmDir(t), t.TempDir()
	if init != nil {
		init(backing)
	}
	f, err := Mount(backing, mnt, opt)
	if errors.Is(err, ErrUnavailable) {
		if os.Getenv("CI") != "" {
			t.Fatalf("power-cut tests need FUSE: %v", err)
		}
		t.Skipf("power-cut tests need FUSE: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := f.Unmount(); err != nil {
			t.Error(err)
		}
	})
	return f, mnt
}

func restored(t *testing.T, f *FS, rnd *rand.Rand) string {
	t.Helper()
	dst := shmDir(t)
	if err := f.Restore(dst, rnd); err != nil {
		t.Fatal(err)
	}
	return dst
}

func readOr(path, missing string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return missing
	}
	return string(b)
}

func syncDir(t *testing.T, dir string) {
	t.Helper()
	if err := atomicfile.SyncDir(dir); err != nil {
		t.Fatal(err)
	}
}

// TestDurabilityModel checks the layer itself: what is synced survives,
// what is not is lost, file by file and directory by directory.
func TestDurabilityModel(t *testing.T) {
	f, mnt := MustMount(t, Options{}, func(dir string) {
		os.WriteFile(filepath.Join(dir, "old"), []byte("old content"), 0o600)
		os.WriteFile(filepath.Join(dir, "renamed"), []byte("renamed"), 0o600)
		os.Mkdir(filepath.Join(dir, "sub"), 0o700)
		os.Mkdir(filepath.Join(dir, "atom"), 0o700)
	})
	p := func(n string) string { return filepath.Join(mnt, n) }

	// Overwritten in place without a sync: the old content survives.
	if err := os.WriteFile(p("old"), []byte("new content, never synced"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Created, written and synced, but its directory never synced: gone.
	nf, _ := os.Create(p("created-unsynced-dir"))
	nf.Write([]byte("data"))
	nf.Sync()
	nf.Close()
	// Created and written; directory synced, file not: empty.
	ef, _ := os.Create(p("sub/empty"))
	ef.Write([]byte("lost data"))
	ef.Close()
	syncDir(t, p("sub"))
	// The atomic write (temp, fsync, rename, fsync dir): survives whole.
	if err := atomicfile.WriteFile(p("atom/atomic"), []byte("atomic content"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Renamed without a directory sync: still under its old name.
	if err := os.Rename(p("renamed"), p("renamed-new")); err != nil {
		t.Fatal(err)
	}
	before := f.Stats()
	f.Cut()
	dst := restored(t, f, nil)
	q := func(n string) string { return filepath.Join(dst, n) }
	for _, c := range []struct{ name, want string }{
		{"old", "old content"},
		{"created-unsynced-dir", "(missing)"},
		{"sub/empty", ""},
		{"atom/atomic", "atomic content"},
		{"renamed", "renamed"},
		{"renamed-new", "(missing)"},
	} {
		if got := readOr(q(c.name), "(missing)"); got != c.want {
			t.Errorf("%s after the cut: %q, want %q", c.name, got, c.want)
		}
	}
	if before.Syncs < 2 || before.DirSyncs < 2 || before.Writes < 4 {
		t.Errorf("stats %+v", before)
	}

	// After the cut nothing happens: a write blocks, then fails at
	// unmount.
	done := make(chan error, 1)
	go func() { done <- os.WriteFile(p("late"), []byte("late"), 0o600) }()
	select {
	case err := <-done:
		t.Fatalf("write after the cut returned %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	f.Release()
	if err := <-done; err == nil {
		t.Fatal("write after the cut succeeded")
	}
}

// TestCutAtOperation: the cut falls at the n-th mutating operation, and
// Torn keeps part of the unsynced pages.
func TestCutAtOperation(t *testing.T) {
	f, mnt := MustMount(t, Options{Torn: true}, func(dir string) {
		os.WriteFile(filepath.Join(dir, "pages"), bytes.Repeat([]byte{'a'}, 8*pageSize), 0o600)
	})
	fh, err := os.OpenFile(filepath.Join(mnt, "pages"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fh.Close() }) // before the unmount
	if _, err := fh.WriteAt(bytes.Repeat([]byte{'b'}, 8*pageSize), 0); err != nil {
		t.Fatal(err)
	}
	f.CutAt(f.Stats().Ops + 1) // the next operation is cut
	done := make(chan error, 1)
	go func() { _, err := fh.WriteAt([]byte("c"), 0); done <- err }()
	<-f.CutDone()
	mixed := 0
	for seed := range uint64(8) {
		got, _ := os.ReadFile(filepath.Join(restored(t, f, rand.New(rand.NewPCG(seed, 1))), "pages"))
		if len(got) != 8*pageSize || bytes.Contains(got, []byte{'c'}) {
			t.Fatalf("seed %d: %d bytes, cut write present: %v", seed, len(got), bytes.Contains(got, []byte{'c'}))
		}
		if a, b := bytes.Count(got, []byte{'a'}), bytes.Count(got, []byte{'b'}); a > 0 && b > 0 && a%pageSize == 0 {
			mixed++
		}
	}
	if mixed == 0 {
		t.Fatal("torn mode never mixed old and new pages")
	}
	f.Release()
	if err := <-done; err == nil {
		t.Fatal("the cut write succeeded")
	}
}
