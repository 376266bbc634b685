// Package pcsctest starts a private PC/SC daemon (pcscd from pcsc-lite) with
// the vsmartcard "vpcd" virtual reader driver, for tests and the demo. It is
// never used in production: a vpcd reader accepts any TCP client as a card.
//
// # What a test gets
//
//	srv := pcsctest.StartTB(t, pcsctest.Options{})
//	srv.SocketPath   // the private pcscd client socket (not /run/pcscd/pcscd.comm)
//	srv.Env()        // []string{"PCSCLITE_CSOCK_NAME=" + SocketPath} for libpcsclite clients
//	srv.Reader       // "Virtual PCD 00 00": the reader a card emulator appears in
//	srv.VPCDAddr     // "127.0.0.1:PORT": where the card emulator dials (TCP client)
//	srv.Slots        // both vpcd slots: {Reader, Port} for PORT and PORT+1
//
// StartTB registers Stop with t.Cleanup. It skips when pcscd or the vpcd
// driver is missing, and fails instead when the CI environment variable is set
// (CI installs the Debian packages pcscd and vsmartcard-vpcd).
//
// # How the daemon is kept private
//
// pcsc-lite 1.9.9 (Debian 12) hard-codes its client socket and pid file in
// /run/pcscd; the daemon does not read PCSCLITE_CSOCK_NAME (only libpcsclite,
// the client library, does). Two daemons started the plain way would share
// /run/pcscd, and the first to exit removes the other's files. So the harness:
//
//   - creates the listening Unix socket itself, in a fresh directory, and hands
//     it to pcscd through systemd socket activation (LISTEN_FDS=1, LISTEN_PID set
//     by a /bin/sh wrapper that execs pcscd): pcscd then serves that socket and
//     never creates or removes /run/pcscd/pcscd.comm;
//   - when run as root, starts pcscd as the unprivileged user "nobody", so it
//     cannot write or delete /run/pcscd/pcscd.pid either (a socket-activated
//     pcscd still tries; it logs the failure and carries on);
//   - gives pcscd its own reader configuration directory (--config) holding one
//     vpcd entry, so the system's /etc/reader.conf.d (where Debian's vpcd
//     package puts a reader on port 35963) is never read;
//   - picks the vpcd TCP port itself: vpcd opens two slots, on PORT and PORT+1,
//     bound to all interfaces, so the harness looks for two free consecutive
//     ports, avoids 35963/35964 (the system pcscd's vpcd ports), and retries
//     with other ports if pcscd could not bind them (another process took them
//     in between).
//
// Several harnesses (several tests, several packages, CI) can therefore run at
// once, beside a system pcscd or without one.
//
// # PC/SC clients
//
// Pure-Go client github.com/gballet/go-libpcsclite: pass SocketPath to
// EstablishContext (it does not read any environment variable). Its
// ListReaders returns names padded with NUL bytes: trim them before comparing.
// Clients linked with libpcsclite (cgo): set PCSCLITE_CSOCK_NAME (see Env);
// libpcsclite 1.9.9 reads it on every SCardEstablishContext.
//
// # Card emulator protocol (vpcd)
//
// The emulator is the TCP client; vpcd listens. Each message in either
// direction is a 2-byte big-endian length followed by that many bytes. From
// vpcd, a 1-byte message is a control code (0 power off, 1 power on, 2 reset,
// 4 ATR request; only the ATR request expects an answer: the ATR); any longer
// message is a command APDU, answered with the response APDU. pcscd polls
// card presence with ATR requests about every 400 ms; a card is "removed" when
// the emulator closes its connection.
package pcsctest
