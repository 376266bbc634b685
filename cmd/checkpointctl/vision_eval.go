package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/checkpoint-edge/checkpoint/internal/atomicfile"
	"github.com/checkpoint-edge/checkpoint/internal/cli"
	"github.com/checkpoint-edge/checkpoint/vision"
	"github.com/checkpoint-edge/checkpoint/vision/facedlib"
	"github.com/checkpoint-edge/checkpoint/vision/faceeval"
	"github.com/checkpoint-edge/checkpoint/vision/facepipe"
)

// labelledSet is one [GROUP=]DIR argument.
type labelledSet struct {
	Group string
	Dir   string
	Files []vision.LabelledFile
}

// parseSets reads every [GROUP=]DIR argument's labels. The group defaults
// to the folder's name; a labels.csv group column overrides it per photo.
// Photos labelled as group photos are left out.
func parseSets(args []string) ([]labelledSet, error) {
	var out []labelledSet
	for _, a := range args {
		group, dir, ok := strings.Cut(a, "=")
		if !ok {
			dir, group = a, filepath.Base(filepath.Clean(a))
		}
		labels, err := vision.ReadLabels(dir)
		if err != nil {
			return nil, cli.Exit(2, err)
		}
		set := labelledSet{Group: group, Dir: dir}
		for _, l := range labels {
			if strings.Contains(strings.ToLower(l.Note), "group") {
				continue
			}
			if l.Group == "" {
				l.Group = group
			}
			set.Files = append(set.Files, l)
		}
		out = append(out, set)
	}
	return out, nil
}

// cacheKey names everything that changes an embedding.
func cacheKey(o facepipe.Options, modelID string, flip bool) string {
	return fmt.Sprintf("v2|%s|%s|det=%s|fallback=%v|flip=%v|up=%d|lm=%s|max=%d/%d", o.Embedder, modelID, o.Detector, o.Fallback,
		flip, o.Upsample, filepath.Base(o.Landmarks), facedlib.DefaultDetectMaxSide, facedlib.DefaultCNNMaxSide)
}

func defaultCacheDir() string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "checkpoint")
	}
	return filepath.Join(os.TempDir(), "checkpoint-cache")
}

// embedSets embeds the primary face of every photo, through the cache.
// Photos without a face are counted, not returned.
func embedSets(cmd *cobra.Command, r vision.Recognizer, o facepipe.Options, sets []labelledSet) ([]faceeval.Sample, embedStats, error) {
	var st embedStats
	noCache, _ := cmd.Flags().GetBool("no-cache")
	dir, _ := cmd.Flags().GetString("cache")
	if dir == "" {
		dir = defaultCacheDir()
	}
	var cache *faceeval.Cache
	if !noCache {
		c, err := faceeval.OpenCache(dir, cacheKey(o, r.ModelID(), r.Info().Flip))
		if err != nil {
			return nil, st, err
		}
		cache = c
	}
	type job struct {
		f   vision.LabelledFile
		out faceeval.Entry
	}
	var jobs []*job
	for _, s := range sets {
		for _, f := range s.Files {
			jobs = append(jobs, &job{f: f})
		}
	}
	var bar *progressbar.ProgressBar
	if f, ok := cmd.ErrOrStderr().(*os.File); ok && !jsonOutput(cmd) && term.IsTerminal(int(f.Fd())) {
		bar = progressbar.NewOptions(len(jobs), progressbar.OptionSetWriter(cmd.ErrOrStderr()),
			progressbar.OptionSetDescription("embedding "+o.Embedder), progressbar.OptionClearOnFinish())
	}
	var mu sync.Mutex
	sem := make(chan struct{}, max(o.Workers, 1))
	var wg sync.WaitGroup
	ctx := cmd.Context()
	var firstErr error
	for _, j := range jobs {
		data, err := os.ReadFile(j.f.Path)
		if err != nil {
			return nil, st, err
		}
		sum := faceeval.FileSHA256(data)
		if cache != nil {
			if e, ok := cache.Get(sum); ok {
				j.out = e
				st.Cached++
				if bar != nil {
					bar.Add(1)
				}
				continue
			}
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			e := embedOne(ctx, r, data)
			e.SHA256 = sum
			mu.Lock()
			j.out = e
			if cache != nil {
				cache.Put(e)
			}
			if bar != nil {
				bar.Add(1)
			}
			if ctx.Err() != nil && firstErr == nil {
				firstErr = ctx.Err()
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if bar != nil {
		bar.Finish()
	}
	if firstErr != nil {
		return nil, st, firstErr
	}
	if cache != nil {
		if err := cache.Save(); err != nil {
			return nil, st, err
		}
		st.CacheFile = cache.Path()
	}
	var out []faceeval.Sample
	for _, j := range jobs {
		st.Photos++
		switch {
		case j.out.Err != "":
			st.Errors++
		case j.out.Faces == 0:
			st.NoFace++
		default:
			if j.out.Faces > 1 {
				st.SeveralFaces++
			}
			if !j.out.Pass {
				st.GateFailed++
				for _, r := range j.out.Reasons {
					st.reasons(r)
				}
			}
			out = append(out, faceeval.Sample{Person: j.f.Person, Group: j.f.Group, File: j.f.Path, Vec: j.out.Vec,
				Yaw: j.out.Yaw, Pass: j.out.Pass})
		}
	}
	return out, st, nil
}

func embedOne(ctx context.Context, r vision.Recognizer, data []byte) faceeval.Entry {
	img, err := vision.DecodeImage(data)
	if err != nil {
		return faceeval.Entry{Err: err.Error()}
	}
	faces, err := r.Faces(ctx, img)
	if errors.Is(err, vision.ErrNoFace) {
		return faceeval.Entry{}
	}
	if err != nil {
		return faceeval.Entry{Err: err.Error()}
	}
	f := faces[0]
	return faceeval.Entry{Faces: len(faces), Vec: f.Descriptor, Yaw: f.Quality.Yaw, InterEye: f.Quality.InterEye,
		Pass: f.Quality.Pass, Reasons: f.Quality.Reasons}
}

type embedStats struct {
	Photos       int            `json:"photos"`
	Cached       int            `json:"cached"`
	NoFace       int            `json:"no_face"`
	SeveralFaces int            `json:"several_faces"`
	Errors       int            `json:"errors"`
	GateFailed   int            `json:"quality_gate_failed"`
	Reasons      map[string]int `json:"gate_reasons,omitempty"`
	CacheFile    string         `json:"cache_file,omitempty"`
}

func (s *embedStats) reasons(r string) {
	if s.Reasons == nil {
		s.Reasons = map[string]int{}
	}
	s.Reasons[r]++
}

func (s embedStats) String() string {
	var rs []string
	for k, v := range s.Reasons {
		rs = append(rs, fmt.Sprintf("%s %d", k, v))
	}
	sort.Strings(rs)
	return fmt.Sprintf("%d photos (%d from cache): %d without a face, %d with several (the one nearest the centre used), %d unreadable; %d fail the capture gate (%s)",
		s.Photos, s.Cached, s.NoFace, s.SeveralFaces, s.Errors, s.GateFailed, strings.Join(rs, ", "))
}

func addEvalFlags(c *cobra.Command) {
	c.Flags().String("cache", "", "embedding cache directory (default: the user cache dir)/checkpoint")
	c.Flags().Bool("no-cache", false, "embed every photo again, ignoring the cache")
}

func samplesFor(ss []faceeval.Sample) []vision.Sample {
	out := make([]vision.Sample, len(ss))
	for i, s := range ss {
		out[i] = vision.Sample{Label: s.Person, Group: s.Group, Descriptor: s.Vec}
	}
	return out
}

func newVisionCalibrateCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "calibrate [GROUP=]DIR|SET.json...",
		Short: "Measure FMR/FNMR per threshold and per group on labelled photos and recommend thresholds",
		Long: `Measure genuine and impostor distance distributions, FMR/FNMR per threshold,
overall and per population group, and recommend the thresholds that meet the
false-match targets for the worst group (NIST IR 8280): 1:1 at FMR 0.1%, and
1:N at an FPIR of 1% for a gallery of --gallery templates.

Each DIR holds labelled photos: DIR/labels.csv (file,person[,group] or
file,person,note) or one subfolder per person. Its photos form the group
GROUP (default: the folder's name) unless labels.csv names a group per photo.
SET.json is a labelled descriptor set in go-face's idols.json layout,
compared as is (no models needed; its group is GROUP or the file's name).

--write FILE stores the measured calibration (each group's impostor tail),
--write-meta META.json stores it into an ONNX model's metadata: the daemon
converts its false-match targets into distances with it.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			gallery, _ := cmd.Flags().GetInt("gallery")
			var samples []vision.Sample
			var dirs []string
			var sets []string
			for _, a := range args {
				group, path, ok := strings.Cut(a, "=")
				if !ok {
					path = a
					group = strings.TrimSuffix(filepath.Base(filepath.Clean(a)), ".json")
				}
				if strings.HasSuffix(strings.ToLower(path), ".json") {
					ss, err := vision.ReadGoFaceSet(path)
					if err != nil {
						return cli.Exit(2, err)
					}
					for i := range ss {
						ss[i].Group = group
					}
					samples = append(samples, ss...)
					sets = append(sets, group+"="+filepath.Base(path))
					continue
				}
				dirs = append(dirs, a)
				sets = append(sets, group+"="+filepath.Base(filepath.Clean(path)))
			}
			modelID := ""
			var st *embedStats
			if len(dirs) > 0 {
				ls, err := parseSets(dirs)
				if err != nil {
					return err
				}
				o, err := pipelineOptions(cmd)
				if err != nil {
					return err
				}
				r, err := openRecognizer(cmd)
				if err != nil {
					return err
				}
				defer r.Close()
				modelID = r.ModelID()
				es, s, err := embedSets(cmd, r, o, ls)
				if err != nil {
					return err
				}
				st = &s
				samples = append(samples, samplesFor(es)...)
			}
			rep, err := vision.Calibrate(samples, nil, gallery)
			if err != nil {
				return cli.Exit(2, err)
			}
			rep.Calibration.Model, rep.Calibration.Sets = modelID, sets
			if err := writeCalibration(cmd, &rep.Calibration); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if jsonOutput(cmd) {
				return cli.WriteJSONLine(out, map[string]any{"model_id": modelID, "calibration": rep, "embedding": st})
			}
			if st != nil {
				fmt.Fprintln(out, st)
			}
			printCalibration(out, rep, modelID)
			return nil
		},
	}
	c.Flags().Int("gallery", 1000, "gallery size (templates) the 1:N recommendation is for")
	c.Flags().String("write", "", "write the measured calibration (JSON) to this file")
	c.Flags().String("write-meta", "", "store the measured calibration into this ONNX model metadata file")
	addEvalFlags(c)
	return c
}

func writeCalibration(cmd *cobra.Command, cal *vision.Calibration) error {
	if p, _ := cmd.Flags().GetString("write"); p != "" {
		b, err := json.MarshalIndent(cal, "", "  ")
		if err != nil {
			return err
		}
		if err := atomicfile.WriteFile(p, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	p, _ := cmd.Flags().GetString("write-meta")
	if p == "" {
		return nil
	}
	meta, err := vision.ReadModelMeta(p)
	if err != nil {
		return cli.Exit(2, err)
	}
	meta.Calibration = cal
	if err := meta.Validate(); err != nil {
		return cli.Exit(2, err)
	}
	b, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(p, append(b, '\n'), 0o644)
}

func printCalibration(out io.Writer, rep vision.CalibrationReport, modelID string) {
	if modelID == "" {
		modelID = "as given"
	}
	fmt.Fprintf(out, "%d samples of %d people (model %s)\n", rep.Samples, rep.People, modelID)
	groups := append([]vision.GroupStats{rep.All}, rep.Groups...)
	fmt.Fprintf(out, "%-14s %7s %7s %9s %10s %8s %8s %8s %8s\n", "group", "samples", "people", "genuine", "impostor", "gen mean", "imp mean", "imp sd", "EER")
	for _, g := range groups {
		fmt.Fprintf(out, "%-14s %7d %7d %9d %10d %8.3f %8.3f %8.3f %7.2f%%\n", g.Group, g.Samples, g.People, g.GenuinePairs, g.ImpostorPairs,
			g.GenuineMean, g.ImpostorMean, g.ImpostorSD, 100*g.EER)
	}
	fmt.Fprintf(out, "\n%9s", "threshold")
	for _, g := range groups {
		fmt.Fprintf(out, "  %21s", g.Group+" FMR / FNMR")
	}
	fmt.Fprintln(out)
	for i := range rep.All.Table {
		fmt.Fprintf(out, "%9.3f", rep.All.Table[i].Threshold)
		for _, g := range groups {
			r := g.Table[i]
			fmt.Fprintf(out, "  %9.4f%% / %7.2f%%", 100*r.FMR, 100*r.FNMR)
		}
		fmt.Fprintln(out)
	}
	fmt.Fprintln(out, "\nimpostor tails (distance at FMR):")
	for _, t := range rep.Calibration.Groups {
		used := ""
		if t.ImpostorPairs < vision.MinTailPairs {
			used = fmt.Sprintf(" (reported only: fewer than %d impostor pairs)", vision.MinTailPairs)
		}
		var ps []string
		for _, p := range t.Points {
			ps = append(ps, fmt.Sprintf("%g→%.3f", p.FMR, p.Distance))
		}
		fmt.Fprintf(out, "  %-12s %s; extrapolated 1e-5→%.3f 1e-6→%.3f%s\n", t.Group, strings.Join(ps, " "), t.Distance(1e-5), t.Distance(1e-6), used)
	}
	if len(rep.Calibration.Groups) == 0 {
		fmt.Fprintln(out, "\nno recommendation: too few impostor pairs to measure a false-match rate near the targets")
		return
	}
	fmt.Fprintf(out, "\nrecommended 1:1 verification %.3f (target FMR %.1f%% in the worst group)\n", rep.Recommended.Verify1to1, 100*vision.TargetFMR1to1)
	fmt.Fprintf(out, "recommended 1:N search       %.3f (target FPIR %.0f%% for a gallery of %d: FMR %.2g per comparison; worst group %s)\n",
		rep.Recommended.Search1toN, 100*vision.TargetFPIR, rep.Gallery, vision.ComparisonFMR(vision.TargetFPIR, rep.Gallery), rep.WorstGroup)
	for _, g := range groups {
		fmt.Fprintf(out, "  %-14s at 1:1 %.3f: FMR %.4f%% FNMR %.2f%%; at 1:N %.3f: FMR %.5f%% FNMR %.2f%%\n", g.Group,
			g.AtTargets[0].Threshold, 100*g.AtTargets[0].FMR, 100*g.AtTargets[0].FNMR,
			g.AtTargets[1].Threshold, 100*g.AtTargets[1].FMR, 100*g.AtTargets[1].FNMR)
	}
}
