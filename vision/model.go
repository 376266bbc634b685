package vision

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
)

// ModelMeta describes an ONNX face-embedding model: everything about its
// input and output that the network file does not say. It is read from a
// JSON file beside the model (models/mobilefacenet.json is the example), so
// an agency can point the configuration at its own model without code.
type ModelMeta struct {
	// Format is the metadata format version, 1.
	Format int `json:"format"`
	// Name is a human-readable name for logs and reports.
	Name string `json:"name"`
	// File is the ONNX network, relative to the metadata file.
	File string `json:"file"`
	// SHA256 is the network file's checksum; the loader refuses a file
	// that differs. Empty skips the check.
	SHA256 string `json:"sha256,omitempty"`
	// Licence states the terms of the weights, for status and reports.
	Licence string    `json:"licence"`
	Input   MetaInput `json:"input"`
	// Alignment is where the five ArcFace points (eye centres, nose tip,
	// mouth corners; image-left first) land in the input image.
	Alignment MetaAlignment `json:"alignment"`
	Output    MetaOutput    `json:"output"`
	// Flip is the model's default for flip averaging (the embeddings of the
	// face and of its mirror image, averaged); the pipeline may override it.
	Flip bool `json:"flip"`
	// Calibration is the model's measured impostor score distribution
	// (`checkpointctl vision calibrate --write-meta`); without it the
	// daemon needs explicit distances in its configuration.
	Calibration *Calibration `json:"calibration,omitempty"`

	path string // the metadata file, for resolving File
}

// MetaInput is the network's input tensor: an NCHW float image.
type MetaInput struct {
	Name   string `json:"name"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	// Color is the channel order, "rgb" or "bgr".
	Color string `json:"color"`
	// Pixels are fed as (value − Mean[c]) / Std[c], channel c in Color order.
	Mean [3]float32 `json:"mean"`
	Std  [3]float32 `json:"std"`
}

// MetaAlignment is the landmark template, in input pixel coordinates.
type MetaAlignment struct {
	Points [5][2]float64 `json:"points"`
}

// MetaOutput is the embedding the network produces.
type MetaOutput struct {
	Name string `json:"name"`
	Dim  int    `json:"dim"`
	// Normalize scales embeddings to unit length (distances then lie in
	// [0, 2]); ArcFace-family models are compared that way.
	Normalize bool `json:"normalize"`
}

// Limits on what a metadata file may ask for.
const (
	MinDim   = 16
	MaxDim   = 4096
	maxInput = 1024
)

// ReadModelMeta reads and validates a metadata file.
func ReadModelMeta(path string) (*ModelMeta, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: model metadata: %w", ErrModel, err)
	}
	m, err := ParseModelMeta(b)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	m.path = path
	return m, nil
}

// ParseModelMeta decodes metadata strictly (unknown keys are errors) and
// validates it.
func ParseModelMeta(b []byte) (*ModelMeta, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var m ModelMeta
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: model metadata: %w", ErrModel, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: model metadata: trailing data", ErrModel)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// Validate reports every problem at once.
func (m *ModelMeta) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf(format, args...))
	}
	if m.Format != 1 {
		bad("format %d (this build reads 1)", m.Format)
	}
	if m.File == "" || strings.Contains(m.File, "\x00") {
		bad("file: required")
	}
	if m.SHA256 != "" {
		if b, err := hex.DecodeString(m.SHA256); err != nil || len(b) != 32 {
			bad("sha256: want 64 hex digits")
		}
	}
	in := m.Input
	if in.Name == "" {
		bad("input.name: required")
	}
	if in.Width < 16 || in.Height < 16 || in.Width > maxInput || in.Height > maxInput {
		bad("input: %dx%d, want 16..%d", in.Width, in.Height, maxInput)
	}
	if in.Color != "rgb" && in.Color != "bgr" {
		bad("input.color: %q, want rgb or bgr", in.Color)
	}
	for c := 0; c < 3; c++ {
		if !finite(float64(in.Mean[c])) || !finite(float64(in.Std[c])) || in.Std[c] <= 0 {
			bad("input: mean and std must be finite, std positive")
			break
		}
	}
	for i, p := range m.Alignment.Points {
		if !finite(p[0]) || !finite(p[1]) || p[0] < 0 || p[1] < 0 || p[0] > float64(in.Width) || p[1] > float64(in.Height) {
			bad("alignment.points[%d]: %v outside the %dx%d input", i, p, in.Width, in.Height)
		}
	}
	if m.Alignment.Points[0][0] >= m.Alignment.Points[1][0] {
		bad("alignment.points: the image-left eye comes first")
	}
	if m.Output.Name == "" {
		bad("output.name: required")
	}
	if m.Output.Dim < MinDim || m.Output.Dim > MaxDim {
		bad("output.dim: %d, want %d..%d", m.Output.Dim, MinDim, MaxDim)
	}
	if m.Calibration != nil {
		if err := m.Calibration.Validate(); err != nil {
			bad("calibration: %v", err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: model metadata: %w", ErrModel, errors.Join(errs...))
	}
	return nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Template returns the alignment points.
func (m *ModelMeta) Template() [5]Point2 {
	var t [5]Point2
	for i, p := range m.Alignment.Points {
		t[i] = Point2{p[0], p[1]}
	}
	return t
}

// ModelPath is File resolved against the metadata file's directory.
func (m *ModelMeta) ModelPath() string {
	if filepath.IsAbs(m.File) {
		return m.File
	}
	return filepath.Join(filepath.Dir(m.path), m.File)
}

// Path is the metadata file the model was read from.
func (m *ModelMeta) Path() string { return m.path }

// ModelID derives the model id of an ONNX embedder from the network bytes
// and the preprocessing that places its embeddings in their space (input,
// alignment, output); the name, licence, calibration and flip averaging
// (which moves an embedding a little within the same space) do not change it.
func (m *ModelMeta) ModelID(network []byte) string {
	pre, _ := json.Marshal(struct {
		I MetaInput
		A MetaAlignment
		O MetaOutput
	}{m.Input, m.Alignment, m.Output})
	h := sha256.New()
	h.Write(network)
	h.Write([]byte{0})
	h.Write(pre)
	return "onnx-" + hex.EncodeToString(h.Sum(nil))[:16]
}
