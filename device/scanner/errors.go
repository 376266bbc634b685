package scanner

import "errors"

var (
	// ErrConfig is returned when a Config is invalid; nothing was opened.
	ErrConfig = errors.New("scanner: invalid config")
	// ErrFraming is returned when a framing name is not one of lines, stx,
	// stx-bcc, vendor or json.
	ErrFraming = errors.New("scanner: unknown framing")
	// ErrNotFound is returned (wrapped, and kept as the last error of the
	// State) when no serial port matches the configured VID/PID/serial.
	ErrNotFound = errors.New("scanner: no matching reader")
	// ErrOpen is returned (wrapped, and kept as the last error of the State)
	// when the port exists but cannot be opened or configured.
	ErrOpen = errors.New("scanner: cannot open port")
	// ErrDisconnected is returned (wrapped, and kept as the last error of
	// the State) when an open port stops working: reader unplugged, port
	// closed under us, I/O error.
	ErrDisconnected = errors.New("scanner: reader disconnected")
	// ErrRunning is returned by Run when the Scanner is running or has
	// already run; a Scanner runs once.
	ErrRunning = errors.New("scanner: already running or ran")
	// ErrClosed is returned by Run when the Scanner was closed before it
	// started.
	ErrClosed = errors.New("scanner: closed")
	// ErrEncode is returned by Encode when lines cannot be framed: no lines,
	// bytes the framing cannot carry, or a payload over MaxFrame.
	ErrEncode = errors.New("scanner: cannot encode frame")
	// ErrEnumerate is returned by ListPorts when the operating system
	// cannot list serial ports.
	ErrEnumerate = errors.New("scanner: cannot list serial ports")
)
