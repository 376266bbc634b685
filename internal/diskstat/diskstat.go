package diskstat

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// LowBytes and LowPercent are the thresholds under which free space is
// low: below either, the outbox may soon refuse results.
const (
	LowBytes   = 500 << 20
	LowPercent = 5
)

// Usage is the space of one file system.
type Usage struct {
	Path       string `json:"path"`
	FreeBytes  uint64 `json:"free_bytes"`
	TotalBytes uint64 `json:"total_bytes"`
	Low        bool   `json:"low"`
}

// Stat returns the space available to unprivileged users on the file
// system holding path (blocks reserved for root do not count as free: the
// daemon does not run as root).
func Stat(path string) (Usage, error) {
	var fs unix.Statfs_t
	if err := unix.Statfs(path, &fs); err != nil {
		return Usage{}, fmt.Errorf("diskstat: %s: %w", path, err)
	}
	bs := uint64(fs.Bsize)
	u := Usage{Path: path, FreeBytes: fs.Bavail * bs, TotalBytes: fs.Blocks * bs}
	u.Low = IsLow(u.FreeBytes, u.TotalBytes)
	return u, nil
}

// IsLow applies the thresholds.
func IsLow(free, total uint64) bool {
	return free < LowBytes || (total > 0 && free*100 < total*LowPercent)
}

// Human renders a byte count with a binary unit, e.g. "12.3 GiB".
func Human(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
