package vision

import (
	"context"
	"errors"
	"io"
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

// Burst keeps the best face offered over a capture window. It is safe for
// concurrent use; the zero value is ready.
type Burst struct {
	mu     sync.Mutex
	best   Face
	have   bool
	offers int
}

// Offer considers f and reports whether it became the best so far.
func (b *Burst) Offer(f Face) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.offers++
	if b.have && !Better(f.Quality, b.best.Quality) {
		return false
	}
	b.best, b.have = f, true
	return true
}

// Best returns the best face so far, false when none was offered.
func (b *Burst) Best() (Face, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.best, b.have
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
	b.best, b.have, b.offers = Face{}, false, 0
}

// FrameSource returns the next camera frame. It returns io.EOF when the
// source is exhausted (a file), which ends the capture early.
type FrameSource func(ctx context.Context) (Image, error)

// CaptureOptions bound a best-of-burst capture.
type CaptureOptions struct {
	Window    time.Duration // how long to look; 0 means no time limit
	MaxFrames int           // how many frames to look at; 0 means no frame limit
	// GoodEnough ends the capture as soon as a face passes the gate with at
	// least this score; 0 never ends early.
	GoodEnough float64
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
	now := opt.Now
	if now == nil {
		now = time.Now
	}
	var st CaptureStats
	var b Burst
	start := now()
	for {
		if opt.MaxFrames > 0 && st.Frames >= opt.MaxFrames {
			break
		}
		if opt.Window > 0 && now().Sub(start) >= opt.Window {
			break
		}
		if err := ctx.Err(); err != nil {
			if f, ok := b.Best(); ok {
				return f, st, nil
			}
			return Face{}, st, err
		}
		img, err := next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Face{}, st, err
		}
		st.Frames++
		faces, err := a.Analyze(ctx, img)
		if err != nil {
			return Face{}, st, err
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
			break
		}
	}
	f, ok := b.Best()
	if !ok {
		return Face{}, st, ErrNoFace
	}
	return f, st, nil
}
