package unit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"time"

	"github.com/checkpoint-edge/checkpoint/device/camera"
	"github.com/checkpoint-edge/checkpoint/lane"
	"github.com/checkpoint-edge/checkpoint/vision"
)

// cameraFaces captures the traveller's face: newest frames from the camera,
// the quality-gated best-of-burst loop, then one embedding of the winner.
type cameraFaces struct {
	cam        camera.Camera
	rec        vision.Recognizer
	goodEnough float64
	maxFrames  int
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
	face, stats, err := vision.Capture(ctx, c.rec, next, vision.CaptureOptions{
		Window: window, MaxFrames: c.maxFrames, GoodEnough: c.goodEnough,
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
	fc.Quality = face.Quality.Score
	fc.Reasons = face.Quality.Reasons
	fc.Multiple = face.Quality.FacesInZone > 1
	fc.JPEG = encodeChip(face.Chip)
	if !face.Quality.Pass {
		return fc, nil
	}
	desc, err := c.rec.Embed(ctx, face)
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
