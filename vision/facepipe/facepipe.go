// Package facepipe builds the configured face pipeline: dlib's detector and
// landmarks, then either dlib's ResNet embedding (the default, clear
// licence) or an ONNX model described by a metadata file (vision/faceonnx).
// It is the one place that knows both embedders, so the daemon, the
// technician CLI and the demo choose a model the same way.
//
// Ownership: the returned Recognizer owns everything it loaded; Close it.
package facepipe

import (
	"fmt"
	"log/slog"

	"github.com/checkpoint-edge/checkpoint/vision"
	"github.com/checkpoint-edge/checkpoint/vision/facedlib"
	"github.com/checkpoint-edge/checkpoint/vision/faceonnx"
)

// Embedder names.
const (
	EmbedderDlib = "dlib"
	EmbedderONNX = "onnx"
)

// Options choose and configure the pipeline. Zero values pick defaults.
type Options struct {
	// Embedder is EmbedderDlib (default) or EmbedderONNX.
	Embedder string
	// Model is the ONNX model's metadata file (EmbedderONNX only).
	Model string
	// ModelsDir holds dlib's embedding and CNN detector models.
	ModelsDir string
	// Landmarks is the 68-point landmark model; default Debian's.
	Landmarks string
	// Detector is "hog" (default) or "cnn"; Fallback runs the CNN when HOG
	// finds nothing; CNNMaxSide bounds the CNN's input (facedlib).
	Detector   string
	Fallback   bool
	CNNMaxSide int
	Upsample   int
	// Flip averages each face's embedding with its mirror image's (one
	// more network pass per face). nil means the model's default: on for
	// dlib, the metadata's flip for an ONNX model.
	Flip    *bool
	Workers int
	Policy  *vision.QualityPolicy
	Logger  *slog.Logger
}

// New loads the pipeline.
func New(o Options) (vision.Recognizer, error) {
	dl := facedlib.Options{ModelsDir: o.ModelsDir, ShapePredictor: o.Landmarks, Detector: o.Detector, Fallback: o.Fallback,
		CNNMaxSide: o.CNNMaxSide, Upsample: o.Upsample, Workers: o.Workers, Policy: o.Policy, Logger: o.Logger, Flip: o.Flip == nil || *o.Flip}
	switch o.Embedder {
	case "", EmbedderDlib:
		return facedlib.New(dl)
	case EmbedderONNX:
		if o.Model == "" {
			return nil, fmt.Errorf("%w: the onnx embedder needs a model metadata file", vision.ErrModel)
		}
		dl.NoEmbedding, dl.Flip = true, false
		det, err := facedlib.New(dl)
		if err != nil {
			return nil, err
		}
		rec, err := faceonnx.New(faceonnx.Options{Meta: o.Model, Analyzer: det, Workers: o.Workers, Logger: o.Logger, Flip: o.Flip})
		if err != nil {
			det.Close()
			return nil, err
		}
		return &withDetector{Recognizer: rec, det: det}, nil
	}
	return nil, fmt.Errorf("vision: unknown embedder %q (want dlib or onnx)", o.Embedder)
}

// withDetector closes the ONNX recognizer, then the detector it borrowed.
type withDetector struct {
	*faceonnx.Recognizer
	det *facedlib.Recognizer
}

func (w *withDetector) Close() error {
	err := w.Recognizer.Close()
	w.det.Close()
	return err
}
