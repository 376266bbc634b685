package hub

import "errors"

var (
	// ErrClosed is returned when the Hub or its Store has been closed.
	ErrClosed = errors.New("hub: closed")

	// ErrBadBatch is returned when an uploaded batch is malformed, too large,
	// or holds a record whose key does not belong to the uploading unit.
	ErrBadBatch = errors.New("hub: bad batch")

	// ErrBadQuery is returned when a results query has a bad filter, order
	// or cursor.
	ErrBadQuery = errors.New("hub: bad query")

	// ErrNoIdentity is returned when an import is attempted without an age
	// identity to decrypt it.
	ErrNoIdentity = errors.New("hub: no age identity configured for imports")

	// ErrUnknownUnit is returned when results are requested for a unit the
	// hub has never heard from.
	ErrUnknownUnit = errors.New("hub: unknown unit")

	// ErrUnavailable is returned when the storage cannot be reached or
	// fails (PostgreSQL down, disk error): the caller answers 503 with
	// Retry-After and nothing is acknowledged.
	ErrUnavailable = errors.New("hub: storage unavailable")

	// ErrSchemaTooNew is returned when the PostgreSQL schema was migrated by
	// a newer hub than this one: it refuses to run rather than write rows
	// the newer schema does not expect.
	ErrSchemaTooNew = errors.New("hub: database schema is newer than this hub")

	// ErrSchemaOld is returned when the PostgreSQL schema has migrations
	// still to apply and the hub was told not to apply them.
	ErrSchemaOld = errors.New("hub: database schema needs migrating (checkpoint-hub migrate)")
)
