package powercut

import (
	"context"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// The node's mutating operations pass the gate (counted; blocked after the
// cut) and then run on the backing directory. File contents enter the
// model through the file handle (writes, syncs); directory entries only
// when a directory is synced, from what the backing directory holds then.

func (n *node) Open(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	trunc := flags&syscall.O_TRUNC != 0
	if trunc && !n.pc.gate() {
		return nil, 0, syscall.EIO
	}
	fh, ff, errno := n.LoopbackNode.Open(ctx, flags)
	if errno != 0 {
		return nil, 0, errno
	}
	return n.wrap(fh, trunc), ff, 0
}

func (n *node) Create(ctx context.Context, name string, flags, mode uint32, out *fuse.EntryOut) (*gofs.Inode, gofs.FileHandle, uint32, syscall.Errno) {
	if !n.pc.gate() {
		return nil, nil, 0, syscall.EIO
	}
	ch, fh, ff, errno := n.LoopbackNode.Create(ctx, name, flags, mode, out)
	if errno != 0 {
		return nil, nil, 0, errno
	}
	h := n.wrap(fh, false)
	if hf, ok := h.(*file); ok {
		n.pc.update(func() {
			if s, existed := n.pc.files[hf.ino]; existed {
				if flags&syscall.O_TRUNC != 0 {
					s.pending = append(s.pending, change{trunc: true})
				}
				return
			}
			n.pc.files[hf.ino] = &fileState{} // new: nothing of it is durable yet
		})
	}
	return ch, h, ff, 0
}

func (n *node) Setattr(ctx context.Context, f gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if size, ok := in.GetSize(); ok {
		if !n.pc.gate() {
			return syscall.EIO
		}
		var ino uint64
		if hf, ok := f.(*file); ok {
			ino = hf.ino
		} else {
			var st syscall.Stat_t
			if err := syscall.Lstat(n.backingPath(), &st); err == nil {
				ino = st.Ino
			}
		}
		if errno := n.LoopbackNode.Setattr(ctx, f, in, out); errno != 0 {
			return errno
		}
		n.pc.update(func() {
			s := n.pc.file(ino)
			s.pending = append(s.pending, change{trunc: true, size: int64(size)})
		})
		return 0
	}
	return n.LoopbackNode.Setattr(ctx, f, in, out)
}

func (n *node) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	if !n.pc.gate() {
		return nil, syscall.EIO
	}
	return n.LoopbackNode.Mkdir(ctx, name, mode, out)
}

func (n *node) Mknod(ctx context.Context, name string, mode, rdev uint32, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	if !n.pc.gate() {
		return nil, syscall.EIO
	}
	return n.LoopbackNode.Mknod(ctx, name, mode, rdev, out)
}

func (n *node) Unlink(ctx context.Context, name string) syscall.Errno {
	if !n.pc.gate() {
		return syscall.EIO
	}
	return n.LoopbackNode.Unlink(ctx, name)
}

func (n *node) Rmdir(ctx context.Context, name string) syscall.Errno {
	if !n.pc.gate() {
		return syscall.EIO
	}
	return n.LoopbackNode.Rmdir(ctx, name)
}

func (n *node) Rename(ctx context.Context, name string, newParent gofs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	if !n.pc.gate() {
		return syscall.EIO
	}
	return n.LoopbackNode.Rename(ctx, name, newParent, newName, flags)
}

func (n *node) Link(ctx context.Context, target gofs.InodeEmbedder, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	if !n.pc.gate() {
		return nil, syscall.EIO
	}
	return n.LoopbackNode.Link(ctx, target, name, out)
}

func (n *node) Symlink(ctx context.Context, target, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	if !n.pc.gate() {
		return nil, syscall.EIO
	}
	return n.LoopbackNode.Symlink(ctx, target, name, out)
}

// CopyFileRange is refused so that the kernel falls back to reads and
// writes, which the model sees.
func (n *node) CopyFileRange(ctx context.Context, fhIn gofs.FileHandle, offIn uint64, out *gofs.Inode, fhOut gofs.FileHandle,
	offOut uint64, length uint64, flags uint64) (uint32, syscall.Errno) {
	return 0, syscall.ENOSYS
}

// Tmpfile (O_TMPFILE) is refused: its writes would bypass the model.
func (n *node) Tmpfile(ctx context.Context, flags, mode uint32, out *fuse.EntryOut) (*gofs.Inode, gofs.FileHandle, uint32, syscall.Errno) {
	return nil, nil, 0, syscall.EOPNOTSUPP
}

func (n *node) OpendirHandle(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	fh, ff, errno := n.LoopbackNode.OpendirHandle(ctx, flags)
	if errno != 0 {
		return nil, 0, errno
	}
	return &dirHandle{inner: fh, n: n}, ff, 0
}

// dirHandle is an open directory; its fsync makes the directory's
// current entries durable.
type dirHandle struct {
	inner gofs.FileHandle
	n     *node
}

func (d *dirHandle) Fsyncdir(ctx context.Context, flags uint32) syscall.Errno {
	if !d.n.pc.gate() {
		return syscall.EIO
	}
	p := d.n.backingPath()
	var st syscall.Stat_t
	if err := syscall.Lstat(p, &st); err != nil {
		return gofs.ToErrno(err)
	}
	ents, err := readDir(p)
	if err != nil {
		return gofs.ToErrno(err)
	}
	d.n.pc.update(func() {
		d.n.pc.dirs[st.Ino] = ents
		d.n.pc.stats.DirSyncs++
	})
	return 0
}

func (d *dirHandle) Readdirent(ctx context.Context) (*fuse.DirEntry, syscall.Errno) {
	if r, ok := d.inner.(gofs.FileReaddirenter); ok {
		return r.Readdirent(ctx)
	}
	return nil, syscall.ENOTSUP
}

func (d *dirHandle) Seekdir(ctx context.Context, off uint64) syscall.Errno {
	if s, ok := d.inner.(gofs.FileSeekdirer); ok {
		return s.Seekdir(ctx, off)
	}
	return syscall.ENOTSUP
}

func (d *dirHandle) Releasedir(ctx context.Context, flags uint32) {
	if r, ok := d.inner.(gofs.FileReleasedirer); ok {
		r.Releasedir(ctx, flags)
	}
}

// file is an open regular file. It deliberately does not offer a
// passthrough descriptor: every write must reach the model.
type file struct {
	lf  *gofs.LoopbackFile
	fd  int
	ino uint64
	pc  *FS
}

func (f *file) Read(ctx context.Context, buf []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	return f.lf.Read(ctx, buf, off)
}

func (f *file) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	if !f.pc.gate() {
		return 0, syscall.EIO
	}
	n, errno := f.lf.Write(ctx, data, off)
	if errno == 0 && n > 0 {
		c := change{off: off, data: append([]byte(nil), data[:n]...)}
		f.pc.update(func() {
			s := f.pc.file(f.ino)
			s.pending = append(s.pending, c)
			f.pc.stats.Writes++
		})
	}
	return n, errno
}

// Fsync (fsync and fdatasync alike) makes the file's current contents
// durable.
func (f *file) Fsync(ctx context.Context, flags uint32) syscall.Errno {
	if !f.pc.gate() {
		return syscall.EIO
	}
	b, err := readAll(f.fd)
	if err != nil {
		return gofs.ToErrno(err)
	}
	f.pc.update(func() {
		s := f.pc.file(f.ino)
		s.durable, s.pending = b, nil
		f.pc.stats.Syncs++
	})
	return 0
}

func readAll(fd int) ([]byte, error) {
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, err
	}
	b := make([]byte, st.Size)
	for off := 0; off < len(b); {
		n, err := syscall.Pread(fd, b[off:], int64(off))
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return b[:off], nil
		}
		off += n
	}
	return b, nil
}

func (f *file) Allocate(ctx context.Context, off, size uint64, mode uint32) syscall.Errno {
	if !f.pc.gate() {
		return syscall.EIO
	}
	if errno := f.lf.Allocate(ctx, off, size, mode); errno != 0 {
		return errno
	}
	if mode == 0 { // extends the file with zeros
		f.pc.update(func() {
			s := f.pc.file(f.ino)
			s.pending = append(s.pending, change{grow: int64(off + size)})
		})
	}
	return 0
}

func (f *file) Setattr(ctx context.Context, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	return f.lf.Setattr(ctx, in, out)
}

func (f *file) Getattr(ctx context.Context, out *fuse.AttrOut) syscall.Errno {
	return f.lf.Getattr(ctx, out)
}

func (f *file) Lseek(ctx context.Context, off uint64, whence uint32) (uint64, syscall.Errno) {
	return f.lf.Lseek(ctx, off, whence)
}

func (f *file) Flush(ctx context.Context) syscall.Errno   { return f.lf.Flush(ctx) }
func (f *file) Release(ctx context.Context) syscall.Errno { return f.lf.Release(ctx) }
