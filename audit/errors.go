package audit

import "errors"

var (
	// ErrBroken is returned by Verify and Open when an entry's hash, its
	// link to the previous entry or its sequence number does not check.
	ErrBroken = errors.New("audit: chain broken")

	// ErrClosed is returned when appending to a closed log.
	ErrClosed = errors.New("audit: log closed")
)
