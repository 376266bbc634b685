package pcsctest

import "errors"

var (
	// ErrNotInstalled is returned by Start when pcscd or the vpcd driver is
	// missing (Debian packages pcscd and vsmartcard-vpcd).
	ErrNotInstalled = errors.New("pcsctest: pcscd or the vpcd driver is not installed")
	// ErrStart is returned by Start when pcscd exited, or did not present the
	// vpcd readers, within the start timeout; the error carries the tail of
	// pcscd's log.
	ErrStart = errors.New("pcsctest: pcscd did not start")
)
