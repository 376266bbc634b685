//go:build linux

package faceindex

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// slab is a float32 region mapped outside the Go heap: the garbage collector
// never copies it (so no stray copies of templates are left behind), it can be
// mlocked as a whole, and it is kept out of core dumps.
type slab struct {
	mem    []byte
	f      []float32
	locked bool
}

func newSlab(n int) (*slab, error) {
	if n == 0 {
		n = 1
	}
	mem, err := unix.Mmap(-1, 0, n*4, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return nil, err
	}
	// Best effort: a core dump must not carry decrypted templates.
	_ = unix.Madvise(mem, unix.MADV_DONTDUMP)
	s := &slab{mem: mem, f: unsafe.Slice((*float32)(unsafe.Pointer(&mem[0])), n)}
	// mlock fails when RLIMIT_MEMLOCK is below the slab size; the index
	// still works and Locked reports it.
	s.locked = unix.Mlock(mem) == nil
	return s, nil
}

func (s *slab) free() {
	if s == nil || s.mem == nil {
		return
	}
	s.wipe()
	if s.locked {
		_ = unix.Munlock(s.mem)
	}
	_ = unix.Munmap(s.mem)
	s.mem, s.f, s.locked = nil, nil, false
}

// wipe zeroes the templates; free calls it before the memory is unmapped.
func (s *slab) wipe() { clear(s.f) }

// int8s views the slab as bytes (the quantised copy of the templates).
func (s *slab) int8s() []int8 {
	return unsafe.Slice((*int8)(unsafe.Pointer(&s.mem[0])), len(s.mem))
}
