package traffic

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestRing(t *testing.T) {
	p := filepath.Join(t.TempDir(), "face-traffic")
	l, err := Open(p, 4)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 1, 10, 42, 0, 0, time.UTC)
	for i := 0; i < 6; i++ {
		if err := l.Append(Record{At: t0.Add(time.Duration(i) * time.Hour), Top1: float32(i) / 10, Gallery: 1000 + i, Hit: 0.4, Possible: 0.5}); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 || st.Size() != headerSize+4*recordSize {
		t.Errorf("file mode %v size %d", st.Mode(), st.Size())
	}
	rs, err := Read(p)
	if err != nil {
		t.Fatal(err)
	}
	// The ring kept the last four, oldest first, at hour precision.
	if len(rs) != 4 || rs[0].Gallery != 1002 || rs[3].Gallery != 1005 || rs[0].Top1 != 0.2 {
		t.Fatalf("%+v", rs)
	}
	if !rs[0].At.Equal(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)) || rs[0].Possible != 0.5 {
		t.Errorf("record %+v", rs[0])
	}
	// Reopening continues the ring and keeps its capacity.
	l, err = Open(p, 100)
	if err != nil {
		t.Fatal(err)
	}
	l.Append(Record{At: t0, Top1: float32(math.Inf(1)), Gallery: 0})
	l.Close()
	rs, _ = Read(p)
	if len(rs) != 4 || rs[3].Gallery != 0 || !math.IsInf(float64(rs[3].Top1), 1) || rs[0].Gallery != 1003 {
		t.Errorf("after reopen: %+v", rs)
	}
	if err := l.Append(Record{}); !errors.Is(err, os.ErrClosed) {
		t.Errorf("append after close: %v", err)
	}
	// Damaged files are refused with ErrFormat.
	b, _ := os.ReadFile(p)
	for name, bad := range map[string][]byte{
		"truncated":   b[:len(b)-1],
		"not ours":    append([]byte("XXXX"), b[4:]...),
		"bad next":    func() []byte { c := append([]byte{}, b...); c[12] = 9; return c }(),
		"empty":       nil,
		"huge header": func() []byte { c := append([]byte{}, b...); c[11] = 0x7f; return c }(),
	} {
		q := filepath.Join(t.TempDir(), "x")
		os.WriteFile(q, bad, 0o600)
		if _, err := Read(q); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v", name, err)
		}
		if len(bad) > 0 {
			if _, err := Open(q, 4); !errors.Is(err, ErrFormat) {
				t.Errorf("%s: open %v", name, err)
			}
		}
	}
}

func FuzzParse(f *testing.F) {
	p := filepath.Join(f.TempDir(), "seed")
	l, _ := Open(p, 3)
	l.Append(Record{At: time.Unix(3600*500000, 0), Top1: 0.7, Gallery: 12})
	l.Close()
	b, _ := os.ReadFile(p)
	f.Add(b)
	f.Add(b[:headerSize])
	f.Fuzz(func(t *testing.T, b []byte) {
		rs, err := Parse(b)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v is not ErrFormat", err)
			}
			return
		}
		if len(rs) > (len(b)-headerSize)/recordSize {
			t.Fatalf("%d records from %d bytes", len(rs), len(b))
		}
	})
}
