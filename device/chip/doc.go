// Package chip is the contactless reader for passport and ID-card chips:
// a PC/SC reader driven through pcscd (package pcsc, a pure-Go client of
// the daemon's socket).
//
// A Reader watches pcscd for readers and cards (insertion, removal, reader
// hot-plug), reconnects to pcscd with the shared backoff policy when the
// daemon goes away, and hands out Cards. A Card transmits APDUs, each
// bounded by the per-APDU timeout and the caller's context (the whole
// read's deadline); a card taken off the reader surfaces as
// ErrCardRemoved, so that the eMRTD layer can wait for it to come back and
// resume.
//
// The package moves bytes only: access control, secure messaging and the
// LDS live in package emrtd, which depends on the small Transport-shaped
// Card interface here. The chiptest sub-package holds a Reader test double
// whose cards answer through a function.
//
// Ownership rules:
//   - Run may be called once; Close stops it, closes the Events channel
//     and every Card handed out; Close is idempotent.
//   - Every Card must be Closed (it resets the chip, ending its session).
//   - Nothing here logs APDU contents: they carry personal data once
//     secure messaging is off, and keys during access control.
package chip
