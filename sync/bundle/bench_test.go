package bundle

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkInstall builds a full bundle of 1 million records (50,000 with
// -short) once, then measures verification and apply into a real store
// separately (budget: 1 million changed records applied in < 60 s).
func BenchmarkInstall(b *testing.B) {
	n := 1_000_000
	if testing.Short() {
		n = 50_000
	}
	e := newEnv(b)
	path := filepath.Join(b.TempDir(), "full.cpwl")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	tb := time.Now()
	if _, err := Build(context.Background(), f, &genSource{n: n, r: rand.New(rand.NewPCG(1, 7))}, e.buildOpts(1, 0)); err != nil {
		b.Fatal(err)
	}
	f.Close()
	st, _ := os.Stat(path)
	b.Logf("built %d records into %d bytes in %v", n, st.Size(), time.Since(tb))
	opts := e.opts()
	opts.Now = func() time.Time { return t0 }

	var verify, install, firstPass time.Duration
	var applyStart time.Time
	opts.Progress = func(phase string, _, _ int64) {
		if phase == "apply" && applyStart.IsZero() {
			applyStart = time.Now()
		}
	}
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		store := openStore(b, b.TempDir())
		b.StartTimer()
		t1 := time.Now()
		if _, err := Verify(context.Background(), path, nil, opts); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		applyStart = time.Time{}
		if _, err := Install(context.Background(), path, store, opts); err != nil {
			b.Fatal(err)
		}
		t3 := time.Now()
		verify += t2.Sub(t1)
		install += t3.Sub(t2)
		firstPass += applyStart.Sub(t2)
		b.StopTimer()
		if m := store.Meta(); m.Sequence != 1 {
			b.Fatalf("installed %d", m.Sequence)
		}
		store.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(n), "records")
	// verify-s: Verify alone (signature, hash, bounds, every record
	// decoded, state hash recomputed). Install = its first pass
	// (authenticate and bound the payload: install-verify-s) + the apply
	// pass into the store (apply-s).
	b.ReportMetric(verify.Seconds()/float64(b.N), "verify-s")
	b.ReportMetric(firstPass.Seconds()/float64(b.N), "install-verify-s")
	b.ReportMetric((install-firstPass).Seconds()/float64(b.N), "apply-s")
	b.ReportMetric(install.Seconds()/float64(b.N), "install-s")
	b.ReportMetric(float64(st.Size()), "bundle-bytes")
}
