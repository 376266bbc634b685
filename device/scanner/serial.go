package scanner

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sync"

	"go.bug.st/serial"
)

// Serial reads a document reader on a serial port. Build it with Open.
type Serial struct {
	core
	portMu sync.Mutex
	port   serial.Port
}

var _ Scanner = (*Serial)(nil)

// Open validates cfg and returns a Serial for it. The port is opened by
// Run, which keeps reopening it, so Open succeeds with the reader
// unplugged. logger may be nil (no logs).
func Open(cfg Config, logger *slog.Logger) (*Serial, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &Serial{core: newCore(cfg, logger)}, nil
}

// Close stops Run, closing the port to wake a blocked read, and waits for
// Run to return. It is idempotent and may be called before Run.
func (s *Serial) Close() error {
	s.stop(s.closePort)
	return nil
}

func (s *Serial) closePort() {
	s.portMu.Lock()
	p := s.port
	s.port = nil
	s.portMu.Unlock()
	if p != nil {
		p.Close()
	}
}

// Run opens the port and reads documents until ctx ends or Close is
// called, then returns nil. Every failure (no matching reader, port busy,
// unplug, I/O error) is recorded in State, logged without personal data,
// and followed by a reopen after Config.Backoff.
func (s *Serial) Run(ctx context.Context) error {
	ctx, err := s.start(ctx)
	if err != nil {
		return err
	}
	defer s.finish()
	failures := 0
	for ctx.Err() == nil {
		port, name, err := s.open(ctx)
		if err != nil {
			failures++
			s.setDown(err, false)
			if failures == 1 {
				s.log.Warn("scanner not available", "port", s.where(), "err", err)
			} else {
				s.log.Debug("scanner still not available", "port", s.where(), "attempt", failures, "err", err)
			}
			if !s.sleep(ctx, failures) {
				break
			}
			continue
		}
		s.setConnected(name)
		s.log.Info("scanner connected", "port", name, "framing", s.cfg.Framing.String(), "baud", s.cfg.Baud)
		since := s.cfg.Clock.Now()
		err = s.read(ctx, port)
		s.closePort()
		// A frame cut by the disconnect is dropped; a text document that
		// only lacked its final terminator is kept.
		if s.deliver(ctx, s.dec.Flush()) != nil || ctx.Err() != nil {
			break
		}
		s.setDown(err, true)
		s.log.Warn("scanner disconnected", "port", name, "err", err)
		if s.cfg.Clock.Now().Sub(since) >= s.cfg.Backoff.Max {
			failures = 0 // it worked for a while: start backing off afresh
		}
		failures++
		if !s.sleep(ctx, failures) {
			break
		}
	}
	s.log.Debug("scanner stopped", "port", s.where())
	return nil
}

func (s *Serial) where() string {
	if s.cfg.Port != "" {
		return s.cfg.Port
	}
	return "usb:" + s.cfg.VID + ":" + s.cfg.PID
}

func (s *Serial) sleep(ctx context.Context, failures int) bool {
	select {
	case <-ctx.Done():
		return false
	case <-s.cfg.Clock.After(s.cfg.Backoff.Delay(failures)):
		return true
	}
}

func (s *Serial) open(ctx context.Context) (serial.Port, string, error) {
	name := s.cfg.Port
	if name == "" {
		ports, err := s.cfg.Enumerate()
		if err != nil {
			return nil, "", err
		}
		p, err := FindPort(ports, s.cfg.VID, s.cfg.PID, s.cfg.Serial)
		if err != nil {
			return nil, "", err
		}
		name = p.Name
	}
	port, err := serial.Open(name, s.cfg.mode())
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, "", fmt.Errorf("%w: %s: %w", ErrNotFound, name, err)
		}
		return nil, "", fmt.Errorf("%w %s: %w", ErrOpen, name, err)
	}
	if err := port.SetReadTimeout(s.pollInterval()); err != nil {
		port.Close()
		return nil, "", fmt.Errorf("%w %s: %w", ErrOpen, name, err)
	}
	s.portMu.Lock()
	defer s.portMu.Unlock()
	if ctx.Err() != nil { // Close ran while we were opening
		port.Close()
		return nil, "", ctx.Err()
	}
	s.port = port
	return port, name, nil
}

// read feeds the decoder until the port fails or ctx ends. A read timeout
// returns (0, nil) from go.bug.st/serial: that is when stale frames are
// settled.
func (s *Serial) read(ctx context.Context, port serial.Port) error {
	buf := make([]byte, 1024)
	for ctx.Err() == nil {
		n, err := port.Read(buf)
		now := s.cfg.Clock.Now()
		var frames []Frame
		if n > 0 {
			frames = s.dec.Feed(buf[:n], now)
		} else {
			frames = s.dec.Tick(now)
		}
		if s.deliver(ctx, frames) != nil {
			return nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("%w: %w", ErrDisconnected, err)
		}
	}
	return nil
}
