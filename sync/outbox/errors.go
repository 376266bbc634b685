package outbox

import "errors"

var (
	// ErrClosed is returned when the Outbox has been closed.
	ErrClosed = errors.New("outbox: closed")

	// ErrLocked is returned when another process holds the outbox file
	// (the daemon, usually) beyond Options.Timeout.
	ErrLocked = errors.New("outbox: file locked by another process")

	// ErrDiskFull is returned when the file system has no space left (or the
	// file hit its size limit) while committing; the item was not stored.
	ErrDiskFull = errors.New("outbox: disk full: item not stored")

	// ErrInvalidItem is returned when an item has no kind, an unknown
	// priority, a payload that is not JSON or one that is too large.
	ErrInvalidItem = errors.New("outbox: invalid item")

	// ErrCorrupt is returned when a stored value fails its integrity check or
	// cannot be decoded.
	ErrCorrupt = errors.New("outbox: stored value corrupt or tampered")

	// ErrHubRejected is returned when the hub answers an upload with a
	// client error (4xx other than 408/429): retrying the same batch will not
	// help, but it is retried with backoff anyway because nothing may be lost.
	ErrHubRejected = errors.New("outbox: hub rejected the batch")

	// ErrHubUnavailable is returned when the hub cannot be reached or answers
	// with a server error.
	ErrHubUnavailable = errors.New("outbox: hub unavailable")

	// ErrNoUnit is returned when a new outbox is opened without a unit id.
	ErrNoUnit = errors.New("outbox: no unit id given and none recorded in the file")

	// ErrUnitMismatch is returned when an outbox is opened with a unit id
	// other than the one it was created for.
	ErrUnitMismatch = errors.New("outbox: unit id does not match the outbox file")

	// ErrBadExport is returned when an export file is malformed, unsigned,
	// signed by a certificate the CA did not issue, or its signature fails.
	ErrBadExport = errors.New("outbox: bad export file")
)
