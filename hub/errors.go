package hub

import "errors"

var (
	// ErrClosed is returned when the Hub has been closed.
	ErrClosed = errors.New("hub: closed")

	// ErrBadBatch is returned when an uploaded batch is malformed, too large,
	// or holds a record whose key does not belong to the uploading unit.
	ErrBadBatch = errors.New("hub: bad batch")

	// ErrNoIdentity is returned when an import is attempted without an age
	// identity to decrypt it.
	ErrNoIdentity = errors.New("hub: no age identity configured for imports")

	// ErrUnknownUnit is returned when results are requested for a unit the
	// hub has never heard from.
	ErrUnknownUnit = errors.New("hub: unknown unit")
)
