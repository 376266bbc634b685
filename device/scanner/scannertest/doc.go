// Package scannertest holds real test doubles for package scanner:
//
//   - Recording and Playback: byte streams captured from readers, stored in
//     testdata/ as a small text format, replayed into a Decoder, an
//     io.Reader or a serial port with their original pauses. A Playback
//     that is not fully consumed fails the test.
//   - Fake: a scanner.Scanner that emits given events, for consumers of
//     scanner events (the daemon pipeline, the officer page).
//   - PTY: a socat pseudo-terminal pair, one end opened by the driver
//     through go.bug.st/serial like a real port, the other written by the
//     test like a reader; it can be unplugged and plugged back.
//
// Ownership rules: every helper that takes a testing.TB registers its own
// cleanup; a PTY's socat process is killed by the test's cleanup.
package scannertest
