package diskstat

import (
	"errors"
	"io/fs"
	"path/filepath"
	"testing"
)

func TestStat(t *testing.T) {
	u, err := Stat(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if u.TotalBytes == 0 || u.FreeBytes > u.TotalBytes {
		t.Errorf("implausible usage %+v", u)
	}
	if u.Low != IsLow(u.FreeBytes, u.TotalBytes) {
		t.Errorf("Low = %v disagrees with IsLow", u.Low)
	}
}

func TestStatMissing(t *testing.T) {
	_, err := Stat(filepath.Join(t.TempDir(), "nope"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("err = %v, want ErrNotExist", err)
	}
}

func TestIsLow(t *testing.T) {
	const gib = 1 << 30
	for _, tc := range []struct {
		free, total uint64
		low         bool
	}{
		{free: 10 * gib, total: 100 * gib, low: false},
		{free: 4 * gib, total: 100 * gib, low: true}, // under 5%
		{free: 400 << 20, total: 1 * gib, low: true}, // under 500 MB
		{free: 600 << 20, total: 1 * gib, low: false},
		{free: 0, total: 0, low: true},
	} {
		if got := IsLow(tc.free, tc.total); got != tc.low {
			t.Errorf("IsLow(%d, %d) = %v, want %v", tc.free, tc.total, got, tc.low)
		}
	}
}

func TestHuman(t *testing.T) {
	for _, tc := range []struct {
		n    uint64
		want string
	}{
		{0, "0 B"}, {1023, "1023 B"}, {1024, "1.0 KiB"}, {1536, "1.5 KiB"},
		{5 << 20, "5.0 MiB"}, {12*(1<<30) + (1 << 29), "12.5 GiB"}, {3 << 40, "3.0 TiB"},
	} {
		if got := Human(tc.n); got != tc.want {
			t.Errorf("Human(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}
