package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/checkpoint-edge/checkpoint/config"
	"github.com/checkpoint-edge/checkpoint/internal/cli"
	"github.com/checkpoint-edge/checkpoint/vision/traffic"
)

// trafficReport is what `vision traffic` prints: the live top-1 distance
// distribution at the unit and the alert rates the bands give on it.
// Almost every traveller is not on the list, so the rates are a direct
// (slightly pessimistic) estimate of each band's false-positive
// identification rate on the post's real population.
type trafficReport struct {
	File     string    `json:"file"`
	Searches int       `json:"searches"` // with a template in the watchlist
	Empty    int       `json:"searches_without_templates"`
	From     time.Time `json:"from,omitzero"`
	To       time.Time `json:"to,omitzero"`
	Gallery  int       `json:"gallery_templates"` // at the latest search
	// Quantiles of the top-1 distance: the closest strangers decide the
	// false alerts.
	Quantiles []trafficQuantile `json:"top1_quantiles"`
	// Recorded: each search judged by the bands in force when it ran.
	Recorded trafficRates `json:"recorded"`
	// WhatIf: every search judged by the distances given (--hit,
	// --possible), or else by the latest search's bands.
	WhatIf trafficRates `json:"what_if"`
}

type trafficQuantile struct {
	Q        float64 `json:"q"`
	Distance float32 `json:"distance"`
}

type trafficRates struct {
	Hit          float32 `json:"hit_distance,omitempty"`
	Possible     float32 `json:"possible_distance,omitempty"`
	HitRate      float64 `json:"hit_rate"`
	PossibleRate float64 `json:"hit_or_possible_rate"`
	Hits         int     `json:"hits"`
	Possibles    int     `json:"hits_or_possible"`
}

// summarizeTraffic builds the report; hit and possible (0 = the latest
// search's bands) are the what-if distances.
func summarizeTraffic(file string, recs []traffic.Record, hit, possible float32) trafficReport {
	r := trafficReport{File: file}
	var top []float32
	for _, x := range recs {
		if x.Gallery == 0 || math.IsInf(float64(x.Top1), 1) || math.IsNaN(float64(x.Top1)) {
			r.Empty++
			continue
		}
		if r.From.IsZero() || x.At.Before(r.From) {
			r.From = x.At
		}
		if x.At.After(r.To) {
			r.To = x.At
		}
		r.Gallery = x.Gallery
		top = append(top, x.Top1)
		if x.Top1 <= x.Hit {
			r.Recorded.Hits++
		}
		if x.Top1 <= max(x.Hit, x.Possible) {
			r.Recorded.Possibles++
		}
		if hit == 0 {
			r.WhatIf.Hit = x.Hit
		}
		if possible == 0 {
			r.WhatIf.Possible = x.Possible
		}
	}
	r.Searches = len(top)
	if hit > 0 {
		r.WhatIf.Hit = hit
	}
	if possible > 0 {
		r.WhatIf.Possible = possible
	}
	if r.Searches == 0 {
		return r
	}
	for _, d := range top {
		if d <= r.WhatIf.Hit {
			r.WhatIf.Hits++
		}
		if d <= max(r.WhatIf.Hit, r.WhatIf.Possible) {
			r.WhatIf.Possibles++
		}
	}
	n := float64(r.Searches)
	for _, rt := range []*trafficRates{&r.Recorded, &r.WhatIf} {
		rt.HitRate, rt.PossibleRate = float64(rt.Hits)/n, float64(rt.Possibles)/n
	}
	slices.Sort(top)
	for _, q := range []float64{0, 0.001, 0.01, 0.05, 0.25, 0.5} {
		i := min(int(q*n), len(top)-1)
		r.Quantiles = append(r.Quantiles, trafficQuantile{Q: q, Distance: top[i]})
	}
	return r
}

func (r trafficReport) write(w io.Writer) {
	fmt.Fprintf(w, "%s: %d face searches", r.File, r.Searches)
	if r.Searches > 0 {
		fmt.Fprintf(w, " from %s to %s (hours, UTC), latest gallery %d templates", r.From.UTC().Format("2006-01-02 15h"), r.To.UTC().Format("2006-01-02 15h"), r.Gallery)
	}
	if r.Empty > 0 {
		fmt.Fprintf(w, "; %d with no template to search", r.Empty)
	}
	fmt.Fprintln(w)
	if r.Searches == 0 {
		return
	}
	fmt.Fprint(w, "top-1 distance quantiles:")
	for _, q := range r.Quantiles {
		fmt.Fprintf(w, "  %g%%→%.3f", q.Q*100, q.Distance)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "bands in force at each search: HIT %.3f%% (%d), HIT or possible %.3f%% (%d)\n",
		r.Recorded.HitRate*100, r.Recorded.Hits, r.Recorded.PossibleRate*100, r.Recorded.Possibles)
	fmt.Fprintf(w, "at hit ≤ %.3f, possible ≤ %.3f: HIT %.3f%% (%d), HIT or possible %.3f%% (%d)\n",
		r.WhatIf.Hit, r.WhatIf.Possible, r.WhatIf.HitRate*100, r.WhatIf.Hits, r.WhatIf.PossibleRate*100, r.WhatIf.Possibles)
	fmt.Fprintln(w, "(almost every traveller is not on the list: these rates estimate the false-positive identification rate of each band at this post)")
}

func newVisionTrafficCmd() *cobra.Command {
	var file, configPath string
	var hit, possible float32
	c := &cobra.Command{
		Use:   "traffic [--config FILE | --file PATH] [--hit D] [--possible D]",
		Short: "Live 1:N score distribution at this unit and the alert rate the thresholds give",
		Long: `Read the unit's face traffic log (state_dir/face-traffic: per face search
only the hour, the top-1 distance, the gallery size and the bands in force;
no identity, no image) and print the top-1 distance distribution and the
share of searches that ended, or would end, in a HIT or a possible match.
Almost every traveller is not on the list, so these shares estimate the
false-positive identification rate of each band on the post's real
population. --hit and --possible try other distances (default: the bands
of the latest search). Safe while checkpointd runs.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				cfg, err := config.Load(configPath)
				if err != nil {
					return cli.Exit(2, fmt.Errorf("%w (or give --file PATH)", err))
				}
				file = filepath.Join(cfg.StateDir, traffic.FileName)
			}
			if hit < 0 || possible < 0 || math.IsNaN(float64(hit)) || math.IsNaN(float64(possible)) {
				return cli.Exit(2, fmt.Errorf("--hit %v / --possible %v: want distances ≥ 0", hit, possible))
			}
			recs, err := traffic.Read(file)
			if err != nil {
				return cli.Exit(1, err)
			}
			rep := summarizeTraffic(file, recs, hit, possible)
			if jsonOutput(cmd) {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(rep)
			}
			rep.write(cmd.OutOrStdout())
			return nil
		},
	}
	c.Flags().StringVar(&configPath, "config", techDefaultConfig, "checkpointd's config (its state_dir holds the log)")
	c.Flags().StringVar(&file, "file", "", "the traffic file itself")
	c.Flags().Float32Var(&hit, "hit", 0, "what-if HIT distance (default: the latest search's)")
	c.Flags().Float32Var(&possible, "possible", 0, "what-if possible-match distance (default: the latest search's)")
	return c
}
