package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"path/filepath"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/checkpoint-edge/checkpoint/device/camera/cameratest"
	"github.com/checkpoint-edge/checkpoint/vision"
)

// recognizer is the part of vision.Recognizer Prepare uses.
type recognizer interface {
	Faces(ctx context.Context, img vision.Image) ([]vision.Face, error)
	ModelID() string
	Info() vision.ModelInfo
}

// subject is one person of the labelled photo set.
type subject struct {
	Person string
	Photos []string // paths, labels.csv order
	// Live is the photo the camera shows, LiveVec its embedding as the
	// camera frames it (letterboxed to 640×480).
	Live    string
	LiveVec []float32
}

// readSubjects groups the labelled single-person photos by person, in the
// order of labels.csv. The group photo is left out.
func readSubjects(dir string) ([]*subject, error) {
	labels, err := vision.ReadLabels(dir)
	if err != nil {
		return nil, err
	}
	var out []*subject
	by := map[string]*subject{}
	for _, l := range labels {
		if l.Person == "" || l.Person == "group" || strings.Contains(strings.ToLower(l.Note), "group") {
			continue
		}
		s := by[l.Person]
		if s == nil {
			s = &subject{Person: l.Person}
			by[l.Person] = s
			out = append(out, s)
		}
		s.Photos = append(s.Photos, l.Path)
	}
	return out, nil
}

// frameOf is the photo as the demo camera shows it: letterboxed into a
// 640×480 frame, as cameratest.VideoFromPhotos records it.
func frameOf(path string) (vision.Image, error) {
	m, err := cameratest.LoadPhoto(path, cameratest.FrameWidth, cameratest.FrameHeight)
	if err != nil {
		return vision.Image{}, err
	}
	defer m.Close()
	img, err := m.ToImage()
	if err != nil {
		return vision.Image{}, err
	}
	return vision.FromImage(img), nil
}

// primary returns the descriptor of the primary face of img and whether
// it passes the capture gate; no face is (nil, false, nil).
func primary(ctx context.Context, rec recognizer, img vision.Image) ([]float32, bool, error) {
	fs, err := rec.Faces(ctx, img)
	if errors.Is(err, vision.ErrNoFace) || (err == nil && len(fs) == 0) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return fs[0].Descriptor, fs[0].Quality.Pass && fs[0].Descriptor != nil, nil
}

// pickLive finds, for every subject, the first photo whose camera frame
// passes the quality gate, so that the unit captures a usable face. Subjects
// without one are dropped. Work runs on workers goroutines.
func pickLive(ctx context.Context, rec recognizer, subs []*subject, workers int) ([]*subject, error) {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(max(workers, 1))
	for _, s := range subs {
		g.Go(func() error {
			for _, p := range s.Photos {
				img, err := frameOf(p)
				if err != nil {
					return fmt.Errorf("photo %s: %w", filepath.Base(p), err)
				}
				vec, pass, err := primary(ctx, rec, img)
				if err != nil {
					return fmt.Errorf("photo %s: %w", filepath.Base(p), err)
				}
				if pass {
					s.Live, s.LiveVec = p, vec
					return nil
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var out []*subject
	for _, s := range subs {
		if s.Live != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

// embedPhoto is the embedding of a photo as an enrolment system would take
// it: the whole picture, not the camera frame.
func embedPhoto(ctx context.Context, rec recognizer, path string) ([]float32, float32, error) {
	img, err := vision.LoadImage(path)
	if err != nil {
		return nil, 0, err
	}
	fs, err := rec.Faces(ctx, img)
	if err != nil {
		return nil, 0, err
	}
	if len(fs) == 0 || fs[0].Descriptor == nil {
		return nil, 0, vision.ErrNoFace
	}
	return fs[0].Descriptor, float32(fs[0].Quality.Score), nil
}

// referenceJPEG is the listed person's reference photo: the photo scaled
// so that its longer side is at most maxSide, as JPEG.
func referenceJPEG(path string, maxSide int) ([]byte, error) {
	img, err := vision.LoadImage(path)
	if err != nil {
		return nil, err
	}
	if img.W > maxSide || img.H > maxSide {
		w, h := maxSide, img.H*maxSide/img.W
		if img.H > img.W {
			w, h = img.W*maxSide/img.H, maxSide
		}
		img = vision.Resize(img, max(w, 1), max(h, 1))
	}
	rgba := image.NewRGBA(image.Rect(0, 0, img.W, img.H))
	for i, j := 0, 0; i < len(img.Pix); i, j = i+3, j+4 {
		rgba.Pix[j], rgba.Pix[j+1], rgba.Pix[j+2], rgba.Pix[j+3] = img.Pix[i], img.Pix[i+1], img.Pix[i+2], 255
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, rgba, &jpeg.Options{Quality: 85}); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// templateMargin keeps the demo's face outcomes away from the bands: the
// MJPG recording and the live pipeline move a distance by a few
// hundredths. (0.05 would leave one wanted person in the labelled photos:
// on that population other travellers lie close to the listed photos.)
const templateMargin = 0.04

// chooseTemplate picks the photo a listed person's template comes from:
// another photo of the same person (never the one the camera shows: a
// watchlist holds an enrolment photo, not the traveller's capture) whose
// template matches the camera's view of the live photo with margin inside
// the hit band, or else inside the possible band (the lane refers: a
// possible face match for the officer), while every other traveller stays
// beyond the possible band with margin, so the demo's live outcome is the
// one the manifest expects. It returns the path, the template, its
// quality and whether it is in the hit band; ok is false when no other
// photo of the person qualifies.
func chooseTemplate(ctx context.Context, rec recognizer, s *subject, others [][]float32, hit, possible float32) (path string, vec []float32, q float32, strong, ok bool, err error) {
	var best struct {
		path string
		vec  []float32
		q    float32
		d    float32
	}
	for _, p := range s.Photos {
		if p == s.Live {
			continue
		}
		vec, q, err := embedPhoto(ctx, rec, p)
		if errors.Is(err, vision.ErrNoFace) {
			continue
		}
		if err != nil {
			return "", nil, 0, false, false, fmt.Errorf("photo %s: %w", filepath.Base(p), err)
		}
		d := vision.Distance(vec, s.LiveVec)
		if d > possible-templateMargin || (best.path != "" && d >= best.d) {
			continue
		}
		clear := true
		for _, o := range others {
			if vision.Distance(vec, o) < possible+templateMargin {
				clear = false
				break
			}
		}
		if clear {
			best.path, best.vec, best.q, best.d = p, vec, q, d
		}
	}
	if best.path == "" {
		return "", nil, 0, false, false, nil
	}
	return best.path, best.vec, best.q, best.d <= hit-templateMargin, true, nil
}
