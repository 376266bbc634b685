package issuer

import "errors"

var (
	// ErrSpec is returned when a key type, traveller field or option is not
	// one the issuer can produce.
	ErrSpec = errors.New("issuer: invalid specification")
	// ErrNoJPEG2000 is returned by EncodeJPEG2000 when opj_compress (Debian
	// libopenjp2-tools) is missing or fails.
	ErrNoJPEG2000 = errors.New("issuer: cannot encode JPEG 2000")
)
