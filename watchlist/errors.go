package watchlist

import "errors"

var (
	// ErrBadRecord is returned when an imported or bundled record is
	// malformed or inconsistent.
	ErrBadRecord = errors.New("watchlist: bad record")
)
