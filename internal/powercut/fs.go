package powercut

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// ErrUnavailable is returned by Mount when this machine cannot mount a FUSE
// file system (no /dev/fuse, not root and no fusermount3).
var ErrUnavailable = errors.New("powercut: cannot mount FUSE here")

// Options configure an FS.
type Options struct {
	// Torn keeps, at the cut, a random subset of the writes and
	// truncations not yet synced (chosen by Restore's random source),
	// instead of dropping them all.
	Torn bool
}

// Stats count what the mount saw.
type Stats struct {
	Ops       int // mutating operations (writes, truncations, creates, renames, syncs…)
	Writes    int
	Syncs     int // fsync / fdatasync of files
	DirSyncs  int // fsync of directories
	CutAt     int // the operation at which the state was frozen (0: not cut)
	LostFiles int // set by Restore: files with unsynced changes at the cut
}

// FS is a mounted power-cut file system. Build it with Mount.
type FS struct {
	backing, mnt string
	opt          Options
	server       *fuse.Server
	rootIno      uint64
	conn         uint32 // fusectl connection number (the mount's minor device)

	mu       sync.Mutex
	files    map[uint64]*fileState        // by backing inode
	dirs     map[uint64]map[string]dirent // durable entries, by backing inode
	stats    Stats
	cutAt    int // freeze at this operation (0: not planned)
	frozen   bool
	cut      chan struct{} // closed when the state is frozen
	released chan struct{} // closed by Unmount: blocked operations fail
	relOnce  sync.Once

	umountMu  sync.Mutex
	unmounted bool
}

type fileState struct {
	durable []byte
	pending []change // since the last sync, in order
}

// change is a write (data at off), a truncation (to size) or an
// allocation (the file grows to at least grow bytes).
type change struct {
	off   int64
	data  []byte
	trunc bool
	size  int64
	grow  int64
}

type dirent struct {
	ino    uint64
	kind   uint32 // syscall.S_IFREG, S_IFDIR or S_IFLNK
	mode   uint32
	target string // symlinks
}

// Mount mounts a pass-through view of backing at mnt (both must exist and
// be directories; backing should be on tmpfs, whose inode numbers are not
// reused). What backing holds now is taken as durable.
func Mount(backing, mnt string, opt Options) (*FS, error) {
	if _, err := os.Stat("/dev/fuse"); err != nil {
		return nil, fmt.Errorf("%w: /dev/fuse: %v", ErrUnavailable, err)
	}
	if os.Geteuid() != 0 {
		if _, err := exec.LookPath("fusermount3"); err != nil {
			return nil, fmt.Errorf("%w: not root and no fusermount3 (apt-get install fuse3)", ErrUnavailable)
		}
	}
	f := &FS{backing: backing, mnt: mnt, opt: opt, files: map[uint64]*fileState{}, dirs: map[uint64]map[string]dirent{},
		cut: make(chan struct{}), released: make(chan struct{})}
	if err := f.snapshot(); err != nil {
		return nil, err
	}
	var st syscall.Stat_t
	if err := syscall.Stat(backing, &st); err != nil {
		return nil, fmt.Errorf("powercut: %w", err)
	}
	f.rootIno = st.Ino
	lr := &gofs.LoopbackRoot{Path: backing, Dev: st.Dev}
	lr.NewNode = func(r *gofs.LoopbackRoot, _ *gofs.Inode, _ string, _ *syscall.Stat_t) gofs.InodeEmbedder {
		return &node{LoopbackNode: &gofs.LoopbackNode{RootData: r}, pc: f}
	}
	root := lr.NewNode(lr, nil, "", &st)
	lr.RootNode = root
	zero := time.Duration(0)
	server, err := gofs.Mount(mnt, root, &gofs.Options{
		MountOptions: fuse.MountOptions{DirectMount: true, FsName: "powercut", Name: "powercut", MaxBackground: 64},
		// No kernel caching of names or attributes: every operation
		// reaches the model in order.
		EntryTimeout: &zero, AttrTimeout: &zero, NegativeTimeout: &zero,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: mount %s: %v", ErrUnavailable, mnt, err)
	}
	f.server = server
	var mst syscall.Stat_t
	if err := syscall.Stat(mnt, &mst); err == nil {
		f.conn = unix.Minor(mst.Dev)
	}
	closeFuseOnExec()
	return f, nil
}

// closeFuseOnExec marks this process's /dev/fuse descriptors close-on-exec
// (go-fuse opens them without): a child that inherited one would hold the
// connection its own requests wait on, and could never be killed.
func closeFuseOnExec() {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if target, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && target == "/dev/fuse" {
			syscall.CloseOnExec(fd)
		}
	}
}

// abort ends the FUSE connection through fusectl, failing every request
// still waiting: the last resort when a mount will not go.
func (f *FS) abort() {
	const ctl = "/sys/fs/fuse/connections"
	if ents, _ := os.ReadDir(ctl); len(ents) == 0 {
		syscall.Mount("none", ctl, "fusectl", 0, "")
	}
	os.WriteFile(fmt.Sprintf("%s/%d/abort", ctl, f.conn), []byte("1"), 0o200)
}

// snapshot takes the backing directory as the durable state.
func (f *FS) snapshot() error {
	return filepath.WalkDir(f.backing, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		var st syscall.Stat_t
		if err := syscall.Lstat(p, &st); err != nil {
			return err
		}
		switch st.Mode & syscall.S_IFMT {
		case syscall.S_IFDIR:
			ents, err := readDir(p)
			if err != nil {
				return err
			}
			f.dirs[st.Ino] = ents
		case syscall.S_IFREG:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			f.files[st.Ino] = &fileState{durable: b}
		}
		return nil
	})
}

// readDir lists a backing directory as durable entries.
func readDir(dir string) (map[string]dirent, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := make(map[string]dirent, len(des))
	for _, de := range des {
		var st syscall.Stat_t
		p := filepath.Join(dir, de.Name())
		if err := syscall.Lstat(p, &st); err != nil {
			continue // removed meanwhile
		}
		e := dirent{ino: st.Ino, kind: st.Mode & syscall.S_IFMT, mode: st.Mode & 0o7777}
		switch e.kind {
		case syscall.S_IFREG, syscall.S_IFDIR:
		case syscall.S_IFLNK:
			e.target, _ = os.Readlink(p)
		default:
			continue // sockets, fifos: nothing durable
		}
		out[de.Name()] = e
	}
	return out, nil
}

// CutAt plans the cut at the n-th mutating operation from the mount
// (counting from 1); Cut cuts now.
func (f *FS) CutAt(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cutAt = n
	if n > 0 && f.stats.Ops >= n {
		f.freezeLocked()
	}
}

// Cut freezes the durable state now.
func (f *FS) Cut() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.freezeLocked()
}

func (f *FS) freezeLocked() {
	if f.frozen {
		return
	}
	f.frozen = true
	f.stats.CutAt = f.stats.Ops
	close(f.cut)
}

// CutDone is closed once the state is frozen.
func (f *FS) CutDone() <-chan struct{} { return f.cut }

// Stats returns the counters so far.
func (f *FS) Stats() Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stats
}

// gate admits one mutating operation: false (after blocking until
// Unmount) once the power is cut, so nothing after the cut happens.
func (f *FS) gate() bool {
	f.mu.Lock()
	if !f.frozen {
		f.stats.Ops++
		if f.cutAt > 0 && f.stats.Ops >= f.cutAt {
			f.freezeLocked()
		}
	}
	frozen := f.frozen
	f.mu.Unlock()
	if frozen {
		<-f.released
		return false
	}
	return true
}

// update changes the model unless the power is already cut.
func (f *FS) update(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.frozen {
		fn()
	}
}

func (f *FS) file(ino uint64) *fileState {
	fs := f.files[ino]
	if fs == nil {
		fs = &fileState{}
		f.files[ino] = fs
	}
	return fs
}

// Release lets the operations blocked since the cut fail (EIO), so that a
// program still holding files open can close them.
func (f *FS) Release() { f.relOnce.Do(func() { close(f.released) }) }

// Unmount releases blocked operations (they fail with EIO) and unmounts.
// The program using the mount should be gone (killed) first: open files
// keep the mount busy. Idempotent.
func (f *FS) Unmount() error {
	f.Release()
	f.umountMu.Lock()
	defer f.umountMu.Unlock()
	if f.server == nil || f.unmounted {
		return nil
	}
	f.unmounted = true
	var err error
	for range 50 {
		if err = f.server.Unmount(); err == nil {
			f.server.Wait()
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	// A stuck mount must not outlive the test: fail what still waits, and
	// detach it.
	f.abort()
	if lerr := syscall.Unmount(f.mnt, syscall.MNT_DETACH); lerr == nil {
		return nil
	}
	return fmt.Errorf("powercut: unmount %s: %w", f.mnt, err)
}

// node is a loopback node whose mutations feed the model.
type node struct {
	*gofs.LoopbackNode
	pc *FS
}

func (n *node) backingPath() string {
	return filepath.Join(n.RootData.Path, n.Path(n.RootData.RootNode.EmbeddedInode()))
}

func inoOf(fd int) uint64 {
	var st syscall.Stat_t
	if syscall.Fstat(fd, &st) != nil {
		return 0
	}
	return st.Ino
}

func (n *node) wrap(fh gofs.FileHandle, truncated bool) gofs.FileHandle {
	lf, ok := fh.(*gofs.LoopbackFile)
	if !ok {
		return fh
	}
	fd, _ := lf.PassthroughFd()
	h := &file{lf: lf, fd: fd, ino: inoOf(fd), pc: n.pc}
	if truncated {
		n.pc.update(func() { s := n.pc.file(h.ino); s.pending = append(s.pending, change{trunc: true}) })
	}
	return h
}

var (
	_ gofs.NodeOpener         = (*node)(nil)
	_ gofs.NodeCreater        = (*node)(nil)
	_ gofs.NodeSetattrer      = (*node)(nil)
	_ gofs.NodeOpendirHandler = (*node)(nil)
	_ gofs.NodeMkdirer        = (*node)(nil)
	_ gofs.NodeUnlinker       = (*node)(nil)
	_ gofs.NodeRmdirer        = (*node)(nil)
	_ gofs.NodeRenamer        = (*node)(nil)
	_ gofs.NodeLinker         = (*node)(nil)
	_ gofs.NodeSymlinker      = (*node)(nil)
	_ gofs.NodeMknoder        = (*node)(nil)
)
