//go:build !linux

package faceindex

import "time"

func memlockLimit() uint64 { return 0 }

func cpuTime() time.Duration { return 0 }
