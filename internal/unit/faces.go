package unit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/checkpoint-edge/checkpoint/config"
	"github.com/checkpoint-edge/checkpoint/device/camera"
	"github.com/checkpoint-edge/checkpoint/lane"
	"github.com/checkpoint-edge/checkpoint/vision"
	"github.com/checkpoint-edge/checkpoint/vision/facepipe"
	"github.com/checkpoint-edge/checkpoint/vision/traffic"
	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// openRecognizer loads the configured face pipeline. At the lane the CNN
// fallback and flip averaging are off unless configured: each costs more
// per frame than the budget allows (README, face figures).
func openRecognizer(cfg *config.Config, logger *slog.Logger) (vision.Recognizer, error) {
	flip := cfg.Vision.Flip
	r, err := facepipe.New(facepipe.Options{Embedder: cfg.Vision.Embedder, Model: cfg.Vision.Model,
		ModelsDir: cfg.Vision.ModelsDir, Landmarks: cfg.Vision.Landmarks, Detector: cfg.Vision.Detector,
		Fallback: cfg.Vision.CNNFallback, Flip: &flip, Workers: cfg.Vision.Workers, Logger: logger})
	if err != nil {
		return nil, err
	}
	info := r.Info()
	if info.Calibration == nil && cfg.Watchlist.Face.HitDistance == 0 && cfg.Watchlist.Face.PossibleDistance == 0 {
		logger.Warn("face model has no calibration: 1:N targets cannot become distances; give watchlist.face distances",
			"model_id", info.ID)
	}
	logger.Info("face model", "model_id", info.ID, "kind", info.Kind, "name", info.Name, "dim", info.Dim, "flip", info.Flip,
		"licence", info.Licence)
	return r, nil
}

// facePolicy turns the configured targets into the store's face policy,
// with the recognizer's calibration (nil without a camera: no face search
// runs then).
func facePolicy(cfg *config.Config, rec vision.Recognizer) watchlist.FacePolicy {
	f := cfg.Watchlist.Face
	p := watchlist.FacePolicy{Candidates: f.Candidates,
		Default: watchlist.FaceBand{HitFPIR: f.HitFPIR, PossibleFPIR: f.PossibleFPIR, HitDistance: f.HitDistance, PossibleDistance: f.PossibleDistance}}
	if len(f.Categories) > 0 {
		p.Categories = map[string]watchlist.FaceBand{}
		for c, b := range f.Categories {
			p.Categories[c] = watchlist.FaceBand{HitFPIR: b.HitFPIR, PossibleFPIR: b.PossibleFPIR, HitDistance: b.HitDistance, PossibleDistance: b.PossibleDistance}
		}
	}
	if rec != nil {
		p.Calibration = rec.Info().Calibration
	}
	return p
}

// verifyDistance is the 1:1 threshold of the recognizer's model at the
// default false-match target (the chip photo against the live face).
func verifyDistance(rec vision.Recognizer) float32 {
	if rec != nil {
		if c := rec.Info().Calibration; c != nil {
			if d, _ := c.Distance(vision.TargetFMR1to1); d > 0 {
				return d
			}
		}
	}
	return vision.DefaultThresholds.Verify1to1
}

// openTraffic opens the face traffic ring in the state directory. A
// damaged file is replaced: it only holds statistics.
func openTraffic(cfg *config.Config, logger *slog.Logger) (*traffic.Log, error) {
	p := filepath.Join(cfg.StateDir, traffic.FileName)
	l, err := traffic.Open(p, 0)
	if errors.Is(err, traffic.ErrFormat) {
		logger.Warn("face traffic log damaged: starting a new one", "path", p)
		if err = os.Remove(p); err == nil {
			l, err = traffic.Open(p, 0)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("face traffic log: %w", err)
	}
	return l, nil
}

// recordFace keeps a face search's top-1 distance and gallery size, and
// nothing that names anybody.
func (c storeChecker) recordFace(fs *watchlist.FaceSearch) {
	if c.traffic == nil || fs == nil || fs.Gallery == 0 {
		return
	}
	r := traffic.Record{At: c.now(), Top1: fs.Top1, Gallery: fs.Gallery, Hit: fs.Bands.Hit, Possible: fs.Bands.Possible}
	if err := c.traffic.Append(r); err != nil && c.log != nil {
		c.log.Warn("face traffic not recorded", "err", err)
	}
}

// cameraFaces captures the traveller's face: newest frames from the camera,
// the quality-gated best-of-burst loop, then the embeddings of the best
// frames that pass the gate, averaged (fuse > 1).
type cameraFaces struct {
	cam        camera.Camera
	rec        vision.Recognizer
	goodEnough float64
	maxFrames  int
	fuse       int
}

var _ lane.FaceSource = (*cameraFaces)(nil)

func (c *cameraFaces) Up() bool { return c.cam.State().Healthy() }

func (c *cameraFaces) Capture(ctx context.Context, window time.Duration) (lane.FaceCapture, error) {
	ctx, cancel := context.WithTimeout(ctx, window+500*time.Millisecond)
	defer cancel()
	var last uint64
	if st := c.cam.State(); st.Seq > 0 {
		// Frames from before the document was scanned may show the previous
		// traveller: start with the next one.
		last = st.Seq
	}
	next := func(ctx context.Context) (vision.Image, error) {
		f, err := c.cam.Next(ctx, last)
		if err != nil {
			return vision.Image{}, err
		}
		defer f.Close()
		last = f.Seq
		return f.Image()
	}
	top, stats, err := vision.CaptureTop(ctx, c.rec, next, vision.CaptureOptions{
		Window: window, MaxFrames: c.maxFrames, GoodEnough: c.goodEnough, Keep: max(c.fuse, 1),
	})
	fc := lane.FaceCapture{Frames: stats.Frames, FacesSeen: stats.Faces}
	if errors.Is(err, vision.ErrNoFace) {
		return fc, nil
	}
	if err != nil {
		if stats.Frames > 0 && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)) && ctx.Err() != nil {
			return fc, nil
		}
		return fc, fmt.Errorf("capture: %w", err)
	}
	face := top[0]
	fc.Quality = face.Quality.Score
	fc.Reasons = face.Quality.Reasons
	fc.Multiple = face.Quality.FacesInZone > 1
	fc.JPEG = encodeChip(face.Chip)
	if !face.Quality.Pass {
		return fc, nil
	}
	var vecs [][]float32
	for _, f := range top {
		if !f.Quality.Pass {
			break // best first: the rest do not pass either
		}
		v, err := c.rec.Embed(ctx, f)
		if err != nil {
			return fc, fmt.Errorf("embed: %w", err)
		}
		vecs = append(vecs, v)
	}
	desc, err := vision.Fuse(vecs, c.rec.Info().Normalized)
	if err != nil {
		return fc, fmt.Errorf("embed: %w", err)
	}
	fc.Captured = true
	fc.Descriptor = desc
	fc.ModelID = c.rec.ModelID()
	return fc, nil
}

// encodeChip turns the aligned face chip into a JPEG for the officer.
func encodeChip(img vision.Image) []byte {
	if img.W == 0 || img.H == 0 || len(img.Pix) < img.W*img.H*3 {
		return nil
	}
	rgba := image.NewRGBA(image.Rect(0, 0, img.W, img.H))
	for i, j := 0, 0; i < img.W*img.H*3; i, j = i+3, j+4 {
		rgba.Pix[j], rgba.Pix[j+1], rgba.Pix[j+2], rgba.Pix[j+3] = img.Pix[i], img.Pix[i+1], img.Pix[i+2], 255
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, rgba, &jpeg.Options{Quality: 85}); err != nil {
		return nil
	}
	return buf.Bytes()
}
