//go:build !linux

package faceindex

func memlockLimit() uint64 { return 0 }
