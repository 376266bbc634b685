// Package scanner reads machine-readable zones from serial document
// readers (full-page passport readers, swipe readers, OCR pens) through
// go.bug.st/serial and turns them into parsed documents.
//
// A reader is found by its path or by USB VID/PID (and serial number)
// through go.bug.st/serial's enumerator. Five framings seen on real readers
// are supported (see Framing): text lines, STX/ETX envelopes with and
// without a block check character, a SOH+length vendor envelope and JSON
// inside STX/ETX. Framing is done by Decoder, a pure state machine fed with
// bytes and their arrival time, so that recorded byte streams replay
// exactly and the parser can be fuzzed.
//
// Lifecycle: Open validates a Config and returns a *Serial without touching
// the device; Run opens the port, reads it until the context ends and
// reopens it with exponential backoff whenever it fails (reader unplugged,
// port vanished, I/O error). NewStream applies the same decoding to any
// io.Reader (replays, pipes, sockets).
//
// Ownership rules:
//   - Run may be called once per Scanner; it closes the Events channel when
//     it returns, so consumers can range over Events.
//   - Close is idempotent, may be called before, during or after Run, wakes
//     a blocked read and waits for Run to return.
//   - Events carry personal data (names, document numbers). The package
//     never logs them: logs hold port paths, USB IDs, framing, counters and
//     error kinds only. Error messages never quote the bytes received.
//   - Frames and Events own their slices; nothing is reused after delivery.
//
// The scannertest sub-package holds a Fake scanner, a Playback of recorded
// byte streams and a socat PTY pair for tests that exercise the real port.
package scanner
