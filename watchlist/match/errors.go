package match

import "errors"

var (
	// ErrBadDate is returned when a date of birth is not "YYYY",
	// "YYYY-MM" or "YYYY-MM-DD" with plausible parts.
	ErrBadDate = errors.New("match: bad date")
)
