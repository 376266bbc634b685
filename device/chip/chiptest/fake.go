package chiptest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/checkpoint-edge/checkpoint/device/chip"
)

// Responder answers one command APDU with a response APDU (data + SW).
type Responder func(apdu []byte) ([]byte, error)

// Fake is a chip.Reader with one slot driven by Insert and Remove.
type Fake struct {
	mu      sync.Mutex
	state   chip.State
	resp    Responder
	gen     int // card generation: a card of an old generation is removed
	changed chan struct{}
	events  chan chip.Event
	closed  bool
	// Delay, when set, is slept before each answer (a slow chip).
	Delay time.Duration
	// APDUs counts the commands transmitted.
	APDUs int
}

var _ chip.Reader = (*Fake)(nil)

// NewFake returns a healthy reader with no card.
func NewFake() *Fake {
	return &Fake{state: chip.State{Connected: true, Reader: "fake reader", Since: time.Now()},
		changed: make(chan struct{}), events: make(chan chip.Event, 64)}
}

func (f *Fake) notifyLocked(kind string) {
	f.state.Since = time.Now()
	close(f.changed)
	f.changed = make(chan struct{})
	select {
	case f.events <- chip.Event{Kind: kind, Reader: f.state.Reader, At: f.state.Since}:
	default:
	}
}

// Insert puts a card answering through r on the reader (replacing any).
func (f *Fake) Insert(r Responder) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gen++
	f.resp = r
	f.state.CardPresent = true
	f.state.Insertions++
	f.notifyLocked(chip.CardInserted)
}

// Remove takes the card off the reader.
func (f *Fake) Remove() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.state.CardPresent {
		return
	}
	f.gen++
	f.resp = nil
	f.state.CardPresent = false
	f.state.Removals++
	f.notifyLocked(chip.CardRemoved)
}

// SetState replaces the health the reader reports (Connected, Err…).
func (f *Fake) SetState(s chip.State) {
	f.mu.Lock()
	f.state = s
	f.mu.Unlock()
}

// Wait implements chip.Reader.
func (f *Fake) Wait(ctx context.Context) (chip.Card, error) {
	for {
		f.mu.Lock()
		if f.closed {
			f.mu.Unlock()
			return nil, chip.ErrClosed
		}
		if f.state.CardPresent {
			c := &card{f: f, gen: f.gen}
			f.mu.Unlock()
			return c, nil
		}
		ch := f.changed
		f.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %w", chip.ErrNoCard, ctx.Err())
		case <-ch:
		}
	}
}

// Events implements chip.Reader.
func (f *Fake) Events() <-chan chip.Event { return f.events }

// Run implements chip.Reader: it waits for ctx.
func (f *Fake) Run(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

// State implements chip.Reader.
func (f *Fake) State() chip.State {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state
}

// Close implements chip.Reader.
func (f *Fake) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.closed {
		f.closed = true
		close(f.events)
	}
	return nil
}

type card struct {
	f      *Fake
	gen    int
	closed bool
}

func (c *card) ATR() []byte { return []byte{0x3B, 0x80, 0x80, 0x01, 0x01} }

func (c *card) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	c.f.mu.Lock()
	if c.closed || c.f.closed {
		c.f.mu.Unlock()
		return nil, chip.ErrClosed
	}
	if c.gen != c.f.gen || c.f.resp == nil {
		c.f.mu.Unlock()
		return nil, chip.ErrCardRemoved
	}
	r, d := c.f.resp, c.f.Delay
	c.f.APDUs++
	c.f.mu.Unlock()
	if d > 0 {
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	resp, err := r(append([]byte(nil), apdu...))
	if err != nil {
		return nil, err
	}
	c.f.mu.Lock()
	gone := c.gen != c.f.gen
	c.f.mu.Unlock()
	if gone {
		return nil, chip.ErrCardRemoved
	}
	return resp, nil
}

func (c *card) Close() error {
	c.f.mu.Lock()
	c.closed = true
	c.f.mu.Unlock()
	return nil
}
