package channel

import "errors"

var (
	// ErrClosed is returned when a Store is used after Close.
	ErrClosed = errors.New("channel: store closed")

	// ErrLocked is returned when another process holds the store file
	// (checkpointd, while a technician runs checkpointctl).
	ErrLocked = errors.New("channel: store is locked by another process")

	// ErrIntegrity is returned when a stored record or channel state fails
	// authentication, or the records no longer hash to the installed
	// state: the file was tampered with or damaged.
	ErrIntegrity = errors.New("channel: stored channel failed authentication")

	// ErrDuplicateKind is returned when two consumers register one kind.
	ErrDuplicateKind = errors.New("channel: kind already has a consumer")
)
