package chip

import (
	"context"
	"time"
)

// Card is a chip on the reader, ready for APDUs. It satisfies
// emrtd.Transport.
type Card interface {
	// Transmit sends one command APDU and returns the response APDU
	// (data and status word). ctx bounds the exchange together with the
	// reader's per-APDU timeout.
	Transmit(ctx context.Context, apdu []byte) ([]byte, error)
	// ATR is the card's answer to reset (for contactless cards, built by
	// the reader from the ATS).
	ATR() []byte
	// Close ends the card session (the chip is reset); idempotent.
	Close() error
}

// Reader hands out the card on a contactless reader.
type Reader interface {
	// Wait returns the card on the reader, waiting for one to be
	// presented until ctx ends (then ErrNoCard wrapping ctx's error).
	Wait(ctx context.Context) (Card, error)
	// Events delivers card and reader events while Run runs; closed when
	// Run returns. A slow consumer loses events, never blocks the reader.
	Events() <-chan Event
	// Run watches the reader until ctx ends or Close is called.
	Run(ctx context.Context) error
	// State is the reader's health, safe from any goroutine.
	State() State
	// Close stops Run and closes every card; idempotent.
	Close() error
}

// Event kinds.
const (
	CardInserted  = "card_inserted"
	CardRemoved   = "card_removed"
	ReaderAdded   = "reader_added"
	ReaderRemoved = "reader_removed"
)

// Event is a change seen on the reader.
type Event struct {
	Kind   string    `json:"kind"`
	Reader string    `json:"reader"`
	At     time.Time `json:"at"`
}

// State is a snapshot of the reader's health.
type State struct {
	// Connected is true while pcscd answers.
	Connected bool `json:"connected"`
	// Reader is the reader in use (empty: none plugged in).
	Reader string `json:"reader,omitempty"`
	// CardPresent is true while a card is on the reader.
	CardPresent bool      `json:"card_present"`
	Since       time.Time `json:"since"`
	// Err is the last problem (pcscd down, no reader); LastError is its
	// message for JSON.
	Err       error  `json:"-"`
	LastError string `json:"last_error,omitempty"`
	// Insertions and Removals count cards seen; Reconnects counts
	// reconnections to pcscd.
	Insertions uint64 `json:"insertions"`
	Removals   uint64 `json:"removals"`
	Reconnects uint64 `json:"reconnects"`
}

// Healthy reports whether a reader is there and pcscd answers.
func (s State) Healthy() bool { return s.Connected && s.Reader != "" }
