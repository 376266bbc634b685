package powercut

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
)

// ErrNotCut is returned by Restore before the power was cut.
var ErrNotCut = errors.New("powercut: the power was not cut")

// Restore writes what survived the cut into dst (an empty directory):
// every directory as of its last fsync, every file as of its last sync
// (with Options.Torn, plus a random subset of the later writes, page by
// page, drawn from rnd). A file reachable by two names becomes hard links.
func (f *FS) Restore(dst string, rnd *rand.Rand) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.frozen {
		return ErrNotCut
	}
	f.stats.LostFiles = 0
	for _, s := range f.files {
		if len(s.pending) > 0 {
			f.stats.LostFiles++
		}
	}
	written := map[uint64]string{}
	var walk func(dir uint64, path string, depth int) error
	walk = func(dir uint64, path string, depth int) error {
		if depth > 64 {
			return nil // a rename loop half made durable: stop
		}
		for name, e := range f.dirs[dir] {
			p := filepath.Join(path, name)
			switch e.kind {
			case syscall.S_IFDIR:
				if err := os.Mkdir(p, os.FileMode(e.mode|0o700)); err != nil && !errors.Is(err, os.ErrExist) {
					return err
				}
				if err := walk(e.ino, p, depth+1); err != nil {
					return err
				}
			case syscall.S_IFLNK:
				if err := os.Symlink(e.target, p); err != nil {
					return err
				}
			case syscall.S_IFREG:
				if first, ok := written[e.ino]; ok {
					if err := os.Link(first, p); err != nil {
						return err
					}
					continue
				}
				if err := os.WriteFile(p, f.contentAtCut(e.ino, rnd), os.FileMode(e.mode|0o600)); err != nil {
					return err
				}
				written[e.ino] = p
			}
		}
		return nil
	}
	if err := walk(f.rootIno, dst, 0); err != nil {
		return fmt.Errorf("powercut: restore: %w", err)
	}
	return nil
}

// pageSize is the unit a torn write keeps or loses.
const pageSize = 4096

// contentAtCut is a file's durable content, plus (Torn) a random subset of
// its unsynced changes.
func (f *FS) contentAtCut(ino uint64, rnd *rand.Rand) []byte {
	s := f.files[ino]
	if s == nil {
		return nil
	}
	b := append([]byte(nil), s.durable...)
	if !f.opt.Torn || rnd == nil {
		return b
	}
	for _, c := range s.pending {
		switch {
		case c.trunc:
			if rnd.IntN(2) == 0 {
				b = resize(b, c.size)
			}
		case c.grow > 0:
			if rnd.IntN(2) == 0 && int64(len(b)) < c.grow {
				b = resize(b, c.grow)
			}
		default:
			// Page by page: a disk that wrote some and not others.
			for off := c.off; off < c.off+int64(len(c.data)); {
				end := min((off/pageSize+1)*pageSize, c.off+int64(len(c.data)))
				if rnd.IntN(2) == 0 {
					if int64(len(b)) < end {
						b = resize(b, end)
					}
					copy(b[off:end], c.data[off-c.off:end-c.off])
				}
				off = end
			}
		}
	}
	return b
}

func resize(b []byte, n int64) []byte {
	if int64(len(b)) >= n {
		return b[:n]
	}
	return append(b, make([]byte, n-int64(len(b)))...)
}
