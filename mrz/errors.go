package mrz

import "errors"

// ErrFormat is returned when a Spec names a format this package does not know.
var ErrFormat = errors.New("mrz: unknown format")

// ErrFieldTooLong is returned when a Spec value does not fit its MRZ field
// (for example a document number longer than TD3's nine characters).
var ErrFieldTooLong = errors.New("mrz: value does not fit its field")

// ErrInvalidValue is returned when a Spec value holds characters or values
// that cannot appear in an MRZ (for example a sex other than M, F or X, or a
// country code with digits).
var ErrInvalidValue = errors.New("mrz: invalid value")
