package scanner

import (
	"context"
	"sync/atomic"
	"time"
)

// Why a queue: a reader that sends several documents back-to-back (a full
// feeder, a replay after a reconnect) fills the kernel's few kilobytes of
// serial buffer in a fraction of a second. The port used to be read by the
// goroutine that also handed documents to the lane, so while the lane was
// busy nobody read; the bytes that piled up in the kernel were then stamped
// with the time they were read, long after they arrived, and the silence
// that seemed to follow a document cut at a read boundary was taken for the
// end of the document (issue 17: 10,000 passports back-to-back gave 9,913
// decisions, a third of them invalid). Now one goroutine only reads the port
// and queues what it reads with the time it arrived; another frames it and
// feeds the lane. The framing's line timeout is measured on silences the
// reader saw (a read that waited and got nothing), never on time spent
// waiting for the lane. When the lane falls so far behind that the queue
// fills, reading pauses (the line's own flow control, or the kernel
// buffer, holds the rest), which State and the unit report; that time does
// not count as silence either, so no document is split by it.

// DefaultQueueBytes is the default bound of the input queue: about 11,000
// passports, far more than any reader buffers.
const DefaultQueueBytes = 1 << 20

// readSize is the largest read from the port.
const readSize = 4096

// chunk is what the reader goroutine hands the framing goroutine: bytes
// that arrived by at, a silence of silent after the last byte, or the end
// of a connection (down, with its error).
type chunk struct {
	data   []byte
	at     time.Time
	silent time.Duration
	down   bool
	err    error
}

// inbox is the bounded queue between the two goroutines, bounded in bytes
// (a silence or a disconnect counts as one byte).
type inbox struct {
	ch    chan chunk
	bytes atomic.Int64
	max   int64
	space chan struct{} // a pop happened
}

func newInbox(max int) *inbox {
	return &inbox{ch: make(chan chunk, max/64+16), max: int64(max), space: make(chan struct{}, 1)}
}

func chunkSize(c chunk) int64 { return max(int64(len(c.data)), 1) }

// push queues c, waiting while the queue is full; onFull is called once if
// it had to wait. It returns false if ctx ended first.
func (in *inbox) push(ctx context.Context, c chunk, onFull func()) bool {
	n := chunkSize(c)
	full := false
	wait := func() bool {
		if !full {
			full = true
			onFull()
		}
		select {
		case <-in.space:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for b := in.bytes.Load(); b > 0 && b+n > in.max; b = in.bytes.Load() {
		if !wait() {
			return false
		}
	}
	in.bytes.Add(n)
	for {
		select {
		case in.ch <- c:
			return true
		default:
		}
		if !wait() {
			in.bytes.Add(-n)
			return false
		}
	}
}

// pop takes the next chunk; false if ctx ended first.
func (in *inbox) pop(ctx context.Context) (chunk, bool) {
	select {
	case c := <-in.ch:
		in.bytes.Add(-chunkSize(c))
		select {
		case in.space <- struct{}{}:
		default:
		}
		return c, true
	case <-ctx.Done():
		return chunk{}, false
	}
}
