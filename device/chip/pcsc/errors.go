package pcsc

import (
	"errors"
	"fmt"
)

var (
	// ErrBroken is returned when an exchange with the daemon was cut short
	// (deadline, closed socket, short read): the Client is closed.
	ErrBroken = errors.New("pcsc: connection to pcscd broken")
	// ErrNoDaemon is returned by Dial when no pcscd listens on the socket.
	ErrNoDaemon = errors.New("pcsc: pcscd not reachable")
	// ErrProtocol is returned when pcscd speaks a protocol version this
	// client does not know, or answers with a malformed message.
	ErrProtocol = errors.New("pcsc: protocol mismatch with pcscd")
	// ErrClosed is returned by calls on a closed Client.
	ErrClosed = errors.New("pcsc: client closed")
)

// Code is a PC/SC return value (SCARD_E_*, SCARD_W_*).
type Code uint32

// Return values this package and its callers look at.
const (
	Success           Code = 0x00000000
	ErrCancelled      Code = 0x80100002
	ErrInvalidHandle  Code = 0x80100003
	ErrTimeout        Code = 0x8010000A
	ErrSharingViol    Code = 0x8010000B
	ErrNoSmartcard    Code = 0x8010000C
	ErrUnknownReader  Code = 0x80100009
	ErrProtoMismatch  Code = 0x8010000F
	ErrNotReady       Code = 0x80100010
	ErrReaderUnavail  Code = 0x80100017
	ErrNoService      Code = 0x8010001D
	ErrServiceStopped Code = 0x8010001E
	ErrNoReaders      Code = 0x8010002E
	WarnUnresponsive  Code = 0x80100066
	WarnUnpowered     Code = 0x80100067
	WarnReset         Code = 0x80100068
	WarnRemoved       Code = 0x80100069
	ErrCommError      Code = 0x80100013
	ErrInsufficient   Code = 0x80100008
	ErrNotTransacted  Code = 0x80100016
)

var codeText = map[Code]string{
	ErrCancelled: "cancelled", ErrInvalidHandle: "invalid handle", ErrTimeout: "timeout",
	ErrSharingViol: "sharing violation", ErrNoSmartcard: "no card in reader", ErrUnknownReader: "unknown reader",
	ErrProtoMismatch: "protocol mismatch", ErrNotReady: "reader not ready", ErrReaderUnavail: "reader unavailable",
	ErrNoService: "service not running", ErrServiceStopped: "service stopped", ErrNoReaders: "no readers",
	WarnUnresponsive: "card unresponsive", WarnUnpowered: "card unpowered", WarnReset: "card reset",
	WarnRemoved: "card removed", ErrCommError: "communication error", ErrNotTransacted: "not transacted", ErrInsufficient: "buffer too small",
}

// Error is a PC/SC failure reported by the daemon.
type Error struct {
	Op   string
	Code Code
}

func (e *Error) Error() string {
	t, ok := codeText[e.Code]
	if !ok {
		t = "error"
	}
	return fmt.Sprintf("pcsc: %s: %s (0x%08X)", e.Op, t, uint32(e.Code))
}

// Removed reports whether the card left the reader (or was reset or
// unpowered) during the operation. A transmit that was "not transacted"
// counts: that is what a reader reports when the card leaves the field
// in the middle of an exchange.
func (e *Error) Removed() bool {
	switch e.Code {
	case WarnRemoved, ErrNotTransacted, WarnReset, WarnUnpowered, ErrNoSmartcard, ErrInvalidHandle, WarnUnresponsive, ErrReaderUnavail, ErrUnknownReader:
		return true
	}
	return false
}
