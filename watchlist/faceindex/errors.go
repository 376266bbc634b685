package faceindex

import "errors"

var (
	// ErrModelMismatch is returned when a search or an index is asked to mix
	// templates of different face models.
	ErrModelMismatch = errors.New("faceindex: face model mismatch")

	// ErrDimension is returned when a vector's length is not the index's
	// dimension.
	ErrDimension = errors.New("faceindex: wrong vector dimension")

	// ErrBadVector is returned when a vector holds NaN or infinite values.
	ErrBadVector = errors.New("faceindex: vector has non-finite values")

	// ErrBadQuery is returned when Search is given a negative or NaN
	// maximum distance.
	ErrBadQuery = errors.New("faceindex: bad search parameters")

	// ErrFull is returned when an index would exceed MaxTemplates.
	ErrFull = errors.New("faceindex: index full")

	// ErrClosed is returned when an Index is used after Close.
	ErrClosed = errors.New("faceindex: index closed")
)
