package scannertest

import (
	"context"
	"sync"
	"time"

	"github.com/checkpoint-edge/checkpoint/device/scanner"
	"github.com/checkpoint-edge/checkpoint/mrz"
)

// Fake is a scanner.Scanner that delivers the events it is given, in
// order, while it runs. Its State is whatever the test sets.
type Fake struct {
	mu      sync.Mutex
	queue   []scanner.Event
	wake    chan struct{}
	events  chan scanner.Event
	state   scanner.State
	started bool
	closed  bool
	cancel  context.CancelFunc
	done    chan struct{}
	sent    int
}

var _ scanner.Scanner = (*Fake)(nil)

// NewFake returns a connected Fake that will deliver events once Run is
// called.
func NewFake(events ...scanner.Event) *Fake {
	f := &Fake{
		wake:   make(chan struct{}, 1),
		events: make(chan scanner.Event),
		done:   make(chan struct{}),
		state:  scanner.State{Connected: true, Port: "fake", Since: time.Now(), Connects: 1},
	}
	for _, ev := range events {
		f.Emit(ev)
	}
	return f
}

// EventOf builds the Event a reader would deliver for lines, with the
// document parsed with opts.
func EventOf(opts mrz.Options, lines ...string) scanner.Event {
	now := time.Now()
	raw := Encode(scanner.FramingLines, lines...)
	return scanner.Event{Lines: lines, Raw: raw, Start: now, End: now, Document: mrz.Parse(lines, opts)}
}

// Emit queues ev for delivery. A nil Document is filled in with
// mrz.Parse(ev.Lines, mrz.Options{}), keeping the Event contract.
func (f *Fake) Emit(ev scanner.Event) {
	if ev.Document == nil {
		ev.Document = mrz.Parse(ev.Lines, mrz.Options{})
	}
	f.mu.Lock()
	f.queue = append(f.queue, ev)
	f.mu.Unlock()
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// SetState replaces the state State reports (to fake an unplug).
func (f *Fake) SetState(st scanner.State) {
	f.mu.Lock()
	f.state = st
	f.mu.Unlock()
}

// Sent is the number of events delivered so far.
func (f *Fake) Sent() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sent
}

// Events implements scanner.Scanner.
func (f *Fake) Events() <-chan scanner.Event { return f.events }

// State implements scanner.Scanner.
func (f *Fake) State() scanner.State {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state
}

// Run delivers queued events until ctx ends or Close is called.
func (f *Fake) Run(ctx context.Context) error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return scanner.ErrClosed
	}
	if f.started {
		f.mu.Unlock()
		return scanner.ErrRunning
	}
	f.started = true
	ctx, f.cancel = context.WithCancel(ctx)
	f.mu.Unlock()
	defer func() {
		close(f.events)
		close(f.done)
	}()
	for {
		f.mu.Lock()
		if len(f.queue) > 0 {
			ev := f.queue[0]
			f.mu.Unlock()
			select {
			case f.events <- ev:
				f.mu.Lock()
				f.queue = f.queue[1:]
				f.sent++
				f.mu.Unlock()
				continue
			case <-ctx.Done():
				return nil
			}
		}
		f.mu.Unlock()
		select {
		case <-f.wake:
		case <-ctx.Done():
			return nil
		}
	}
}

// Close stops Run and waits for it; idempotent.
func (f *Fake) Close() error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil
	}
	f.closed = true
	started := f.started
	if started {
		f.cancel()
	}
	f.mu.Unlock()
	if started {
		<-f.done
	} else {
		close(f.events)
	}
	return nil
}
