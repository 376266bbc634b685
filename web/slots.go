package web

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// MaxHashSlots caps the concurrent PIN hashes whatever the memory: an
// argon2id computation keeps a core busy, so more would not finish sooner.
const MaxHashSlots = 4

// hashMemory is what one PIN check allocates (argon2id's memory cost).
const hashMemory = argonMemory * 1024

// DefaultHashSlots sizes the number of concurrent argon2id computations
// from the memory this process may use: one slot per 8 × the hash's memory
// cost (a quarter of memory for sign-in at most, with room for the garbage
// collector's headroom), at least one and at most min(MaxHashSlots, CPUs).
// The memory is the smaller of /proc/meminfo's MemAvailable and what the
// process's cgroup (systemd MemoryHigh=/MemoryMax=) leaves.
func DefaultHashSlots() int {
	return slotsFor(availableMemory())
}

func slotsFor(avail int64) int {
	n := int(avail / (8 * hashMemory))
	return max(1, min(n, MaxHashSlots, runtime.NumCPU()))
}

func availableMemory() int64 {
	avail := meminfoAvailable()
	if lim := cgroupRoom(); lim > 0 && (avail <= 0 || lim < avail) {
		avail = lim
	}
	if avail <= 0 {
		avail = 8 * hashMemory // unknown: assume room for one
	}
	return avail
}

func meminfoAvailable() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "MemAvailable:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err == nil {
				return kb * 1024
			}
		}
	}
	return 0
}

// cgroupRoom is the cgroup v2 limit (memory.high, else memory.max) less
// what the cgroup uses now; 0 when there is no limit or no cgroup v2.
func cgroupRoom() int64 {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return 0
	}
	var path string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if p, ok := strings.CutPrefix(l, "0::"); ok {
			path = p
		}
	}
	if path == "" {
		return 0
	}
	dir := "/sys/fs/cgroup" + path
	read := func(name string) int64 {
		b, err := os.ReadFile(dir + "/" + name)
		if err != nil {
			return 0
		}
		v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil { // "max"
			return 0
		}
		return v
	}
	lim := read("memory.high")
	if m := read("memory.max"); m > 0 && (lim == 0 || m < lim) {
		lim = m
	}
	if lim == 0 {
		return 0
	}
	return max(lim-read("memory.current"), 1)
}
