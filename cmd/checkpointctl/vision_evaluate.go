package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/checkpoint-edge/checkpoint/internal/cli"
	"github.com/checkpoint-edge/checkpoint/vision"
	"github.com/checkpoint-edge/checkpoint/vision/faceeval"
	"github.com/checkpoint-edge/checkpoint/vision/facepipe"
)

// modelEvaluation is everything `vision evaluate` measures for one model.
type modelEvaluation struct {
	Embedder       string                    `json:"embedder"`
	Model          vision.ModelInfo          `json:"model"`
	Embedding      embedStats                `json:"embedding"`
	Verification   []faceeval.Verification   `json:"verification"`
	Identification []faceeval.Identification `json:"identification"`
	// Bands are the daemon's default 1:N thresholds for this gallery,
	// from the model's calibration (absent without one).
	Bands *bandsAt           `json:"daemon_bands,omitempty"`
	Pose  []faceeval.PoseRow `json:"pose"`
}

type bandsAt struct {
	Gallery      int     `json:"gallery_templates"`
	HitFPIR      float64 `json:"hit_fpir_target"`
	PossibleFPIR float64 `json:"possible_fpir_target"`
	Hit          float32 `json:"hit_distance"`
	Possible     float32 `json:"possible_distance"`
}

func newVisionEvaluateCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "evaluate [GROUP=]DIR...",
		Short: "Measure 1:1 verification and 1:N identification on labelled photos, per model and group",
		Long: `Measure the face pipeline on labelled photos (labels.csv or one subfolder per
person; GROUP defaults to the folder's name, a labels.csv group column
overrides it per photo):

  1:1   every pair of photos: 10-fold accuracy (people disjoint across
        folds, as many impostor as genuine pairs), TAR at FAR 1% and 0.1%
        over all pairs, the equal error rate; per group and for all sets;
  1:N   a gallery of every identity (its first --enrol photos); each other
        photo is a mated search and, against the gallery without its own
        identity, a non-mated one: rank-1, FNIR at FPIR 1% and 0.1% (a
        search fails unless the mate is the top candidate within the
        threshold), and the rates at the daemon's default bands;
  pose  genuine pairs by head turn: what the quality gate's yaw limit buys.

--embedders compares several models in one run; --det draws the DET curves
as a PNG. Embeddings are cached (see --cache), so a second run is fast.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sets, err := parseSets(args)
			if err != nil {
				return err
			}
			embedders, _ := cmd.Flags().GetStringSlice("embedders")
			if len(embedders) == 0 {
				e, _ := cmd.Flags().GetString("embedder")
				embedders = []string{e}
			}
			enrol, _ := cmd.Flags().GetInt("enrol")
			var all []modelEvaluation
			var detVerify, detIdent []faceeval.Curve
			for _, emb := range embedders {
				o, err := pipelineOptions(cmd)
				if err != nil {
					return err
				}
				o.Embedder = emb
				if emb == facepipe.EmbedderONNX {
					if m, _ := cmd.Flags().GetString("model"); m == "" {
						cmd.Flags().Set("embedder", emb)
						if o, err = pipelineOptions(cmd); err != nil {
							return err
						}
					}
				}
				r, err := facepipe.New(o)
				if err != nil {
					return cli.Exit(3, err)
				}
				ev, err := evaluateModel(cmd, r, o, sets, enrol)
				r.Close()
				if err != nil {
					return err
				}
				all = append(all, ev)
				for _, v := range ev.Verification {
					detVerify = append(detVerify, faceeval.Curve{Label: emb + " " + v.Group, Points: v.DET})
				}
				for _, id := range ev.Identification {
					if id.Enrol == enrol && !id.Fused {
						detIdent = append(detIdent, faceeval.Curve{Label: fmt.Sprintf("%s %s (gallery %d)", emb, id.Group, id.Gallery), Points: id.DET})
					}
				}
			}
			if p, _ := cmd.Flags().GetString("det"); p != "" {
				f, err := os.Create(p)
				if err != nil {
					return err
				}
				err = faceeval.WriteDET(f, []faceeval.Panel{
					{Title: "1:1 verification (DET)", XLabel: "false match rate", YLabel: "FNMR", Curves: detVerify},
					{Title: "1:N identification, gallery of all identities", XLabel: "false positive identification rate", YLabel: "FNIR", Curves: detIdent},
				})
				if cerr := f.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					return err
				}
			}
			out := cmd.OutOrStdout()
			if jsonOutput(cmd) {
				return cli.WriteJSONLine(out, map[string]any{"models": all})
			}
			for _, ev := range all {
				printEvaluation(out, ev)
			}
			return nil
		},
	}
	c.Flags().StringSlice("embedders", nil, "models to compare, e.g. dlib,onnx (default: --embedder)")
	c.Flags().Int("enrol", 1, "photos enrolled per identity in the 1:N gallery (2 or more also reports fused templates)")
	c.Flags().String("det", "", "write DET curves to this PNG file")
	addEvalFlags(c)
	return c
}

func evaluateModel(cmd *cobra.Command, r vision.Recognizer, o facepipe.Options, sets []labelledSet, enrol int) (modelEvaluation, error) {
	info := r.Info()
	ev := modelEvaluation{Embedder: o.Embedder, Model: info}
	samples, st, err := embedSets(cmd, r, o, sets)
	if err != nil {
		return ev, err
	}
	ev.Embedding = st
	groups := map[string][]faceeval.Sample{}
	var order []string
	for _, s := range samples {
		if _, ok := groups[s.Group]; !ok {
			order = append(order, s.Group)
		}
		groups[s.Group] = append(groups[s.Group], s)
	}
	name := "all"
	if len(order) == 1 {
		name = order[0]
	}
	v, err := faceeval.Verify(name, samples, 1)
	if err != nil {
		return ev, cli.Exit(2, err)
	}
	ev.Verification = append(ev.Verification, v)
	if len(order) > 1 {
		for _, g := range order {
			gv, err := faceeval.Verify(g, groups[g], 1)
			if err != nil {
				continue // a group too small to pair is reported by its absence
			}
			ev.Verification = append(ev.Verification, gv)
		}
	}
	idOpts := faceeval.IdentifyOptions{Enrol: enrol, Normalize: info.Normalized}
	base, err := faceeval.Identify(name, samples, idOpts)
	if err != nil {
		return ev, cli.Exit(2, err)
	}
	if info.Calibration != nil {
		b := &bandsAt{Gallery: base.Templates, HitFPIR: vision.DefaultHitFPIR, PossibleFPIR: vision.DefaultPossibleFPIR}
		b.Hit = info.Calibration.SearchDistance(b.HitFPIR, b.Gallery)
		b.Possible = info.Calibration.SearchDistance(b.PossibleFPIR, b.Gallery)
		ev.Bands = b
		idOpts.Thresholds = []float32{b.Hit, b.Possible}
		if base, err = faceeval.Identify(name, samples, idOpts); err != nil {
			return ev, cli.Exit(2, err)
		}
	}
	ev.Identification = append(ev.Identification, base)
	if len(order) > 1 {
		for _, g := range order {
			gOpts := idOpts
			gOpts.ProbeGroup = g
			if gi, err := faceeval.Identify(g+" probes", samples, gOpts); err == nil {
				ev.Identification = append(ev.Identification, gi)
			}
		}
	}
	if enrol >= 2 {
		fOpts := idOpts
		fOpts.Fuse = true
		if fi, err := faceeval.Identify(name, samples, fOpts); err == nil {
			ev.Identification = append(ev.Identification, fi)
		}
	}
	t1 := float32(0)
	for _, a := range v.TAR {
		if a.Target == 1e-3 {
			t1 = a.Threshold
		}
	}
	ev.Pose = faceeval.PoseTable(samples, t1)
	return ev, nil
}

func pct(v float64) string { return fmt.Sprintf("%.2f%%", 100*v) }

func printEvaluation(out io.Writer, ev modelEvaluation) {
	m := ev.Model
	fmt.Fprintf(out, "== %s: %s (model %s, %d-D, flip %v)\n", ev.Embedder, m.Name, m.ID, m.Dim, m.Flip)
	fmt.Fprintf(out, "   licence: %s\n   %s\n", m.Licence, ev.Embedding)
	fmt.Fprintf(out, "1:1 verification\n  %-16s %7s %7s %8s %9s %17s %8s %12s %12s\n", "group", "samples", "people", "genuine", "impostor", "accuracy (10-fold)", "EER", "TAR@FAR1%", "TAR@FAR0.1%")
	for _, v := range ev.Verification {
		tar := func(i int) string {
			if i >= len(v.TAR) {
				return "-"
			}
			s := fmt.Sprintf("%s (%.3f)", pct(v.TAR[i].TP), v.TAR[i].Threshold)
			if !v.TAR[i].Measurable {
				s += "*"
			}
			return s
		}
		fmt.Fprintf(out, "  %-16s %7d %7d %8d %9d %10s ± %5s %8s %17s %17s\n", v.Group, v.Samples, v.People, v.GenuinePairs, v.ImpostorPairs,
			pct(v.Accuracy), pct(v.AccuracySD), pct(v.EER), tar(0), tar(1))
	}
	fmt.Fprintf(out, "1:N identification (mated search fails unless the mate is the top candidate within the threshold)\n")
	fmt.Fprintf(out, "  %-22s %8s %9s %7s %8s %7s %22s %22s %16s\n", "probes", "gallery", "templates", "mated", "non-mat", "rank-1", "FNIR@FPIR1%", "FNIR@FPIR0.1%", "list FNIR@1%")
	for _, id := range ev.Identification {
		label := id.Group
		if id.Enrol > 1 {
			label += fmt.Sprintf(" enrol %d", id.Enrol)
			if id.Fused {
				label += " fused"
			}
		}
		f := func(i int) string {
			if i >= len(id.FNIR) {
				return "-"
			}
			s := fmt.Sprintf("%s (%.3f)", pct(1-id.FNIR[i].TP), id.FNIR[i].Threshold)
			if !id.FNIR[i].Measurable {
				s += "*"
			}
			return s
		}
		list := "-"
		if len(id.FNIRList) > 0 {
			list = fmt.Sprintf("%s (top %d)", pct(1-id.FNIRList[0].TP), id.Candidates)
		}
		fmt.Fprintf(out, "  %-22s %8d %9d %7d %8d %7s %22s %22s %16s\n", label, id.Gallery, id.Templates, id.Mated, id.NonMated, pct(id.Rank1), f(0), f(1), list)
	}
	if b := ev.Bands; b != nil && len(ev.Identification) > 0 {
		fmt.Fprintf(out, "daemon default bands for a gallery of %d templates (calibrated targets): hit ≤ %.3f (FPIR %g), possible ≤ %.3f (FPIR %g)\n",
			b.Gallery, b.Hit, b.HitFPIR, b.Possible, b.PossibleFPIR)
		for _, id := range ev.Identification {
			if len(id.At) != 2 || id.Enrol > 1 {
				continue
			}
			fmt.Fprintf(out, "  %-22s hit band: FPIR %s FNIR %s; hit or possible: FPIR %s FNIR %s\n", id.Group,
				pct(id.At[0].FP), pct(id.At[0].FN), pct(id.At[1].FP), pct(id.At[1].FN))
		}
	}
	fmt.Fprintf(out, "pose (genuine pairs by the larger |yaw| of the two photos; FNMR at the FAR 0.1%% threshold)\n")
	var rows []string
	for _, p := range ev.Pose {
		rows = append(rows, fmt.Sprintf("%s: %d pairs, mean %.3f, FNMR %s", p.Bucket, p.Pairs, p.Mean, pct(p.FNMR)))
	}
	fmt.Fprintf(out, "  %s\n", strings.Join(rows, "\n  "))
	fmt.Fprintln(out, "  (* fewer negatives than 1/target: an optimistic bound)")
	_ = math.Inf
}
