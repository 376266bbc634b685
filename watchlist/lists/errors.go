package lists

import "errors"

var (
	// ErrBadList is returned when a list file cannot be read: not the
	// format the importer expects, malformed, or larger than
	// Options.MaxBytes. The error says which file and where.
	ErrBadList = errors.New("lists: bad list file")

	// ErrBadSpec is returned when a source spec ("un:FILE", "ofac:DIR",
	// "csl:FILE") names no known list or no readable file.
	ErrBadSpec = errors.New("lists: bad list source")
)
