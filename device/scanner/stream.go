package scanner

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// Stream applies a scanner's framing, MRZ parsing and repeat detection to
// any byte stream: a replayed recording, a pipe, a socket. Build it with
// NewStream.
type Stream struct {
	core
	r       io.Reader
	initErr error
}

var _ Scanner = (*Stream)(nil)

// NewStream returns a Stream reading r with cfg's Framing, LineTimeout,
// RepeatWindow, MRZ options, EventBuffer and Clock; port settings are
// ignored. An invalid cfg makes Run fail. If r is an io.Closer, Close and
// the end of Run's context close it to wake a blocked read; otherwise a
// blocked Read keeps its goroutine until r returns.
func NewStream(r io.Reader, cfg Config) *Stream {
	var err error
	if cfg.Port == "" && cfg.VID == "" {
		cfg.Port = "stream" // port settings do not apply
	}
	if err = cfg.Validate(); err != nil {
		err = fmt.Errorf("scanner: stream: %w", err)
	}
	cfg = cfg.withDefaults()
	return &Stream{core: newCore(cfg, nil), r: r, initErr: err}
}

// Close stops Run and waits for it; idempotent.
func (s *Stream) Close() error {
	s.stop(s.closeReader)
	return nil
}

func (s *Stream) closeReader() {
	if c, ok := s.r.(io.Closer); ok {
		c.Close()
	}
}

// Run reads the stream until its end (returns nil after delivering the
// last document), a read error (returned, wrapping ErrDisconnected), ctx's
// end or Close (returns nil).
func (s *Stream) Run(ctx context.Context) error {
	if s.initErr != nil {
		s.stop(nil)
		return s.initErr
	}
	ctx, err := s.start(ctx)
	if err != nil {
		return err
	}
	defer s.finish()
	s.setConnected("stream")

	type chunk struct {
		data []byte
		err  error
	}
	chunks := make(chan chunk)
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		for {
			buf := make([]byte, 4096)
			n, err := s.r.Read(buf)
			select {
			case chunks <- chunk{buf[:n], err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	defer func() {
		if _, ok := s.r.(io.Closer); ok {
			s.closeReader()
			<-readerDone
		}
	}()

	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.cfg.Clock.After(s.pollInterval()):
			if s.deliver(ctx, s.dec.Tick(s.cfg.Clock.Now())) != nil {
				return nil
			}
		case c := <-chunks:
			if len(c.data) > 0 {
				if s.deliver(ctx, s.dec.Feed(c.data, s.cfg.Clock.Now())) != nil {
					return nil
				}
			}
			if c.err == nil {
				continue
			}
			if s.deliver(ctx, s.dec.Flush()) != nil {
				return nil
			}
			if errors.Is(c.err, io.EOF) {
				s.setDown(nil, true)
				return nil
			}
			err := fmt.Errorf("%w: %w", ErrDisconnected, c.err)
			s.setDown(err, true)
			return err
		}
	}
}
