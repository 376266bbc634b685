package scanner

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/checkpoint-edge/checkpoint/mrz"
)

// Event is one document read by a scanner.
type Event struct {
	// Lines are the MRZ lines as framed, reader padding removed.
	Lines []string
	// Raw holds the frame's bytes as received (see Frame.Raw).
	Raw []byte
	// Start and End are the arrival times of the frame's first and last
	// byte.
	Start, End time.Time
	// Repeat is set when the same lines were read just before, within
	// Config.RepeatWindow: the officer scanned the document twice.
	Repeat bool
	// Document is mrz.Parse(Lines, Config.MRZ); never nil.
	Document *mrz.Document
}

// Scanner is a source of document events: a serial reader (*Serial), a
// replayed byte stream (*Stream) or a test double (scannertest.Fake).
type Scanner interface {
	// Events delivers documents in the order read. It is closed when Run
	// returns (or by Close if Run never ran).
	Events() <-chan Event
	// Run reads until ctx ends or Close is called, and returns nil then;
	// it returns an error only when reading cannot go on (a *Stream whose
	// reader failed) or when called twice.
	Run(ctx context.Context) error
	// State is the device state for health reporting; safe to call at any
	// time from any goroutine.
	State() State
	// Close stops Run and waits for it; idempotent.
	Close() error
}

// State is a snapshot of a scanner's health.
type State struct {
	// Connected is true while the port (or stream) is open.
	Connected bool `json:"connected"`
	// Port is the device path in use or last used.
	Port string `json:"port,omitempty"`
	// Since is when Connected last changed.
	Since time.Time `json:"since"`
	// Err is the last error met (cannot open, disconnected); cleared when
	// the port opens again. LastError is its message, for JSON.
	Err       error  `json:"-"`
	LastError string `json:"last_error,omitempty"`
	// Connects and Disconnects count port opens and failures of an open
	// port (a replug is one of each).
	Connects    uint64 `json:"connects"`
	Disconnects uint64 `json:"disconnects"`
	// Events and Repeats count the documents delivered.
	Events    uint64    `json:"events"`
	Repeats   uint64    `json:"repeats"`
	LastEvent time.Time `json:"last_event,omitzero"`
	// Decoder holds the framing counters: frames, noise, rejections.
	Decoder Stats `json:"decoder"`
	// BytesRead counts the bytes read from the port (or stream).
	BytesRead uint64 `json:"bytes_read"`
	// QueuedBytes is what was read and is not yet framed (the lane is
	// behind); QueueFull is set while the queue is full and reading is
	// paused, and QueueFulls counts the times that happened.
	QueuedBytes int64  `json:"queued_bytes"`
	QueueFull   bool   `json:"queue_full"`
	QueueFulls  uint64 `json:"queue_fulls"`
}

// core holds what *Serial and *Stream share: lifecycle, state, repeat
// detection and delivery.
type core struct {
	cfg    Config
	log    *slog.Logger
	events chan Event
	dec    *Decoder // used by the Run goroutine only
	inbox  *inbox   // *Serial: set by Run

	mu      sync.Mutex
	state   State
	started bool
	closed  bool
	cancel  context.CancelFunc
	done    chan struct{}

	lastKey  string
	lastEnd  time.Time
	haveLast bool
	rejected uint64
}

func newCore(cfg Config, logger *slog.Logger) core {
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return core{
		cfg:    cfg,
		log:    logger,
		events: make(chan Event, cfg.EventBuffer),
		dec:    NewDecoder(cfg.Framing, cfg.LineTimeout),
		done:   make(chan struct{}),
	}
}

// Events implements Scanner.
func (c *core) Events() <-chan Event { return c.events }

// State implements Scanner.
func (c *core) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.state
	if c.inbox != nil {
		st.QueuedBytes = c.inbox.bytes.Load()
	}
	return st
}

// queueFull records that the input queue filled and reading paused.
func (c *core) queueFull() {
	c.mu.Lock()
	first := !c.state.QueueFull
	c.state.QueueFull = true
	c.state.QueueFulls++
	c.mu.Unlock()
	if first {
		c.log.Warn("scanner input queue full: reading paused until the lane catches up", "queue_bytes", c.cfg.QueueBytes)
	}
}

// queueRoom records that a read was queued without waiting.
func (c *core) queueRoom() {
	c.mu.Lock()
	was := c.state.QueueFull
	c.state.QueueFull = false
	c.mu.Unlock()
	if was {
		c.log.Info("scanner input queue has room again")
	}
}

// start marks the scanner running and returns the context Run uses.
func (c *core) start(ctx context.Context) (context.Context, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	if c.started {
		return nil, ErrRunning
	}
	c.started = true
	ctx, c.cancel = context.WithCancel(ctx)
	return ctx, nil
}

func (c *core) finish() {
	c.mu.Lock()
	c.cancel()
	if c.state.Connected {
		c.state.Connected = false
		c.state.Since = c.cfg.Clock.Now()
	}
	c.mu.Unlock()
	close(c.events)
	close(c.done)
}

// stop cancels Run and waits for it; wake is called in between to unblock
// a read. It is idempotent.
func (c *core) stop(wake func()) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	started := c.started
	if started {
		c.cancel()
	}
	c.mu.Unlock()
	if !started {
		close(c.events)
		return
	}
	if wake != nil {
		wake()
	}
	<-c.done
}

func (c *core) setConnected(port string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.state.Connected = true
	c.state.Port = port
	c.state.Since = c.cfg.Clock.Now()
	c.state.Err, c.state.LastError = nil, ""
	c.state.Connects++
}

// setDown records a failure to open (wasUp false) or of an open port.
func (c *core) setDown(err error, wasUp bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state.Connected {
		c.state.Since = c.cfg.Clock.Now()
	}
	c.state.Connected = false
	if wasUp {
		c.state.Disconnects++
	}
	if err != nil {
		c.state.Err, c.state.LastError = err, err.Error()
	}
}

// deliver turns frames into events and sends them, blocking while the
// channel is full. It returns ctx.Err() if ctx ends first.
func (c *core) deliver(ctx context.Context, frames []Frame) error {
	stats := c.dec.Stats()
	c.mu.Lock()
	c.state.Decoder = stats
	c.mu.Unlock()
	if r := stats.Rejected(); r != c.rejected {
		c.rejected = r
		// Counters only: the bytes of a rejected frame may be personal. A
		// warning: a rejected frame may be a document that was not checked.
		c.log.Warn("scanner frame rejected", "partial", stats.Partial, "bad_bcc", stats.BadBCC,
			"overlong", stats.Overlong, "malformed", stats.Malformed)
	}
	for _, f := range frames {
		ev := Event{Lines: f.Lines, Raw: f.Raw, Start: f.Start, End: f.End}
		ev.Document = mrz.Parse(f.Lines, c.cfg.MRZ)
		// Compare the lines as the parser read them: with Autocorrect, two
		// scans with different OCR slips are still the same document.
		key := strings.Join(f.Lines, "\n")
		if len(ev.Document.Lines) > 0 {
			key = strings.Join(ev.Document.Lines, "\n")
		}
		ev.Repeat = c.cfg.RepeatWindow > 0 && c.haveLast && key == c.lastKey &&
			!f.Start.After(c.lastEnd.Add(c.cfg.RepeatWindow))
		c.lastKey, c.lastEnd, c.haveLast = key, f.End, true
		c.log.Debug("scanner document", "lines", len(f.Lines), "bytes", len(f.Raw),
			"format", ev.Document.Format, "valid", ev.Document.Valid, "repeat", ev.Repeat)
		// Counted before the send so a consumer holding the event sees it
		// in State; uncounted if it is never delivered.
		c.count(ev, 1)
		select {
		case c.events <- ev:
		case <-ctx.Done():
			c.count(ev, -1)
			return ctx.Err()
		}
	}
	return nil
}

func (c *core) count(ev Event, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.state.Events += uint64(n)
	if ev.Repeat {
		c.state.Repeats += uint64(n)
	}
	if n > 0 {
		c.state.LastEvent = ev.End
	}
}

// pollInterval is how often a quiet port is checked for a stale frame
// and for cancellation: a tenth of the line timeout, so that a silence is
// proven (see Serial.read) soon after it exceeds the timeout.
func (c *core) pollInterval() time.Duration {
	return min(max(c.cfg.LineTimeout/10, 5*time.Millisecond), 50*time.Millisecond)
}
