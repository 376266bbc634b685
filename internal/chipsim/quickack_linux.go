//go:build linux

package chipsim

import (
	"net"

	"golang.org/x/sys/unix"
)

// quickAck asks the kernel to acknowledge the next segment at once.
//
// vpcd sends each message as two send() calls, the 2-byte length then the
// payload, on a socket with Nagle's algorithm on: the payload waits until
// the length is acknowledged, and a receiver that delays its ACKs (Linux:
// up to 40 ms) makes every APDU cost 40 ms. TCP_QUICKACK is not sticky, so
// it is set again before every read.
func quickAck(c net.Conn) {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return
	}
	raw.Control(func(fd uintptr) {
		unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_QUICKACK, 1)
	})
}
