package pull

import "errors"

var (
	// ErrChecksum is returned when a downloaded file does not match the
	// SHA-256 or size the index announces; the partial file is discarded.
	ErrChecksum = errors.New("pull: downloaded file does not match the index")

	// ErrHTTP is returned (wrapped, with the status) when the hub answers
	// with an unexpected HTTP status.
	ErrHTTP = errors.New("pull: unexpected HTTP status")

	// ErrNotFound is returned when the hub has no such index or file.
	ErrNotFound = errors.New("pull: not found on the hub")

	// ErrGaveUp is returned when a download makes no progress after the
	// configured number of attempts.
	ErrGaveUp = errors.New("pull: download made no progress; giving up for now")

	// ErrIndex is returned when the index is for another watchlist or
	// cannot be used.
	ErrIndex = errors.New("pull: unusable index")

	// ErrClosed is returned when a Puller is used after Close.
	ErrClosed = errors.New("pull: puller closed")
)
