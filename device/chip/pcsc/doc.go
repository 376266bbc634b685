// Package pcsc is a small pure-Go client of pcsc-lite's daemon (pcscd):
// the Unix-socket protocol that libpcsclite speaks (messages of a
// little-endian {size, command} header and fixed C structs; protocol 4.4
// in Debian 12's pcsc-lite 1.9.9, 4.3 and 4.2 in older ones).
//
// Why not libpcsclite through cgo or github.com/gballet/go-libpcsclite:
//   - libpcsclite reads the socket path once per process from
//     PCSCLITE_CSOCK_NAME, so one process cannot talk to two daemons; our
//     tests each start a private pcscd and run in parallel.
//   - go-libpcsclite (the only pure-Go client served by the module proxy,
//     last changed 2019) decodes the reader-state array with Go struct
//     offsets (a string header where the C struct has a char[128]), so
//     every reader's event counter, state and ATR are wrong; it has no
//     deadlines, always sends T=1, and cannot cancel.
//
// Only what a contactless eMRTD reader needs is here: establish/release a
// context, the readers' state array (polled: it is also how insertion,
// removal and reader hot-plug are seen), connect/disconnect, transmit
// (short and extended APDUs, up to 64 KiB responses) and status.
//
// Every call takes a context: its deadline bounds the socket exchange. A
// call cut short leaves the connection in an unknown place of the
// stream, so the Client is then closed (pcscd releases its context and
// card handles when the socket closes) and ErrBroken is returned; callers
// open a new Client.
//
// A Client serialises its calls (the daemon answers one message at a time
// per socket). Use one Client to watch readers and another to talk to a
// card, so that polling never waits behind a slow APDU.
package pcsc
