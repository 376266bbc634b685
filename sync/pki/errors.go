package pki

import "errors"

var (
	// ErrBadUnitID is returned when a unit id is empty, too long or holds
	// characters other than letters, digits, '.', '_' and '-'.
	ErrBadUnitID = errors.New("pki: invalid unit id (want 1-64 of A-Z a-z 0-9 . _ -)")

	// ErrNoPeerCert is returned when a connection carries no verified client
	// certificate.
	ErrNoPeerCert = errors.New("pki: no verified peer certificate")

	// ErrNotUnitCert is returned when a verified peer certificate does not
	// name a unit (no checkpoint:unit: URI SAN, or it disagrees with the CN).
	ErrNotUnitCert = errors.New("pki: peer certificate does not identify a unit")

	// ErrNotCA is returned when a certificate loaded as the fleet CA is not a
	// CA certificate or does not match its key.
	ErrNotCA = errors.New("pki: not a usable CA certificate and key")

	// ErrPEM is returned when a file holds no PEM block of the expected type.
	ErrPEM = errors.New("pki: bad PEM data")
)
