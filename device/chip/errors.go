package chip

import "errors"

var (
	// ErrConfig is returned when a Config is invalid; nothing was opened.
	ErrConfig = errors.New("chip: invalid config")
	// ErrDaemon is returned (and kept in State) while pcscd is not
	// reachable.
	ErrDaemon = errors.New("chip: pcscd not reachable")
	// ErrNoReader is returned (and kept in State) while no matching reader
	// is plugged in.
	ErrNoReader = errors.New("chip: no contactless reader")
	// ErrNoCard is returned by Wait when its context ends before a card
	// is presented.
	ErrNoCard = errors.New("chip: no card on the reader")
	// ErrCardRemoved is returned by Transmit when the card left the reader
	// (or was reset) during the exchange.
	ErrCardRemoved = errors.New("chip: card removed")
	// ErrTimeout is returned by Transmit when the card did not answer
	// within the per-APDU timeout.
	ErrTimeout = errors.New("chip: card did not answer in time")
	// ErrClosed is returned by calls on a closed Reader or Card.
	ErrClosed = errors.New("chip: closed")
	// ErrRunning is returned by Run when the Reader runs or ran already.
	ErrRunning = errors.New("chip: already running or ran")
)
