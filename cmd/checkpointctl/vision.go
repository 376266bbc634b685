package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/checkpoint-edge/checkpoint/internal/cli"
	"github.com/checkpoint-edge/checkpoint/vision"
	"github.com/checkpoint-edge/checkpoint/vision/facedlib"
	"github.com/checkpoint-edge/checkpoint/vision/facepipe"
)

func init() { rootCmd.AddCommand(newVisionCmd()) }

func newVisionCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "vision",
		Short: "Face pipeline tools: embed photos, compare two faces, calibrate and evaluate on labelled photos, live traffic",
	}
	addPipelineFlags(cmd.PersistentFlags())
	cmd.AddCommand(newVisionEmbedCmd(), newVisionCompareCmd(), newVisionCalibrateCmd(), newVisionEvaluateCmd(), newVisionTrafficCmd())
	return cmd
}

// addPipelineFlags declares the flags that choose and tune the face
// pipeline (read by pipelineOptions).
func addPipelineFlags(pf *pflag.FlagSet) {
	pf.String("models", "", "models directory (default: $CHECKPOINT_MODELS, <repo>/models, ../shared/models)")
	pf.String("embedder", facepipe.EmbedderDlib, "embedding model: dlib (ResNet, default) or onnx (--model)")
	pf.String("model", "", "ONNX model metadata file for --embedder onnx (default: <models>/mobilefacenet.json)")
	pf.String("landmarks", facedlib.DefaultShapePredictor, "landmark model (68 points)")
	pf.String("detector", facedlib.DetectorHOG, "face detector: hog or cnn")
	pf.Bool("fallback", true, "run the CNN detector when HOG finds no face")
	pf.String("flip", "auto", "average each face's embedding with its mirror image's: on, off, or auto (on for dlib, the metadata's choice for ONNX)")
	pf.Int("upsample", 0, "upsample images this many times before HOG detection (finds smaller faces, 4x slower each)")
	pf.Int("workers", runtime.NumCPU(), "concurrent pipelines")
}

// pipelineOptions reads the pipeline flags.
func pipelineOptions(cmd *cobra.Command) (facepipe.Options, error) {
	f := cmd.Flags()
	dir, _ := f.GetString("models")
	emb, _ := f.GetString("embedder")
	model, _ := f.GetString("model")
	if dir == "" {
		d, err := vision.FindModels()
		if err != nil {
			return facepipe.Options{}, cli.Exit(3, err)
		}
		dir = d
	}
	if emb == facepipe.EmbedderONNX && model == "" {
		model = filepath.Join(dir, "mobilefacenet.json")
		if _, err := os.Stat(model); err != nil {
			if root, ok := vision.RepoRoot(); ok {
				model = filepath.Join(root, "models", "mobilefacenet.json")
			}
		}
	}
	o := facepipe.Options{Embedder: emb, Model: model, ModelsDir: dir}
	o.Landmarks, _ = f.GetString("landmarks")
	o.Detector, _ = f.GetString("detector")
	o.Fallback, _ = f.GetBool("fallback")
	switch flip, _ := f.GetString("flip"); flip {
	case "on", "true":
		t := true
		o.Flip = &t
	case "off", "false":
		no := false
		o.Flip = &no
	case "auto", "":
	default:
		return facepipe.Options{}, cli.Exit(2, fmt.Errorf("--flip %q: want on, off or auto", flip))
	}
	o.Upsample, _ = f.GetInt("upsample")
	o.Workers, _ = f.GetInt("workers")
	return o, nil
}

func openRecognizer(cmd *cobra.Command) (vision.Recognizer, error) {
	o, err := pipelineOptions(cmd)
	if err != nil {
		return nil, err
	}
	r, err := facepipe.New(o)
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
		Short: "Print every face found in each image: box, landmarks, quality and embedding",
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
