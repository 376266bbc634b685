package scanner

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sync"
	"time"

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
//
// Two goroutines share the work (see queue.go): pump opens and reads the
// port continuously, queueing the bytes with their arrival time, and
// reconnects, whatever the lane is doing; Run's own goroutine frames the
// queued bytes and delivers documents, waiting for the lane as long as it
// takes. Documents queued before an unplug are delivered after it.
func (s *Serial) Run(ctx context.Context) error {
	ctx, err := s.start(ctx)
	if err != nil {
		return err
	}
	defer s.finish()
	in := newInbox(s.cfg.QueueBytes)
	s.mu.Lock()
	s.inbox = in
	s.mu.Unlock()
	pumpDone := make(chan struct{})
	go func() {
		defer close(pumpDone)
		s.pump(ctx, in)
	}()
	defer func() {
		s.cancel() // stop the pump if framing stopped first
		s.closePort()
		<-pumpDone
	}()
	for {
		c, ok := in.pop(ctx)
		if !ok {
			break
		}
		var frames []Frame
		switch {
		case c.down:
			// A frame cut by the disconnect is counted partial; a text
			// document that only lacked its final terminator is kept.
			frames = s.dec.Flush()
		case c.data != nil:
			frames = s.dec.FeedContinuous(c.data, c.at)
		default:
			frames = s.dec.Silent(c.silent)
		}
		if s.deliver(ctx, frames) != nil {
			break
		}
	}
	s.log.Debug("scanner stopped", "port", s.where())
	return nil
}

// pump opens the port, reads it into in until it fails, and reopens it
// with backoff, until ctx ends.
func (s *Serial) pump(ctx context.Context, in *inbox) {
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
				return
			}
			continue
		}
		s.setConnected(name)
		s.log.Info("scanner connected", "port", name, "framing", s.cfg.Framing.String(), "baud", s.cfg.Baud)
		since := s.cfg.Clock.Now()
		err = s.read(ctx, port, in)
		s.closePort()
		if ctx.Err() != nil {
			return
		}
		s.setDown(err, true)
		s.log.Warn("scanner disconnected", "port", name, "err", err)
		if !in.push(ctx, chunk{down: true, err: err}, s.queueFull) {
			return
		}
		if s.cfg.Clock.Now().Sub(since) >= s.cfg.Backoff.Max {
			failures = 0 // it worked for a while: start backing off afresh
		}
		failures++
		if !s.sleep(ctx, failures) {
			return
		}
	}
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

// read queues what the port delivers until the port fails or ctx ends.
// Bytes are stamped when the read returns. The line was silent only as far
// as a read proves it: a read that comes back empty (go.bug.st/serial
// returns (0, nil) when its timeout passes) found nothing waiting when it
// began, so nothing arrived between the last bytes and that moment (a byte
// that arrived while this goroutine waited for room in the queue, or for
// the scheduler, would still be in the kernel and be returned). Once that
// proven silence exceeds the line timeout it is queued, in order, for the
// framing to settle a frame cut short. The proof lags the real silence by
// up to one poll interval (a tenth of the line timeout), never the other
// way: a burst, however long the lane makes it wait, is never split.
func (s *Serial) read(ctx context.Context, port serial.Port, in *inbox) error {
	var last time.Time // stamp of the last bytes
	told := false      // the silence since last was queued
	for ctx.Err() == nil {
		buf := make([]byte, readSize)
		began := s.cfg.Clock.Now()
		n, err := port.Read(buf)
		now := s.cfg.Clock.Now()
		if n > 0 {
			s.mu.Lock()
			s.state.BytesRead += uint64(n)
			s.mu.Unlock()
			if !in.push(ctx, chunk{data: buf[:n], at: now}, s.queueFull) {
				return nil
			}
			s.queueRoom()
			last, told = now, false
		} else if err == nil {
			if d := began.Sub(last); !told && d > s.cfg.LineTimeout {
				told = true
				if !in.push(ctx, chunk{silent: d}, s.queueFull) {
					return nil
				}
			}
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
