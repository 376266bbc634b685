package vision

import (
	"context"
	"errors"
	"io"
	"slices"
	"sync"
	"time"
)

// Better reports whether quality a beats quality b: a face that passes the
// gate beats one that does not, then the higher score wins.
func Better(a, b Quality) bool {
	if a.Pass != b.Pass {
		return a.Pass
	}
	return a.Score > b.Score
}

// Burst keeps the best faces offered over a capture window: the best one,
// or the Keep best for best-of-burst fusion. It is safe for concurrent
// use; the zero value keeps one face.
type Burst struct {
	// Keep is how many faces to keep; 0 means 1.
	Keep int

	mu     sync.Mutex
	best   []Face // best first
	offers int
}

// Offer considers f and reports whether it became the best so far.
func (b *Burst) Offer(f Face) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.offers++
	keep := max(b.Keep, 1)
	i := len(b.best)
	for i > 0 && Better(f.Quality, b.best[i-1].Quality) {
		i--
	}
	if i >= keep {
		return false
	}
	b.best = slices.Insert(b.best, i, f)
	if len(b.best) > keep {
		b.best = b.best[:keep]
	}
	return i == 0
}

// Best returns the best face so far, false when none was offered.
func (b *Burst) Best() (Face, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.best) == 0 {
		return Face{}, false
	}
	return b.best[0], true
}

// Top returns the kept faces, best first.
func (b *Burst) Top() []Face {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.best)
}

// Offers is the number of faces offered since the last Reset.
func (b *Burst) Offers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.offers
}

// Reset forgets the faces offered, for the next traveller.
func (b *Burst) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.best, b.offers = nil, 0
}

// FrameSource returns the next camera frame. It returns io.EOF when the
// source is exhausted (a file), which ends the capture early.
type FrameSource func(ctx context.Context) (Image, error)

// CaptureOptions bound a best-of-burst capture.
type CaptureOptions struct {
	Window    time.Duration // how long to look; 0 means no time limit
	MaxFrames int           // how many frames to look at; 0 means no frame limit
	// GoodEnough ends the capture as soon as Keep faces have passed the
	// gate with at least this score; 0 never ends early.
	GoodEnough float64
	// Keep is how many of the best faces CaptureTop returns; 0 means 1.
	Keep int
	// Now is the clock; nil means time.Now (tests replace it).
	Now func() time.Time
}

// CaptureStats describe a capture.
type CaptureStats struct {
	Frames int `json:"frames"`
	Faces  int `json:"faces"`  // frames with a primary face
	Passed int `json:"passed"` // of which passed the gate
}

// Capture runs the quality-gated capture loop: it analyses frames from next
// until the window, the frame budget or the context ends, offers each
// frame's primary face to a Burst and returns the best one (without a
// descriptor: embed only the winner). It returns ErrNoFace when no frame
// held a face.
func Capture(ctx context.Context, a Analyzer, next FrameSource, opt CaptureOptions) (Face, CaptureStats, error) {
	opt.Keep = 1
	faces, st, err := CaptureTop(ctx, a, next, opt)
	if err != nil {
		return Face{}, st, err
	}
	return faces[0], st, nil
}

// CaptureTop is Capture keeping the opt.Keep best faces, best first, for
// best-of-burst fusion (embed those that pass the gate and Fuse them).
func CaptureTop(ctx context.Context, a Analyzer, next FrameSource, opt CaptureOptions) ([]Face, CaptureStats, error) {
	now := opt.Now
	if now == nil {
		now = time.Now
	}
	var st CaptureStats
	b := Burst{Keep: max(opt.Keep, 1)}
	good := 0
	start := now()
	for {
		if opt.MaxFrames > 0 && st.Frames >= opt.MaxFrames {
			break
		}
		if opt.Window > 0 && now().Sub(start) >= opt.Window {
			break
		}
		if err := ctx.Err(); err != nil {
			if top := b.Top(); len(top) > 0 {
				return top, st, nil
			}
			return nil, st, err
		}
		img, err := next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, st, err
		}
		st.Frames++
		faces, err := a.Analyze(ctx, img)
		if err != nil {
			return nil, st, err
		}
		if len(faces) == 0 {
			continue
		}
		st.Faces++
		if faces[0].Quality.Pass {
			st.Passed++
		}
		b.Offer(faces[0])
		if opt.GoodEnough > 0 && faces[0].Quality.Pass && faces[0].Quality.Score >= opt.GoodEnough {
			if good++; good >= b.Keep {
				break
			}
		}
	}
	top := b.Top()
	if len(top) == 0 {
		return nil, st, ErrNoFace
	}
	return top, st, nil
}
