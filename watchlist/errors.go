package watchlist

import (
	"errors"
	"fmt"

	"github.com/checkpoint-edge/checkpoint/internal/seal"
)

var (
	// ErrBadRecord is returned when an imported or bundled record is
	// malformed or inconsistent.
	ErrBadRecord = errors.New("watchlist: bad record")

	// ErrIntegrity is returned (inside an *IntegrityError) when a stored
	// value fails authentication: the file was tampered with or damaged.
	ErrIntegrity = errors.New("watchlist: integrity check failed")

	// ErrCorrupt is returned when a value authenticates but cannot be
	// decoded, or the file lacks a structure the store wrote.
	ErrCorrupt = errors.New("watchlist: corrupt store")

	// ErrStateMismatch is returned when the records applied do not hash to
	// the state hash the version announced; nothing is changed.
	ErrStateMismatch = errors.New("watchlist: state hash mismatch")

	// ErrBaseMismatch is returned when a delta is built on another version
	// than the installed one.
	ErrBaseMismatch = errors.New("watchlist: delta base does not match installed version")

	// ErrNotNewer is returned when a version is not newer than the installed
	// one (rollback or replay).
	ErrNotNewer = errors.New("watchlist: version not newer than installed")
	// ErrSignedInstalled is returned when an unsigned import would replace
	// an installed signed watchlist without being told to (see
	// ImportUnsigned).
	ErrSignedInstalled = errors.New("watchlist: a signed watchlist is installed: an unsigned import does not replace it")
	// ErrBadSequence is returned when a version number is 0 or above
	// MaxSequence.
	ErrBadSequence = errors.New("watchlist: sequence out of range")

	// ErrModelMismatch is returned when a face template or query was computed
	// by another face model than the watchlist's.
	ErrModelMismatch = errors.New("watchlist: face model mismatch")

	// ErrClosed is returned when a Store is used after Close.
	ErrClosed = errors.New("watchlist: store closed")

	// ErrBadQuery is returned when a search is given nothing to search for
	// or malformed input.
	ErrBadQuery = errors.New("watchlist: bad query")

	// ErrBadSource is returned when a plain import source (JSON Lines, CSV)
	// cannot be parsed; the error names the line.
	ErrBadSource = errors.New("watchlist: bad import source")

	// ErrWrongKey is seal.ErrWrongKey, returned by Open when the
	// key-encryption key does not unwrap the store's data key.
	ErrWrongKey = seal.ErrWrongKey
)

// IntegrityError reports one stored value that failed authentication. It
// names the place (bucket and blind key, hex), never the record's content.
type IntegrityError struct {
	Bucket string
	Key    string // hex of the blind key
	Err    error
}

func (e *IntegrityError) Error() string {
	return fmt.Sprintf("watchlist: integrity check failed for %s/%s", e.Bucket, e.Key)
}

// Unwrap lets errors.Is match ErrIntegrity and seal.ErrIntegrity.
func (e *IntegrityError) Unwrap() []error { return []error{ErrIntegrity, e.Err} }
