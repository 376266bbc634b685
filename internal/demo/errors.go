package demo

import "errors"

var (
	// ErrNoTravellers is returned when the photo set holds no single-person
	// photo whose face passes the capture quality gate.
	ErrNoTravellers = errors.New("demo: no usable traveller photos")

	// ErrSelfCheck is returned when the prepared watchlist does not give a
	// traveller the outcome the demo designed (a hit that misses, or a clear
	// traveller that hits).
	ErrSelfCheck = errors.New("demo: prepared watchlist does not give the designed outcome")

	// ErrMRZFile is returned when a travellers file cannot be read as MRZ
	// blocks.
	ErrMRZFile = errors.New("demo: bad travellers file")

	// ErrOptions is returned when options are missing or inconsistent.
	ErrOptions = errors.New("demo: bad options")
)
