package faceonnx

// #include <stdlib.h>
// #include "net.h"
import "C"

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync"
	"unsafe"

	"github.com/checkpoint-edge/checkpoint/vision"
)

// Net is one OpenCV DNN network. It is not safe for concurrent use.
type Net struct {
	n C.ON_Net
}

// LoadNet parses an ONNX model. A malformed model is an error wrapping
// vision.ErrModel.
func LoadNet(model []byte) (*Net, error) {
	if len(model) == 0 {
		return nil, fmt.Errorf("%w: empty ONNX model", vision.ErrModel)
	}
	var n C.ON_Net
	var cerr *C.char
	if C.ON_NetNew((*C.uint8_t)(unsafe.Pointer(&model[0])), C.size_t(len(model)), &n, &cerr) != 0 {
		return nil, fmt.Errorf("%w: %s", vision.ErrModel, takeErr(cerr))
	}
	return &Net{n: n}, nil
}

// Forward runs n NCHW images (len(input) = n·c·h·w) and returns n×dim
// output values.
func (x *Net) Forward(in, out string, input []float32, n, c, h, w, dim int) ([]float32, error) {
	if x.n == nil {
		return nil, vision.ErrClosed
	}
	if n <= 0 || len(input) != n*c*h*w {
		return nil, fmt.Errorf("%w: %d values for %d×%d×%d×%d", vision.ErrImage, len(input), n, c, h, w)
	}
	cin, cout := C.CString(in), C.CString(out)
	defer C.free(unsafe.Pointer(cin))
	defer C.free(unsafe.Pointer(cout))
	res := make([]float32, n*dim)
	var cerr *C.char
	if C.ON_NetForward(x.n, cin, cout, (*C.float)(unsafe.Pointer(&input[0])), C.int(n), C.int(c), C.int(h), C.int(w),
		(*C.float)(unsafe.Pointer(&res[0])), C.int(dim), &cerr) != 0 {
		return nil, fmt.Errorf("vision: onnx %s", takeErr(cerr))
	}
	return res, nil
}

// Close frees the network; it is idempotent.
func (x *Net) Close() {
	if x.n != nil {
		C.ON_NetClose(x.n)
		x.n = nil
	}
}

// SetThreads sets OpenCV's worker threads for the process. The embedder
// runs one network per core, so one thread each (New sets it).
func SetThreads(n int) { C.ON_SetNumThreads(C.int(n)) }

func takeErr(c *C.char) string {
	if c == nil {
		return "unknown error"
	}
	s := C.GoString(c)
	C.free(unsafe.Pointer(c))
	return strings.Join(strings.Fields(s), " ")
}

// Options configure a Recognizer.
type Options struct {
	// Meta is the model's metadata file (vision.ModelMeta).
	Meta string
	// Analyzer detects faces and fits 68 landmarks (facedlib without its
	// embedding network). It is not closed by the Recognizer.
	Analyzer vision.Analyzer
	// Workers is the number of concurrent networks; default runtime.NumCPU().
	Workers int
	// Flip overrides the metadata's flip averaging when set.
	Flip *bool
	// Logger receives debug events (never faces); default discards.
	Logger *slog.Logger
}

// Recognizer aligns faces to the model's template and embeds them. It is
// safe for concurrent use.
type Recognizer struct {
	meta    *vision.ModelMeta
	modelID string
	flip    bool
	an      vision.Analyzer
	log     *slog.Logger

	mu      sync.RWMutex // read: calls in flight; write: Close
	pool    chan *Net
	all     []*Net
	closed  bool
	tmpl    [5]vision.Point2
	w, h    int
	channel [3]int // input channel c reads RGB component channel[c]
}

var _ vision.Recognizer = (*Recognizer)(nil)

// New reads the metadata and the network it names (checking its sha256),
// and starts one network per worker.
func New(opts Options) (*Recognizer, error) {
	if opts.Analyzer == nil {
		return nil, fmt.Errorf("vision: onnx embedder needs a face analyzer")
	}
	meta, err := vision.ReadModelMeta(opts.Meta)
	if err != nil {
		return nil, err
	}
	model, err := os.ReadFile(meta.ModelPath())
	if err != nil {
		return nil, fmt.Errorf("%w: onnx model: %w (make models-onnx builds the MobileFaceNet one)", vision.ErrModel, err)
	}
	if meta.SHA256 != "" {
		sum := sha256.Sum256(model)
		if got := hex.EncodeToString(sum[:]); got != meta.SHA256 {
			return nil, fmt.Errorf("%w: %s has sha256 %s, metadata says %s", vision.ErrModel, meta.ModelPath(), got[:16], meta.SHA256[:16])
		}
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.NumCPU()
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	SetThreads(1)
	r := &Recognizer{meta: meta, modelID: meta.ModelID(model), flip: meta.Flip, an: opts.Analyzer, log: log,
		pool: make(chan *Net, opts.Workers), tmpl: meta.Template(), w: meta.Input.Width, h: meta.Input.Height,
		channel: [3]int{0, 1, 2}}
	if meta.Input.Color == "bgr" {
		r.channel = [3]int{2, 1, 0}
	}
	if opts.Flip != nil {
		r.flip = *opts.Flip
	}
	for range opts.Workers {
		n, err := LoadNet(model)
		if err != nil {
			r.Close()
			return nil, err
		}
		r.all = append(r.all, n)
		r.pool <- n
	}
	// One forward pass on a grey face proves that the input and output
	// names and the output size match the metadata before anyone relies on it.
	if _, err := r.embedImages(context.Background(), []vision.Image{grey(r.w, r.h)}); err != nil {
		r.Close()
		return nil, fmt.Errorf("%w: %s does not run as described by %s: %w", vision.ErrModel, meta.ModelPath(), opts.Meta, err)
	}
	log.Debug("onnx face model loaded", "model_id", r.modelID, "name", meta.Name, "dim", meta.Output.Dim, "workers", opts.Workers)
	return r, nil
}

func grey(w, h int) vision.Image {
	img := vision.NewImage(w, h)
	for i := range img.Pix {
		img.Pix[i] = 128
	}
	return img
}

// ModelID identifies the model and its preprocessing.
func (r *Recognizer) ModelID() string { return r.modelID }

// Meta is the model's metadata.
func (r *Recognizer) Meta() *vision.ModelMeta { return r.meta }

// Info describes the model.
func (r *Recognizer) Info() vision.ModelInfo {
	return vision.ModelInfo{ID: r.modelID, Name: r.meta.Name, Kind: "onnx", Dim: r.meta.Output.Dim,
		Normalized: r.meta.Output.Normalize, Flip: r.flip, Licence: r.meta.Licence, Calibration: r.meta.Calibration}
}

// Close frees the networks; it waits for calls in flight and is idempotent.
func (r *Recognizer) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	for _, n := range r.all {
		n.Close()
	}
	r.all = nil
	return nil
}

// Analyze runs the analyzer and adds each face's aligned network input.
// A face without 68 landmarks gets no input (Embed refuses it).
func (r *Recognizer) Analyze(ctx context.Context, img vision.Image) ([]vision.Face, error) {
	faces, err := r.an.Analyze(ctx, img)
	if err != nil {
		return nil, err
	}
	for i := range faces {
		faces[i].ModelID = r.modelID
		if in, err := vision.AlignFace(img, faces[i].Landmarks, r.tmpl, r.w, r.h); err == nil {
			faces[i].Input = in
		}
	}
	return faces, nil
}

// Embed computes the embedding of a face returned by Analyze.
func (r *Recognizer) Embed(ctx context.Context, f vision.Face) ([]float32, error) {
	out, err := r.embedImages(ctx, []vision.Image{f.Input})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// Faces returns every face with quality and embedding, the primary face
// first; an image without faces is vision.ErrNoFace.
func (r *Recognizer) Faces(ctx context.Context, img vision.Image) ([]vision.Face, error) {
	faces, err := r.Analyze(ctx, img)
	if err != nil {
		return nil, err
	}
	if len(faces) == 0 {
		return nil, vision.ErrNoFace
	}
	ins := make([]vision.Image, len(faces))
	for i, f := range faces {
		ins[i] = f.Input
	}
	descs, err := r.embedImages(ctx, ins)
	if err != nil {
		return nil, err
	}
	for i := range faces {
		faces[i].Descriptor = descs[i]
	}
	return faces, nil
}

// embedImages runs aligned inputs (and their mirror images when the model
// flips) through one network in one batch.
func (r *Recognizer) embedImages(ctx context.Context, ins []vision.Image) ([][]float32, error) {
	per := 1
	if r.flip {
		per = 2
	}
	n := len(ins) * per
	plane := r.w * r.h
	blob := make([]float32, n*3*plane)
	in := r.meta.Input
	for i, img := range ins {
		if img.W != r.w || img.H != r.h || len(img.Pix) != plane*3 {
			return nil, fmt.Errorf("%w: face input must be %dx%d RGB (68 landmarks needed to align)", vision.ErrImage, r.w, r.h)
		}
		for k := 0; k < per; k++ {
			base := (i*per + k) * 3 * plane
			for y := 0; y < r.h; y++ {
				for x := 0; x < r.w; x++ {
					sx := x
					if k == 1 {
						sx = r.w - 1 - x
					}
					p := img.Pix[(y*r.w+sx)*3:]
					for c := 0; c < 3; c++ {
						blob[base+c*plane+y*r.w+x] = (float32(p[r.channel[c]]) - in.Mean[c]) / in.Std[c]
					}
				}
			}
		}
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		return nil, vision.ErrClosed
	}
	var net *Net
	select {
	case net = <-r.pool:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	dim := r.meta.Output.Dim
	flat, err := net.Forward(in.Name, r.meta.Output.Name, blob, n, 3, r.h, r.w, dim)
	r.pool <- net
	if err != nil {
		return nil, err
	}
	out := make([][]float32, len(ins))
	for i := range ins {
		vecs := make([][]float32, per)
		for k := range vecs {
			vecs[k] = flat[(i*per+k)*dim : (i*per+k+1)*dim]
			if r.meta.Output.Normalize {
				vision.Normalize(vecs[k])
			}
		}
		if out[i], err = vision.Fuse(vecs, r.meta.Output.Normalize); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Detect returns the face boxes of img, the primary face first.
func (r *Recognizer) Detect(img vision.Image) ([]image.Rectangle, error) {
	faces, err := r.an.Analyze(context.Background(), img)
	if err != nil {
		return nil, err
	}
	boxes := make([]image.Rectangle, len(faces))
	for i, f := range faces {
		boxes[i] = f.Box
	}
	return boxes, nil
}
