package evalset

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/watchlist"
	"github.com/checkpoint-edge/checkpoint/watchlist/lists"
)

// listsDir is the real lists; CI must have them.
func listsDir(tb testing.TB) string {
	dir := filepath.Join("..", "..", "..", "shared", "testdata", "lists")
	if _, err := os.Stat(filepath.Join(dir, "UN_consolidated.xml")); err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("real lists missing in CI: %v", err)
		}
		tb.Skipf("real lists not available: %v", err)
	}
	return dir
}

// realStore builds a store from the real lists.
func realStore(tb testing.TB, cfg *watchlist.Options) (*watchlist.Store, *lists.Snapshot) {
	dir := listsDir(tb)
	snap, err := lists.Build([]lists.Spec{{Kind: "un", Path: filepath.Join(dir, "UN_consolidated.xml")},
		{Kind: "ofac", Path: dir}, {Kind: "csl", Path: filepath.Join(dir, "csl.csv")}}, lists.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tmp := tb.TempDir()
	kp := seal.FileKey{Path: filepath.Join(tmp, "kek")}
	if err := seal.GenerateKeyFile(kp.Path); err != nil {
		tb.Fatal(err)
	}
	var o watchlist.Options
	if cfg != nil {
		o = *cfg
	}
	o.NoSync = true
	s, err := watchlist.Open(filepath.Join(tmp, "wl.db"), kp, o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	if err := s.ReplaceAll(context.Background(), watchlist.Meta{WatchlistID: "eval", Sequence: 1, IssuedAt: time.Now()}, snap.Changes()); err != nil {
		tb.Fatal(err)
	}
	return s, snap
}

// TestEvaluationBudgets: recall ≥ 99% on every positive kind and ≤ 1%
// false alerts (HIT or POSSIBLE) on every negative kind, at the default
// thresholds, on the real lists.
func TestEvaluationBudgets(t *testing.T) {
	s, snap := realStore(t, nil)
	cases := Generate(snap.Persons, Options{Seed: 1})
	if raceEnabled {
		n := map[string]int{}
		var sub []Case
		for _, c := range cases {
			if n[c.Kind]++; n[c.Kind]%3 == 1 {
				sub = append(sub, c)
			}
		}
		cases = sub
	}
	res, err := Run(context.Background(), s, cases)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	res.WriteTable(&b)
	t.Log("\n" + b.String())
	t.Logf("misses: %v", res.Misses)
	t.Logf("alerts: %v", res.Alerts)
	minRecall, maxFalse := 0.99, 0.01
	if raceEnabled {
		// A third of the set: a case more or less moves a rate by a third
		// of a point.
		minRecall, maxFalse = 0.98, 0.02
	}
	for _, k := range res.Kinds {
		if k.Cases < 12 {
			t.Errorf("kind %s has only %d cases", k.Kind, k.Cases)
		}
		if k.Positive && k.Rate < minRecall {
			t.Errorf("recall on %s %.2f%% < %.0f%%", k.Kind, 100*k.Rate, 100*minRecall)
		}
		if !k.Positive && k.Rate > maxFalse {
			t.Errorf("false alerts on %s %.2f%% > %.0f%%", k.Kind, 100*k.Rate, 100*maxFalse)
		}
	}
	if len(res.Kinds) != len(PositiveKinds)+len(NegativeKinds) {
		t.Errorf("%d kinds, want %d", len(res.Kinds), len(PositiveKinds)+len(NegativeKinds))
	}
}

// BenchmarkEvaluation runs the whole evaluation set on the real lists per
// iteration and reports recall and false alerts (overall, the worst
// positive kind, the worst negative kind) and the time per query; run it
// with -benchtime 1x. `make bench` keeps it in CI.
func BenchmarkEvaluation(b *testing.B) {
	s, snap := realStore(b, nil)
	cases := Generate(snap.Persons, Options{Seed: 1})
	var res *Result
	for b.Loop() {
		var err error
		if res, err = Run(context.Background(), s, cases); err != nil {
			b.Fatal(err)
		}
	}
	worstRecall, worstFalse := 1.0, 0.0
	for _, k := range res.Kinds {
		if k.Positive {
			worstRecall = min(worstRecall, k.Rate)
		} else {
			worstFalse = max(worstFalse, k.Rate)
		}
	}
	b.ReportMetric(100*res.Recall, "recall-%")
	b.ReportMetric(100*worstRecall, "worst-kind-recall-%")
	b.ReportMetric(100*res.FalseHit, "false-alerts-%")
	b.ReportMetric(100*worstFalse, "worst-kind-false-alerts-%")
	b.ReportMetric(float64(res.Queries), "queries")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*res.Queries), "us/query")
	b.ReportMetric(0, "ns/op")
}
