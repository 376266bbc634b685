//go:build !linux

package faceindex

import "unsafe"

// slab falls back to the Go heap where mmap/mlock are not available; the
// memory is still zeroed on free but never locked.
type slab struct {
	f      []float32
	locked bool
}

func newSlab(n int) (*slab, error) { return &slab{f: make([]float32, n)}, nil }

func (s *slab) free() {
	if s == nil {
		return
	}
	s.wipe()
	s.f = nil
}

// wipe zeroes the templates; free calls it before the memory is released.
func (s *slab) wipe() { clear(s.f) }

// int8s views the slab as bytes (the quantised copy of the templates).
func (s *slab) int8s() []int8 {
	return unsafe.Slice((*int8)(unsafe.Pointer(&s.f[0])), 4*len(s.f))
}
