package audit

import "errors"

var (
	// ErrBroken is returned by Verify and Open when an entry's hash, its
	// link to the previous entry or its sequence number does not check.
	ErrBroken = errors.New("audit: chain broken")

	// ErrBadProof is returned by CheckSegment when entries sent as a proof
	// are malformed, mis-hashed or do not link to each other.
	ErrBadProof = errors.New("audit: bad chain proof")

	// ErrTruncated is returned by VerifyAgainst when the log holds fewer
	// entries than headquarters acknowledged: its tail was cut off.
	ErrTruncated = errors.New("audit: log shorter than the head headquarters acknowledged")

	// ErrRewritten is returned by VerifyAgainst when the log's entry at the
	// acknowledged sequence has another hash: the chain was rewritten.
	ErrRewritten = errors.New("audit: log does not pass through the head headquarters acknowledged")

	// ErrClosed is returned when appending to a closed log.
	ErrClosed = errors.New("audit: log closed")
)
