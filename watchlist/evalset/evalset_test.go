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
	res, err := Run(context.Background(), s, cases)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	res.WriteTable(&b)
	t.Log("\n" + b.String())
	t.Logf("misses: %v", res.Misses)
	t.Logf("alerts: %v", res.Alerts)
	for _, k := range res.Kinds {
		if k.Cases < 20 {
			t.Errorf("kind %s has only %d cases", k.Kind, k.Cases)
		}
		if k.Positive && k.Rate < 0.99 {
			t.Errorf("recall on %s %.2f%% < 99%%", k.Kind, 100*k.Rate)
		}
		if !k.Positive && k.Rate > 0.01 {
			t.Errorf("false alerts on %s %.2f%% > 1%%", k.Kind, 100*k.Rate)
		}
	}
	if len(res.Kinds) != len(PositiveKinds)+len(NegativeKinds) {
		t.Errorf("%d kinds, want %d", len(res.Kinds), len(PositiveKinds)+len(NegativeKinds))
	}
}

func BenchmarkEvalQueries(b *testing.B) {
	s, snap := realStore(b, nil)
	cases := Generate(snap.Persons, Options{Seed: 1})
	qs := make([]watchlist.PersonQuery, len(cases))
	for i := range cases {
		qs[i] = cases[i].Query
	}
	i := 0
	for b.Loop() {
		if _, err := s.ScreenPerson(context.Background(), qs[i%len(qs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
