package chipsim

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"
)

// vpcd control codes (one-byte messages from the driver).
const (
	vpcdPowerOff = 0x00
	vpcdPowerOn  = 0x01
	vpcdReset    = 0x02
	vpcdATR      = 0x04
)

// Emulator puts a Card into a vpcd virtual reader: it is the TCP client of
// vpcd's listening port and answers its messages (2-byte big-endian length,
// then the bytes; one byte is a control code, more is a command APDU).
// Closing the connection takes the card out of the field.
type Emulator struct {
	addr string
	card *Card
	log  *slog.Logger

	mu       sync.Mutex
	conn     net.Conn
	done     chan struct{}
	seen     chan struct{} // closed when vpcd sent its first message
	reads    int           // READ BINARY commands since the card was first inserted
	fired    bool          // the removal fault has fired
	closed   bool
	reinsert *time.Timer
	inserts  int
	lastErr  error
}

// NewEmulator prepares card for the vpcd reader at addr ("127.0.0.1:PORT").
// A nil logger discards. Nothing is dialled before Insert or Run.
func NewEmulator(addr string, card *Card, logger *slog.Logger) *Emulator {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Emulator{addr: addr, card: card, log: logger}
}

// Card returns the emulated chip.
func (e *Emulator) Card() *Card { return e.card }

// Insert connects to vpcd: the card enters the field, unpowered.
func (e *Emulator) Insert() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.insertLocked()
}

func (e *Emulator) insertLocked() error {
	if e.conn != nil {
		return ErrInserted
	}
	if e.closed {
		return fmt.Errorf("chipsim: emulator closed")
	}
	conn, err := net.DialTimeout("tcp", e.addr, 10*time.Second)
	if err != nil {
		return fmt.Errorf("chipsim: connect to vpcd at %s: %w", e.addr, err)
	}
	e.card.Reset()
	e.conn = conn
	e.done = make(chan struct{})
	e.seen = make(chan struct{})
	e.inserts++
	e.log.Debug("chip inserted", "vpcd", e.addr)
	go e.serve(conn, e.done, e.seen)
	return nil
}

// Remove closes the connection: the card leaves the field. It waits until
// the card has stopped answering.
//
// vpcd accepts a card only at pcscd's presence poll (about every 400 ms)
// and listens with a backlog of 0: a connection closed before vpcd took it
// would sit in the queue and make the next Insert wait for a SYN
// retransmission (a second). So Remove first waits (up to 2 s) until vpcd
// has spoken on this connection: every insertion is seen by pcscd, and the
// next Insert connects at once.
func (e *Emulator) Remove() error {
	e.mu.Lock()
	conn, done, seen := e.conn, e.done, e.seen
	e.conn = nil
	if e.reinsert != nil {
		e.reinsert.Stop()
		e.reinsert = nil
	}
	e.mu.Unlock()
	if conn == nil {
		return ErrNotInserted
	}
	select {
	case <-seen:
	case <-done:
	case <-time.After(2 * time.Second):
	}
	conn.Close()
	<-done
	e.log.Debug("chip removed", "vpcd", e.addr)
	return nil
}

// Inserted reports whether the card is in the field.
func (e *Emulator) Inserted() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.conn != nil
}

// Inserts counts the insertions so far (fault re-insertions included).
func (e *Emulator) Inserts() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.inserts
}

// Close removes the card if present and cancels any pending re-insertion;
// the emulator cannot be used afterwards.
func (e *Emulator) Close() error {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	if err := e.Remove(); err != nil && !errors.Is(err, ErrNotInserted) {
		return err
	}
	return nil
}

// Run inserts the card and keeps it in the field until ctx ends, inserting
// it again (after a second) whenever vpcd drops the connection or a fault
// takes it out without bringing it back. It returns nil when ctx ends.
func (e *Emulator) Run(ctx context.Context) error {
	defer e.Close()
	for {
		if err := e.Insert(); err != nil && !errors.Is(err, ErrInserted) {
			e.log.Warn("vpcd not reachable, retrying", "vpcd", e.addr, "err", err)
		}
		e.mu.Lock()
		done := e.done
		e.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil
		case <-done:
		case <-time.After(time.Second):
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

func (e *Emulator) serve(conn net.Conn, done, seen chan struct{}) {
	defer func() {
		conn.Close()
		e.mu.Lock()
		if e.conn == conn {
			e.conn = nil
		}
		e.mu.Unlock()
		close(done)
	}()
	var hdr [2]byte
	for {
		quickAck(conn)
		if _, err := io.ReadFull(conn, hdr[:]); err != nil {
			return
		}
		quickAck(conn)
		msg := make([]byte, binary.BigEndian.Uint16(hdr[:]))
		if _, err := io.ReadFull(conn, msg); err != nil {
			return
		}
		if seen != nil {
			close(seen)
			seen = nil
		}
		var out []byte
		switch {
		case len(msg) == 0:
			continue
		case len(msg) == 1:
			switch msg[0] {
			case vpcdPowerOff, vpcdPowerOn, vpcdReset:
				e.card.Reset()
				continue
			case vpcdATR:
				out = e.card.ATR()
			default:
				e.log.Debug("unknown vpcd control code", "code", msg[0])
				continue
			}
		default:
			if e.removeNow(msg) {
				return
			}
			if d := time.Duration(e.card.faults.ResponseDelay); d > 0 {
				time.Sleep(d)
			}
			out = e.card.Process(msg)
			e.log.Debug("apdu", "ins", fmt.Sprintf("%02X", msg[1]), "sw", fmt.Sprintf("%X", out[len(out)-2:]))
		}
		if len(out) > 0xFFFF {
			out = appendSW(nil, swNoPreciseDiagnosis)
		}
		frame := make([]byte, 2+len(out))
		binary.BigEndian.PutUint16(frame, uint16(len(out)))
		copy(frame[2:], out)
		if _, err := conn.Write(frame); err != nil {
			return
		}
	}
}

// removeNow applies the removal fault: true means leave the field instead
// of answering this APDU.
func (e *Emulator) removeNow(apdu []byte) bool {
	if len(apdu) < 2 || (apdu[1] != 0xB0 && apdu[1] != 0xB1) {
		return false
	}
	f := e.card.faults
	e.mu.Lock()
	defer e.mu.Unlock()
	e.reads++
	if f.RemoveAfterReads <= 0 || e.fired || e.reads < f.RemoveAfterReads {
		return false
	}
	e.fired = true
	e.log.Debug("fault: card leaves the field mid-read", "reads", e.reads)
	if f.RemovedFor > 0 && !e.closed {
		e.reinsert = time.AfterFunc(time.Duration(f.RemovedFor), func() {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.reinsert = nil
			if e.closed {
				return
			}
			// The old connection is closing; wait for it without the lock.
			for e.conn != nil {
				e.mu.Unlock()
				time.Sleep(5 * time.Millisecond)
				e.mu.Lock()
			}
			if err := e.insertLocked(); err != nil {
				e.lastErr = err
				e.log.Warn("fault: re-insertion failed", "err", err)
			}
		})
	}
	return true
}
