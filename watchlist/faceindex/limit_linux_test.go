package faceindex

import "golang.org/x/sys/unix"

func memlockLimit() uint64 {
	var r unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_MEMLOCK, &r); err != nil {
		return 0
	}
	return r.Cur
}
