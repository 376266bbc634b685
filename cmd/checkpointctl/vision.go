package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/checkpoint-edge/checkpoint/internal/cli"
	"github.com/checkpoint-edge/checkpoint/vision"
	"github.com/checkpoint-edge/checkpoint/vision/facedlib"
)

func init() { rootCmd.AddCommand(newVisionCmd()) }

func newVisionCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "vision",
		Short: "Face pipeline tools: embed photos, compare two faces, calibrate thresholds",
	}
	pf := cmd.PersistentFlags()
	pf.String("models", "", "models directory (default: $CHECKPOINT_MODELS, <repo>/models, ../shared/models)")
	pf.String("landmarks", facedlib.DefaultShapePredictor, "landmark model (68 or 5 points)")
	pf.String("detector", facedlib.DetectorHOG, "face detector: hog or cnn")
	pf.Int("upsample", 0, "upsample images this many times before detection (finds smaller faces, 4x slower each)")
	pf.Int("workers", runtime.NumCPU(), "concurrent pipelines")
	cmd.AddCommand(newVisionEmbedCmd(), newVisionCompareCmd(), newVisionCalibrateCmd())
	return cmd
}

func openRecognizer(cmd *cobra.Command) (*facedlib.Recognizer, error) {
	f := cmd.Flags()
	dir, _ := f.GetString("models")
	if dir == "" {
		d, err := vision.FindModels()
		if err != nil {
			return nil, cli.Exit(3, err)
		}
		dir = d
	}
	shape, _ := f.GetString("landmarks")
	det, _ := f.GetString("detector")
	up, _ := f.GetInt("upsample")
	workers, _ := f.GetInt("workers")
	r, err := facedlib.New(facedlib.Options{ModelsDir: dir, ShapePredictor: shape, Detector: det, Upsample: up, Workers: workers})
	if err != nil {
		return nil, cli.Exit(3, err)
	}
	return r, nil
}

type jsonFace struct {
	Box        [4]int         `json:"box"` // left, top, right, bottom (exclusive)
	Confidence float64        `json:"confidence"`
	Landmarks  [][2]int       `json:"landmarks"`
	Quality    vision.Quality `json:"quality"`
	ModelID    string         `json:"model_id"`
	Embedding  []float32      `json:"embedding"`
}

type jsonImage struct {
	Path  string     `json:"path"`
	Faces []jsonFace `json:"faces"`
	Error string     `json:"error,omitempty"`
}

func toJSONFace(f vision.Face) jsonFace {
	j := jsonFace{
		Box:        [4]int{f.Box.Min.X, f.Box.Min.Y, f.Box.Max.X, f.Box.Max.Y},
		Confidence: f.Confidence, Quality: f.Quality, ModelID: f.ModelID, Embedding: f.Descriptor,
		Landmarks: make([][2]int, len(f.Landmarks)),
	}
	for i, p := range f.Landmarks {
		j.Landmarks[i] = [2]int{p.X, p.Y}
	}
	return j
}

// result of running the pipeline on one file.
type imageFaces struct {
	path  string
	faces []vision.Face
	err   error
}

// facesOf runs the pipeline over paths with r's workers, calling done in
// input order as results complete.
func facesOf(ctx context.Context, r vision.Recognizer, paths []string, workers int, done func(imageFaces) error) error {
	results := make([]chan imageFaces, len(paths))
	for i := range results {
		results[i] = make(chan imageFaces, 1)
	}
	sem := make(chan struct{}, max(workers, 1))
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(ctx)
	defer func() { cancel(); wg.Wait() }()
	go func() {
		for i, p := range paths {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				img, err := vision.LoadImage(p)
				var faces []vision.Face
				if err == nil {
					faces, err = r.Faces(ctx, img)
					if errors.Is(err, vision.ErrNoFace) {
						err = nil
					}
				}
				results[i] <- imageFaces{path: p, faces: faces, err: err}
			}()
		}
	}()
	for _, ch := range results {
		select {
		case res := <-ch:
			if err := done(res); err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func newVisionEmbedCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "embed IMAGE...",
		Short: "Print every face found in each image: box, landmarks, quality and 128-D embedding",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := openRecognizer(cmd)
			if err != nil {
				return err
			}
			defer r.Close()
			workers, _ := cmd.Flags().GetInt("workers")
			out := cmd.OutOrStdout()
			asJSON := jsonOutput(cmd)
			failed := 0
			err = facesOf(cmd.Context(), r, args, workers, func(res imageFaces) error {
				if res.err != nil {
					failed++
				}
				if asJSON {
					ji := jsonImage{Path: res.path, Faces: []jsonFace{}}
					if res.err != nil {
						ji.Error = res.err.Error()
					}
					for _, f := range res.faces {
						ji.Faces = append(ji.Faces, toJSONFace(f))
					}
					return cli.WriteJSONLine(out, ji)
				}
				if res.err != nil {
					fmt.Fprintf(out, "%s: error: %v\n", res.path, res.err)
					return nil
				}
				printFaces(out, res.path, res.faces)
				return nil
			})
			if err != nil {
				return err
			}
			if failed > 0 {
				return cli.Exit(1, fmt.Errorf("vision embed: %d of %d images failed", failed, len(args)))
			}
			return nil
		},
	}
}

func printFaces(w io.Writer, path string, faces []vision.Face) {
	fmt.Fprintf(w, "%s: %d face(s)\n", path, len(faces))
	for i, f := range faces {
		q := f.Quality
		verdict := "pass"
		if !q.Pass {
			verdict = fmt.Sprintf("fail %v", q.Reasons)
		}
		fmt.Fprintf(w, "  face %d: box (%d,%d)-(%d,%d) confidence %.2f model %s\n", i, f.Box.Min.X, f.Box.Min.Y, f.Box.Max.X, f.Box.Max.Y, f.Confidence, f.ModelID)
		fmt.Fprintf(w, "    quality %.2f %s: inter-eye %.1f px, sharpness %.1f, brightness %.1f, contrast %.1f, yaw %.1f°, roll %.1f°, faces in zone %d\n",
			q.Score, verdict, q.InterEye, q.Sharpness, q.Brightness, q.Contrast, q.Yaw, q.Roll, q.FacesInZone)
		fmt.Fprintf(w, "    landmarks %d:", len(f.Landmarks))
		for _, p := range f.Landmarks {
			fmt.Fprintf(w, " %d,%d", p.X, p.Y)
		}
		fmt.Fprintf(w, "\n    embedding:")
		for _, v := range f.Descriptor {
			fmt.Fprintf(w, " %.6f", v)
		}
		fmt.Fprintln(w)
	}
}

func primaryFace(ctx context.Context, r vision.Recognizer, path string) (vision.Face, error) {
	img, err := vision.LoadImage(path)
	if err != nil {
		return vision.Face{}, err
	}
	faces, err := r.Faces(ctx, img)
	if err != nil {
		return vision.Face{}, fmt.Errorf("%s: %w", path, err)
	}
	return faces[0], nil
}

func newVisionCompareCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "compare A B",
		Short: "Distance between the main faces of two images, with the 1:1 verdict",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			th, _ := cmd.Flags().GetFloat32("threshold")
			r, err := openRecognizer(cmd)
			if err != nil {
				return err
			}
			defer r.Close()
			a, err := primaryFace(cmd.Context(), r, args[0])
			if err != nil {
				return err
			}
			b, err := primaryFace(cmd.Context(), r, args[1])
			if err != nil {
				return err
			}
			d, err := vision.Compare(a, b)
			if err != nil {
				return err
			}
			same := d <= th
			if jsonOutput(cmd) {
				return cli.WriteJSONLine(cmd.OutOrStdout(), map[string]any{
					"a": args[0], "b": args[1], "distance": d, "threshold": th, "same_person": same,
					"search_threshold": vision.DefaultThresholds.Search1toN, "watchlist_hit": d <= vision.DefaultThresholds.Search1toN,
					"quality_a": a.Quality, "quality_b": b.Quality, "model_id": r.ModelID(),
				})
			}
			verdict := "different people"
			if same {
				verdict = "same person"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "distance %.4f: %s (1:1 threshold %.2f; 1:N threshold %.2f)\n", d, verdict, th, vision.DefaultThresholds.Search1toN)
			return nil
		},
	}
	cmd.Flags().Float32("threshold", vision.DefaultThresholds.Verify1to1, "1:1 verification threshold")
	return cmd
}

func newVisionCalibrateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "calibrate DIR|SET.json",
		Short: "Measure FMR/FNMR per threshold on labelled photos and recommend thresholds",
		Long: `Measure genuine and impostor distance distributions and FMR/FNMR per threshold.

DIR holds labelled photos: DIR/labels.csv (file,person,note) or one subfolder
per person. Photos with other than exactly one face are skipped and listed.
SET.json is a labelled descriptor set in go-face's idols.json layout, compared
as is (no models needed).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.HasSuffix(strings.ToLower(args[0]), ".json") {
				samples, err := vision.ReadGoFaceSet(args[0])
				if err != nil {
					return cli.Exit(2, err)
				}
				return reportCalibration(cmd, samples, "", nil)
			}
			labels, err := vision.ReadLabels(args[0])
			if err != nil {
				return cli.Exit(2, err)
			}
			r, err := openRecognizer(cmd)
			if err != nil {
				return err
			}
			defer r.Close()
			workers, _ := cmd.Flags().GetInt("workers")
			asJSON := jsonOutput(cmd)
			person := map[string]string{}
			paths := make([]string, len(labels))
			for i, l := range labels {
				paths[i] = l.Path
				person[l.Path] = l.Person
			}
			var bar *progressbar.ProgressBar
			if !asJSON {
				bar = progressbar.NewOptions(len(paths), progressbar.OptionSetWriter(cmd.ErrOrStderr()),
					progressbar.OptionSetDescription("embedding"), progressbar.OptionClearOnFinish())
			}
			var samples []vision.Sample
			var skipped []calibrationSkip
			err = facesOf(cmd.Context(), r, paths, workers, func(res imageFaces) error {
				if bar != nil {
					bar.Add(1)
				}
				switch {
				case res.err != nil:
					skipped = append(skipped, calibrationSkip{res.path, res.err.Error()})
				case len(res.faces) != 1:
					skipped = append(skipped, calibrationSkip{res.path, fmt.Sprintf("%d faces", len(res.faces))})
				default:
					samples = append(samples, vision.Sample{Label: person[res.path], Descriptor: res.faces[0].Descriptor})
				}
				return nil
			})
			if bar != nil {
				bar.Finish()
			}
			if err != nil {
				return err
			}
			return reportCalibration(cmd, samples, r.ModelID(), skipped)
		},
	}
}

type calibrationSkip struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

func reportCalibration(cmd *cobra.Command, samples []vision.Sample, modelID string, skipped []calibrationSkip) error {
	c, err := vision.Calibrate(samples, nil)
	if err != nil {
		return cli.Exit(2, err)
	}
	out := cmd.OutOrStdout()
	if jsonOutput(cmd) {
		return cli.WriteJSONLine(out, map[string]any{"model_id": modelID, "calibration": c, "skipped": skipped, "defaults": vision.DefaultThresholds})
	}
	for _, s := range skipped {
		fmt.Fprintf(out, "skipped %s: %s\n", filepath.Base(s.Path), s.Reason)
	}
	if modelID == "" {
		modelID = "as given"
	}
	fmt.Fprintf(out, "%d samples of %d people (model %s)\n", c.Samples, c.People, modelID)
	fmt.Fprintf(out, "genuine pairs  %7d  mean %.3f  max %.3f\n", c.GenuinePairs, c.GenuineMean, c.GenuineMax)
	fmt.Fprintf(out, "impostor pairs %7d  mean %.3f  sd %.3f  min %.3f\n", c.ImpostorPairs, c.ImpostorMean, c.ImpostorSD, c.ImpostorMin)
	fmt.Fprintf(out, "equal error rate %.2f%% at %.3f\n\n", 100*c.EER, c.EERThreshold)
	fmt.Fprintf(out, "%9s  %9s  %9s  %6s  %6s\n", "threshold", "FMR", "FNMR", "FM", "FNM")
	for _, row := range c.Table {
		fmt.Fprintf(out, "%9.3f  %8.3f%%  %8.3f%%  %6d  %6d\n", row.Threshold, 100*row.FMR, 100*row.FNMR, row.FalseMatches, row.FalseNonMatches)
	}
	fmt.Fprintf(out, "\nrecommended 1:1 verification %.3f (FMR %.3f%%, FNMR %.2f%%; target FMR %.1f%%)\n",
		c.Recommended.Verify1to1, 100*c.AtRecommended[0].FMR, 100*c.AtRecommended[0].FNMR, 100*vision.TargetFMR1to1)
	fmt.Fprintf(out, "recommended 1:N search       %.3f (FMR %.4f%%, FNMR %.2f%%; target FMR %.4f%% per comparison)\n",
		c.Recommended.Search1toN, 100*c.AtRecommended[1].FMR, 100*c.AtRecommended[1].FNMR, 100*vision.TargetFMR1toN)
	fmt.Fprintf(out, "built-in defaults: 1:1 %.3f, 1:N %.3f\n", vision.DefaultThresholds.Verify1to1, vision.DefaultThresholds.Search1toN)
	return nil
}
