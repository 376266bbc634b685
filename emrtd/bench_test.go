package emrtd_test

import (
	"runtime"
	"testing"

	"github.com/checkpoint-edge/checkpoint/emrtd"
	testissuer "github.com/checkpoint-edge/checkpoint/emrtd/emrtdtest"
	"github.com/checkpoint-edge/checkpoint/emrtd/lds"
)

// BenchmarkReadThroughVPCD is a whole chip read through pcscd and the vpcd
// virtual reader: access control, EF.COM, EF.SOD, DG1 and a 20 KB DG2.
func BenchmarkReadThroughVPCD(b *testing.B) {
	face := faceJPEG(b, 20000)
	face = append(face, make([]byte, 20480-len(face))...) // exactly 20 KB
	for _, c := range []struct {
		name string
		pace []testissuer.PACE
	}{
		{"BAC", nil},
		{"PACE-P256", []testissuer.PACE{{OID: lds.OIDPACEECDHGM + ".2", ParameterID: 12}}},
		{"PACE-brainpoolP256r1", []testissuer.PACE{{OID: lds.OIDPACEECDHGM + ".2", ParameterID: 13}}},
	} {
		b.Run(c.name, func(b *testing.B) {
			f := newChip(b, fixtureOpts{doc: testissuer.Doc{Face: face, PACE: c.pace}})
			var apdus int
			var ms float64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				d, err := f.read(b, annaKey(), emrtd.Options{Groups: []int{1, 2}})
				if err != nil {
					b.Fatal(err)
				}
				if len(d.Files["DG2"]) < 20000 {
					b.Fatalf("DG2 of %d bytes", len(d.Files["DG2"]))
				}
				apdus, ms = d.APDUs, ms+d.DurationMS
			}
			b.ReportMetric(float64(apdus), "APDUs")
			b.ReportMetric(ms/float64(b.N), "read-ms")
		})
	}
}

// TestReadsDoNotGrow reads the chip many times, taking it off and putting
// it back each time: goroutines and heap must not grow. CHECKPOINT_SOAK
// raises the count (1,000 for the figure).
func TestReadsDoNotGrow(t *testing.T) {
	n := 6
	if s := soakCount(); s > 0 {
		n = s
	}
	f := newChip(t, fixtureOpts{doc: testissuer.Doc{Face: faceJPEG(t, 8000)}})
	var g0 int
	var h0 uint64
	for i := 0; i < n; i++ {
		if _, err := f.read(t, annaKey(), emrtd.Options{Groups: []int{1, 2}}); err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
		ins := f.reader.State().Insertions
		f.em.Remove()
		waitUntil(t, "removal seen", func() bool { return !f.reader.State().CardPresent })
		if err := f.em.Insert(); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "insertion seen", func() bool { return f.reader.State().Insertions > ins })
		if i == 1 {
			runtime.GC()
			g0 = runtime.NumGoroutine()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			h0 = ms.HeapAlloc
		}
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	g := runtime.NumGoroutine()
	t.Logf("%d reads: goroutines %d → %d, heap %d KB → %d KB", n, g0, g, h0>>10, ms.HeapAlloc>>10)
	if g > g0+3 {
		t.Errorf("goroutines grew from %d to %d over %d reads", g0, g, n)
	}
	if ms.HeapAlloc > h0+8<<20 {
		t.Errorf("heap grew from %d KB to %d KB over %d reads", h0>>10, ms.HeapAlloc>>10, n)
	}
}
