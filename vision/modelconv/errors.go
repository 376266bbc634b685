package modelconv

import "errors"

var (
	// ErrFormat is returned when a model file is truncated, malformed or
	// not of the expected kind.
	ErrFormat = errors.New("modelconv: bad model file")
	// ErrUnsupported is returned when a model uses an operator, option or
	// tensor type the converter does not translate.
	ErrUnsupported = errors.New("modelconv: unsupported model feature")
)
