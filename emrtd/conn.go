package emrtd

import (
	"context"
	"errors"
	"fmt"

	"github.com/checkpoint-edge/checkpoint/device/chip"
	"github.com/checkpoint-edge/checkpoint/emrtd/sm"
)

// Card is a chip on a reader (device/chip's cards satisfy it).
type Card interface {
	Transmit(ctx context.Context, apdu []byte) ([]byte, error)
	Close() error
}

// Opener returns the card on the reader, waiting for one until ctx ends.
type Opener func(ctx context.Context) (Card, error)

// FromReader adapts a device/chip Reader.
func FromReader(r chip.Reader) Opener {
	return func(ctx context.Context) (Card, error) {
		c, err := r.Wait(ctx)
		if err != nil {
			return nil, err
		}
		return c, nil
	}
}

// conn is one card session: the card and, once access control ran, the
// secure-messaging session.
type conn struct {
	card  Card
	sm    *sm.Session
	apdus int
}

// errRemoved reports whether err means the card left the reader.
func errRemoved(err error) bool {
	return errors.Is(err, chip.ErrCardRemoved) || errors.Is(err, chip.ErrClosed)
}

// exchange sends a command (protected when a session is up) and returns
// the response data and status word.
func (c *conn) exchange(ctx context.Context, op string, cmd sm.Command) ([]byte, uint16, error) {
	var raw []byte
	var err error
	if c.sm != nil {
		raw, err = c.sm.Wrap(cmd)
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", op, err)
		}
	} else {
		raw = cmd.Bytes()
	}
	c.apdus++
	resp, err := c.card.Transmit(ctx, raw)
	if err != nil {
		if errRemoved(err) {
			return nil, 0, fmt.Errorf("%s: %w", op, ErrRemoved)
		}
		if ctx.Err() != nil {
			return nil, 0, fmt.Errorf("%s: %w", op, ErrTimeout)
		}
		if errors.Is(err, chip.ErrTimeout) {
			return nil, 0, fmt.Errorf("%s: %w (%v)", op, ErrTimeout, err)
		}
		return nil, 0, fmt.Errorf("%s: %w", op, err)
	}
	if len(resp) < 2 {
		return nil, 0, fmt.Errorf("%s: %w: response without status word", op, ErrProtocol)
	}
	if c.sm != nil {
		plain, err := c.sm.Unwrap(resp)
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w: %w", op, ErrProtocol, err)
		}
		resp = plain
	}
	n := len(resp)
	return resp[:n-2], uint16(resp[n-2])<<8 | uint16(resp[n-1]), nil
}

// ok runs exchange and turns a non-9000 status word into *SWError.
func (c *conn) ok(ctx context.Context, op string, cmd sm.Command) ([]byte, error) {
	data, sw, err := c.exchange(ctx, op, cmd)
	if err != nil {
		return nil, err
	}
	if sw != 0x9000 {
		return data, &SWError{Op: op, SW: sw}
	}
	return data, nil
}

func swIs(err error, sws ...uint16) bool {
	var e *SWError
	if !errors.As(err, &e) {
		return false
	}
	for _, s := range sws {
		if e.SW == s {
			return true
		}
	}
	return false
}

// aid of the eMRTD application.
var aidMRTD = []byte{0xA0, 0x00, 0x00, 0x02, 0x47, 0x10, 0x01}

func (c *conn) selectApp(ctx context.Context) error {
	_, err := c.ok(ctx, "select eMRTD application", sm.Command{INS: 0xA4, P1: 0x04, P2: 0x0C, Data: aidMRTD})
	return err
}

func (c *conn) selectFile(ctx context.Context, fid uint16) error {
	_, err := c.ok(ctx, "select file", sm.Command{INS: 0xA4, P1: 0x02, P2: 0x0C, Data: []byte{byte(fid >> 8), byte(fid)}})
	return err
}
