package chip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/checkpoint-edge/checkpoint/device/chip/pcsc"
	"github.com/checkpoint-edge/checkpoint/internal/backoff"
)

// Config configures a PC/SC reader.
type Config struct {
	// Socket is pcscd's socket; empty: PCSCLITE_CSOCK_NAME or
	// /run/pcscd/pcscd.comm.
	Socket string
	// Reader selects the reader whose name contains this text (case
	// insensitive); empty: the first reader.
	Reader string
	// Poll is how often the readers' state is read (default 100ms).
	Poll time.Duration
	// APDUTimeout bounds one APDU exchange (default 5s: a slow chip
	// computing a signature for Active Authentication takes ~1s).
	APDUTimeout time.Duration
	// Backoff paces reconnections to pcscd (defaults 200ms … 10s, ×2).
	Backoff backoff.Policy
	Clock   backoff.Clock
}

// DefaultBackoff is the reconnection policy when Config.Backoff is zero.
var DefaultBackoff = backoff.Policy{Initial: 200 * time.Millisecond, Max: 10 * time.Second, Factor: 2}

func (c Config) withDefaults() (Config, error) {
	if c.Poll == 0 {
		c.Poll = 100 * time.Millisecond
	}
	if c.APDUTimeout == 0 {
		c.APDUTimeout = 5 * time.Second
	}
	if c.Poll < 0 || c.APDUTimeout < 0 {
		return c, fmt.Errorf("%w: negative poll or APDU timeout", ErrConfig)
	}
	if err := c.Backoff.Validate(); err != nil {
		return c, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	c.Backoff = c.Backoff.Or(DefaultBackoff)
	if c.Clock == nil {
		c.Clock = backoff.SystemClock{}
	}
	if c.Socket == "" {
		c.Socket = pcsc.SocketPath()
	}
	return c, nil
}

// PCSC is a Reader on pcscd.
type PCSC struct {
	cfg    Config
	log    *slog.Logger
	events chan Event

	mu            sync.Mutex
	state         State
	counter       uint32 // event counter of the present card (a new card changes it)
	atr           []byte // ATR of the present card
	connectedOnce bool
	changed       chan struct{} // closed and replaced on every state change
	cards         map[*pcscCard]struct{}
	started       bool
	closed        bool
	cancel        context.CancelFunc
	done          chan struct{}
}

var _ Reader = (*PCSC)(nil)

// Open validates cfg; nothing is contacted until Run.
func Open(cfg Config, logger *slog.Logger) (*PCSC, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &PCSC{cfg: cfg, log: logger, events: make(chan Event, 16), changed: make(chan struct{}),
		cards: map[*pcscCard]struct{}{}, done: make(chan struct{}),
		state: State{Since: cfg.Clock.Now(), Err: ErrDaemon, LastError: "not started"}}, nil
}

// Events implements Reader.
func (r *PCSC) Events() <-chan Event { return r.events }

// State implements Reader.
func (r *PCSC) State() State {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state
}

// Run implements Reader: it polls pcscd, reconnecting with backoff.
func (r *PCSC) Run(ctx context.Context) error {
	r.mu.Lock()
	if r.started || r.closed {
		r.mu.Unlock()
		if r.closed {
			return ErrClosed
		}
		return ErrRunning
	}
	r.started = true
	ctx, r.cancel = context.WithCancel(ctx)
	r.mu.Unlock()
	defer close(r.done)
	defer close(r.events)

	failures := 0
	for ctx.Err() == nil {
		err := r.watch(ctx)
		if ctx.Err() != nil {
			break
		}
		failures++
		r.setState(func(s *State) {
			s.Connected, s.CardPresent, s.Reader = false, false, ""
			s.Err, s.LastError = err, err.Error()
		})
		d := r.cfg.Backoff.Jittered(failures, nil)
		r.log.Debug("pcscd unreachable, retrying", "err", err, "in", d)
		select {
		case <-ctx.Done():
		case <-r.cfg.Clock.After(d):
		}
	}
	r.setState(func(s *State) { s.Connected, s.CardPresent = false, false })
	return nil
}

// watch dials pcscd and polls the readers until the connection fails.
func (r *PCSC) watch(ctx context.Context) error {
	dctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	cl, err := pcsc.Dial(dctx, r.cfg.Socket)
	cancel()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrDaemon, err)
	}
	defer cl.Close()
	r.setState(func(s *State) {
		if r.connectedOnce {
			s.Reconnects++
		}
		r.connectedOnce = true
		s.Connected = true
	})
	r.log.Info("pcscd connected", "socket", r.cfg.Socket)
	tick := time.NewTicker(r.cfg.Poll)
	defer tick.Stop()
	for {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		readers, err := cl.Readers(pctx)
		cancel()
		if err != nil {
			return fmt.Errorf("%w: %w", ErrDaemon, err)
		}
		r.update(readers)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// update folds one poll into the state and emits events.
func (r *PCSC) update(readers []pcsc.ReaderState) {
	var sel *pcsc.ReaderState
	for i := range readers {
		if r.cfg.Reader == "" || strings.Contains(strings.ToLower(readers[i].Name), strings.ToLower(r.cfg.Reader)) {
			sel = &readers[i]
			break
		}
	}
	now := r.cfg.Clock.Now()
	var evs []Event
	r.mu.Lock()
	prev := r.state
	s := &r.state
	s.Connected = true
	if sel == nil {
		if prev.Reader != "" {
			evs = append(evs, Event{Kind: ReaderRemoved, Reader: prev.Reader, At: now})
			if prev.CardPresent {
				s.Removals++
				evs = append(evs, Event{Kind: CardRemoved, Reader: prev.Reader, At: now})
			}
		}
		s.Reader, s.CardPresent = "", false
		s.Err, s.LastError = ErrNoReader, ErrNoReader.Error()
	} else {
		if prev.Reader != sel.Name {
			evs = append(evs, Event{Kind: ReaderAdded, Reader: sel.Name, At: now})
		}
		s.Reader, s.Err, s.LastError = sel.Name, nil, ""
		present := sel.Present()
		// The same event counter with a card means the same card; a new
		// counter with a card means it was swapped between two polls.
		swapped := present && prev.CardPresent && sel.EventCounter != r.counter
		if (prev.CardPresent && !present) || swapped {
			s.Removals++
			evs = append(evs, Event{Kind: CardRemoved, Reader: sel.Name, At: now})
			r.dropCardsLocked()
		}
		if (present && !prev.CardPresent) || swapped {
			s.Insertions++
			evs = append(evs, Event{Kind: CardInserted, Reader: sel.Name, At: now})
		}
		s.CardPresent = present
		r.counter = sel.EventCounter
		r.atr = sel.ATR
	}
	changed := prev.Reader != s.Reader || prev.CardPresent != s.CardPresent || prev.Connected != s.Connected || len(evs) > 0
	if changed {
		s.Since = now
		close(r.changed)
		r.changed = make(chan struct{})
	}
	r.mu.Unlock()
	for _, ev := range evs {
		r.log.Debug("reader event", "kind", ev.Kind, "reader", ev.Reader)
		select {
		case r.events <- ev:
		default:
		}
	}
}

// dropCardsLocked marks the cards handed out as gone: the next Transmit
// fails at once with ErrCardRemoved rather than waiting on pcscd.
func (r *PCSC) dropCardsLocked() {
	for c := range r.cards {
		c.markRemoved()
	}
}

func (r *PCSC) setState(f func(*State)) {
	r.mu.Lock()
	f(&r.state)
	r.state.Since = r.cfg.Clock.Now()
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
}

// Wait implements Reader.
func (r *PCSC) Wait(ctx context.Context) (Card, error) {
	for {
		r.mu.Lock()
		if r.closed {
			r.mu.Unlock()
			return nil, ErrClosed
		}
		st, ch := r.state, r.changed
		r.mu.Unlock()
		if st.CardPresent && st.Reader != "" {
			c, err := r.connect(ctx, st.Reader)
			if err == nil {
				return c, nil
			}
			var pe *pcsc.Error
			if !errors.As(err, &pe) || !pe.Removed() {
				return nil, err
			}
			// Gone between the poll and the connect: wait for the next.
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %w", ErrNoCard, ctx.Err())
		case <-ch:
		case <-time.After(r.cfg.Poll * 5):
		}
	}
}

func (r *PCSC) connect(ctx context.Context, reader string) (*pcscCard, error) {
	cctx, cancel := context.WithTimeout(ctx, r.cfg.APDUTimeout)
	defer cancel()
	cl, err := pcsc.Dial(cctx, r.cfg.Socket)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDaemon, err)
	}
	k, err := cl.Connect(cctx, reader, pcsc.ShareExclusive)
	if err != nil {
		cl.Close()
		return nil, err
	}
	r.mu.Lock()
	c := &pcscCard{r: r, cl: cl, k: k, atr: append([]byte(nil), r.atr...), removed: make(chan struct{})}
	if r.closed {
		r.mu.Unlock()
		c.Close()
		return nil, ErrClosed
	}
	r.cards[c] = struct{}{}
	r.mu.Unlock()
	return c, nil
}

// Close implements Reader.
func (r *PCSC) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	started := r.started
	cards := make([]*pcscCard, 0, len(r.cards))
	for c := range r.cards {
		cards = append(cards, c)
	}
	if r.cancel != nil {
		r.cancel()
	}
	r.mu.Unlock()
	for _, c := range cards {
		c.Close()
	}
	if started {
		<-r.done
	} else {
		close(r.events)
	}
	return nil
}

// pcscCard is a Card on its own pcscd connection.
type pcscCard struct {
	r       *PCSC
	cl      *pcsc.Client
	k       *pcsc.Card
	atr     []byte
	once    sync.Once
	rmOnce  sync.Once
	removed chan struct{}
}

func (c *pcscCard) markRemoved() { c.rmOnce.Do(func() { close(c.removed) }) }

func (c *pcscCard) ATR() []byte { return c.atr }

// Transmit implements Card.
func (c *pcscCard) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	select {
	case <-c.removed:
		return nil, ErrCardRemoved
	default:
	}
	tctx, cancel := context.WithTimeout(ctx, c.r.cfg.APDUTimeout)
	defer cancel()
	// A removal seen by the poller cuts a blocked exchange short.
	go func() {
		select {
		case <-c.removed:
			cancel()
		case <-tctx.Done():
		}
	}()
	resp, err := c.k.Transmit(tctx, apdu)
	if err == nil {
		if len(resp) < 2 {
			// An answer without a status word is what a reader passes on
			// when the card left the field in mid-exchange.
			c.markRemoved()
			return nil, fmt.Errorf("%w: answer of %d bytes without status word", ErrCardRemoved, len(resp))
		}
		return resp, nil
	}
	var pe *pcsc.Error
	select {
	case <-c.removed:
		return nil, fmt.Errorf("%w: %w", ErrCardRemoved, err)
	default:
	}
	switch {
	case errors.As(err, &pe) && pe.Removed():
		c.markRemoved()
		return nil, fmt.Errorf("%w: %w", ErrCardRemoved, err)
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case errors.Is(err, pcsc.ErrBroken) && (tctx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded)):
		c.markRemoved() // the connection is gone with the deadline
		return nil, fmt.Errorf("%w (%v)", ErrTimeout, c.r.cfg.APDUTimeout)
	}
	return nil, err
}

// Close implements Card: the chip is reset, ending its secure session.
func (c *pcscCard) Close() error {
	c.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c.k.Disconnect(ctx, pcsc.ResetCard)
		cancel()
		c.cl.Close()
		c.markRemoved()
		c.r.mu.Lock()
		delete(c.r.cards, c)
		c.r.mu.Unlock()
	})
	return nil
}
