package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/checkpoint-edge/checkpoint/internal/cli"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/watchlist"
	"github.com/checkpoint-edge/checkpoint/watchlist/evalset"
	"github.com/checkpoint-edge/checkpoint/watchlist/lists"
)

func init() { watchlistCmd.AddCommand(newWatchlistEvaluateCmd()) }

// evaluateReport is `watchlist evaluate --json`.
type evaluateReport struct {
	Thresholds watchlist.Thresholds `json:"thresholds"`
	Persons    int                  `json:"listed_persons"`
	Result     *evalset.Result      `json:"result"`
	BudgetsMet bool                 `json:"budgets_met"`
}

func newWatchlistEvaluateCmd() *cobra.Command {
	var from []string
	var configPath string
	var th thresholdFlags
	var opts evalset.Options
	var check bool
	c := &cobra.Command{
		Use:   "evaluate --from un:FILE --from ofac:DIR --from csl:FILE",
		Short: "Measure person matching on the real lists: recall per kind of listed traveller, false alerts per kind of dangerous negative",
		Long: `Import the lists (as 'watchlist build' does) into a temporary encrypted store,
build the evaluation set from them (watchlist/evalset: listed persons as
their documents would show them, under listed aliases, transliterated,
truncated to TD1 and TD3 name fields, swapped, with an OCR or spelling error,
with an alternative or partial date of birth; and namesakes, mixed names and
ordinary names of many countries) and screen every case at the thresholds of
--config's policy or the threshold flags. The table gives recall per
positive kind and false alerts (HIT or POSSIBLE) per negative kind. With
--check the exit status is 1 unless recall is at least 99% on every positive
kind and false alerts at most 1% on every negative kind. The temporary store
is removed at the end; nothing is printed but counts.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(from) == 0 {
				return cli.Exit(2, errors.New("--from is required (un:FILE, ofac:DIR, csl:FILE)"))
			}
			var specs []lists.Spec
			for _, f := range from {
				sp, err := lists.ParseSpec(f)
				if err != nil {
					return cli.Exit(2, err)
				}
				specs = append(specs, sp)
			}
			levels, err := th.thresholds(configPath)
			if err != nil {
				return cli.Exit(2, err)
			}
			snap, err := lists.Build(specs, lists.Options{})
			if err != nil {
				return cli.Exit(2, err)
			}
			res, err := evaluate(cmd.Context(), snap, levels, opts)
			if err != nil {
				return err
			}
			rep := evaluateReport{Thresholds: watchlist.EffectiveThresholds(levels.MatchConfig()), Persons: len(snap.Persons),
				Result: res, BudgetsMet: budgetsMet(res)}
			if jsonOutput(cmd) {
				rep.Result.Misses, rep.Result.Alerts = nil, nil
				if err := cli.WriteJSONLine(cmd.OutOrStdout(), rep); err != nil {
					return err
				}
			} else {
				w := cmd.OutOrStdout()
				t := rep.Thresholds
				fmt.Fprintf(w, "%d listed persons; HIT: score ≥ %.2f, evidence ≥ %.2f; POSSIBLE: score ≥ %.2f, evidence ≥ %.2f\n",
					rep.Persons, t.HitScore, t.HitEvidence, t.PossibleScore, t.PossibleEvidence)
				res.WriteTable(w)
			}
			if check && !rep.BudgetsMet {
				return cli.Exit(1, errors.New("budgets not met: recall < 99% on a positive kind or false alerts > 1% on a negative kind"))
			}
			return nil
		},
	}
	c.Flags().StringArrayVar(&from, "from", nil, "lists: un:FILE, ofac:DIR, csl:FILE (repeatable)")
	c.Flags().StringVar(&configPath, "config", techDefaultConfig, "checkpointd config whose policy sets the thresholds")
	c.Flags().Uint64Var(&opts.Seed, "seed", 1, "seed of the evaluation set")
	c.Flags().IntVar(&opts.Mixed, "mixed", 1000, "negatives made of one person's given names and another's surname")
	c.Flags().IntVar(&opts.Ordinary, "ordinary", 2000, "negatives with ordinary names of many countries")
	c.Flags().BoolVar(&check, "check", false, "exit 1 unless the budgets are met")
	th.register(c)
	return c
}

// evaluate runs the evaluation set of a lists snapshot in a temporary store.
func evaluate(ctx context.Context, snap *lists.Snapshot, levels watchlist.Thresholds, opts evalset.Options) (*evalset.Result, error) {
	dir, err := os.MkdirTemp("", "checkpoint-evaluate-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	kp := seal.FileKey{Path: filepath.Join(dir, "kek")}
	if err := seal.GenerateKeyFile(kp.Path); err != nil {
		return nil, err
	}
	s, err := watchlist.Open(filepath.Join(dir, "watchlist.db"), kp, watchlist.Options{NoSync: true, MatchConfig: levels.MatchConfig()})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	if err := s.ReplaceAll(ctx, watchlist.Meta{WatchlistID: "evaluate", Sequence: 1, IssuedAt: time.Now()}, snap.Changes()); err != nil {
		return nil, err
	}
	return evalset.Run(ctx, s, evalset.Generate(snap.Persons, opts))
}

// budgetsMet reports recall ≥ 99% on every positive kind and false alerts
// ≤ 1% on every negative kind.
func budgetsMet(r *evalset.Result) bool {
	for _, k := range r.Kinds {
		if k.Positive && k.Rate < 0.99 || !k.Positive && k.Rate > 0.01 {
			return false
		}
	}
	return true
}
