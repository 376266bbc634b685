package scannertest

import (
	"io"
	"sync"
	"testing"
	"time"
)

// Playback replays a Recording in real time as an io.Reader (for
// scanner.NewStream) or into a writer (a PTY end, for the serial driver).
// Every chunk must be consumed by the end of the test: a Playback left
// with unread chunks fails it, so a test cannot pass by reading less than
// it recorded.
type Playback struct {
	t    testing.TB
	mu   sync.Mutex
	rec  Recording
	pos  int    // next chunk
	rest []byte // unread part of the current chunk
}

// NewPlayback returns a Playback of rec that checks, when the test ends,
// that it was fully consumed.
func NewPlayback(t testing.TB, rec Recording) *Playback {
	p := &Playback{t: t, rec: rec}
	t.Cleanup(func() {
		if !p.Done() {
			t.Errorf("scannertest: playback not fully consumed: %d of %d chunks left", len(p.rec)-p.pos, len(p.rec))
		}
	})
	return p
}

// Done reports whether every chunk has been consumed.
func (p *Playback) Done() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pos == len(p.rec) && len(p.rest) == 0
}

// Read returns the next chunk's bytes after sleeping its wait, and io.EOF
// after the last one.
func (p *Playback) Read(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.rest) == 0 {
		if p.pos == len(p.rec) {
			return 0, io.EOF
		}
		c := p.rec[p.pos]
		p.pos++
		time.Sleep(c.Wait)
		p.rest = c.Data
	}
	n := copy(b, p.rest)
	p.rest = p.rest[n:]
	return n, nil
}

// WriteTo writes every remaining chunk to w, sleeping each chunk's wait
// first, so that a reader's timing reaches the port.
func (p *Playback) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		p.mu.Lock()
		if p.pos == len(p.rec) && len(p.rest) == 0 {
			p.mu.Unlock()
			return total, nil
		}
		var data []byte
		var wait time.Duration
		if len(p.rest) > 0 {
			data, p.rest = p.rest, nil
		} else {
			c := p.rec[p.pos]
			p.pos++
			data, wait = c.Data, c.Wait
		}
		p.mu.Unlock()
		time.Sleep(wait)
		n, err := w.Write(data)
		total += int64(n)
		if err != nil {
			return total, err
		}
	}
}
