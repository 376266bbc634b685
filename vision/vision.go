package vision

import (
	"context"
	"fmt"
	"image"
	"math"
)

// DescriptorLen is the length of dlib's face embedding; other models have
// their own (ModelInfo.Dim), between MinDim and MaxDim.
const DescriptorLen = 128

// ChipSize is the side of the aligned face chip dlib's network reads, the
// chip the quality gate measures and the officer sees.
const ChipSize = 150

// Image is a packed 8-bit RGB image, row-major, len(Pix) == W*H*3.
type Image struct {
	W, H int
	Pix  []byte
}

// NewImage returns a black image of w×h.
func NewImage(w, h int) Image {
	return Image{W: w, H: h, Pix: make([]byte, w*h*3)}
}

// Validate reports whether the dimensions and the buffer agree.
func (m Image) Validate() error {
	if m.W <= 0 || m.H <= 0 {
		return fmt.Errorf("%w: size %dx%d", ErrImage, m.W, m.H)
	}
	if m.W > 1<<15 || m.H > 1<<15 {
		return fmt.Errorf("%w: size %dx%d exceeds 32768", ErrImage, m.W, m.H)
	}
	if len(m.Pix) != m.W*m.H*3 {
		return fmt.Errorf("%w: %d bytes for %dx%d RGB", ErrImage, len(m.Pix), m.W, m.H)
	}
	return nil
}

// Face is one face found in an image.
type Face struct {
	Box        image.Rectangle `json:"box"`
	Confidence float64         `json:"confidence"` // detector score, detector-specific scale
	Landmarks  []image.Point   `json:"landmarks"`  // 68 or 5 points in image coordinates
	Quality    Quality         `json:"quality"`
	// Descriptor is the 128-D embedding, nil when not computed.
	Descriptor []float32 `json:"descriptor,omitempty"`
	// ModelID identifies the embedding model: templates of different models
	// are never compared.
	ModelID string `json:"model_id,omitempty"`
	// Chip is the aligned 150×150 RGB face (dlib's alignment): the quality
	// gate measures it, the officer sees it, and dlib's network reads it.
	Chip Image `json:"-"`
	// Input is the embedding network's own aligned input when it differs
	// from Chip (an ONNX model's template and size); empty means Chip.
	Input Image `json:"-"`
}

// ModelInfo describes a recognizer's embedding model.
type ModelInfo struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Kind is "dlib" or "onnx".
	Kind string `json:"kind"`
	Dim  int    `json:"dim"`
	// Normalized embeddings have unit length.
	Normalized bool   `json:"normalized"`
	Flip       bool   `json:"flip"`
	Licence    string `json:"licence"`
	// Calibration converts false-match targets into distances; nil when
	// the model has none (explicit distances are then required).
	Calibration *Calibration `json:"-"`
}

// Detector finds face boxes in an image.
type Detector interface {
	Detect(img Image) ([]image.Rectangle, error)
}

// Analyzer detects faces, fits landmarks, aligns and measures quality
// without computing embeddings: the cheap half of the pipeline that a
// capture loop runs on every frame.
type Analyzer interface {
	Analyze(ctx context.Context, img Image) ([]Face, error)
}

// Embedder computes the embedding of a face from its aligned chip.
type Embedder interface {
	Embed(ctx context.Context, face Face) ([]float32, error)
}

// Recognizer is the whole pipeline: detect, landmarks, align, quality, embed.
type Recognizer interface {
	Analyzer
	Embedder
	// Faces returns every face with its quality and descriptor, the primary
	// face (the one a capture would pick) first.
	Faces(ctx context.Context, img Image) ([]Face, error)
	ModelID() string
	Info() ModelInfo
	Close() error
}

// Distance returns the Euclidean distance between two descriptors, or +Inf
// when their lengths differ (such templates never match).
func Distance(a, b []float32) float32 {
	if len(a) != len(b) || len(a) == 0 {
		return float32(math.Inf(1))
	}
	var s float32
	for i := range a {
		d := a[i] - b[i]
		s += d * d
	}
	return float32(math.Sqrt(float64(s)))
}

// CheckDescriptor reports whether d is a usable embedding: MinDim to
// MaxDim finite values.
func CheckDescriptor(d []float32) error {
	if len(d) < MinDim || len(d) > MaxDim {
		return fmt.Errorf("%w: %d values, want %d to %d", ErrDescriptor, len(d), MinDim, MaxDim)
	}
	for _, v := range d {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("%w: non-finite value", ErrDescriptor)
		}
	}
	return nil
}

// Compare returns the distance between two templates, refusing templates of
// different models.
func Compare(a, b Face) (float32, error) {
	if a.ModelID != b.ModelID {
		return 0, ErrModelMismatch
	}
	if err := CheckDescriptor(a.Descriptor); err != nil {
		return 0, err
	}
	if err := CheckDescriptor(b.Descriptor); err != nil {
		return 0, err
	}
	if len(a.Descriptor) != len(b.Descriptor) {
		return 0, fmt.Errorf("%w: %d and %d values", ErrDescriptor, len(a.Descriptor), len(b.Descriptor))
	}
	return Distance(a.Descriptor, b.Descriptor), nil
}

// Fuse averages several embeddings of one face (flip averaging, or the best
// frames of a burst) into one template; normalize rescales it to unit
// length, for models whose embeddings are unit vectors.
func Fuse(vecs [][]float32, normalize bool) ([]float32, error) {
	if len(vecs) == 0 {
		return nil, fmt.Errorf("%w: nothing to fuse", ErrDescriptor)
	}
	out := make([]float32, len(vecs[0]))
	for _, v := range vecs {
		if len(v) != len(out) {
			return nil, fmt.Errorf("%w: fusing %d and %d values", ErrDescriptor, len(v), len(out))
		}
		for i, x := range v {
			out[i] += x
		}
	}
	inv := 1 / float32(len(vecs))
	for i := range out {
		out[i] *= inv
	}
	if normalize {
		Normalize(out)
	}
	return out, CheckDescriptor(out)
}

// Normalize scales v to unit length in place (a zero vector stays zero).
func Normalize(v []float32) {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s == 0 {
		return
	}
	k := float32(1 / math.Sqrt(s))
	for i := range v {
		v[i] *= k
	}
}
