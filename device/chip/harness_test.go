package chip_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/internal/pcsctest"
)

// daemon is a private pcscd (internal/pcsctest) reached through a symlink,
// so that a test can swap the daemon behind the same socket path.
type daemon struct {
	Socket string // the symlink the reader dials
	Port   int    // the first vpcd slot's port
	Reader string
	srv    *pcsctest.Server
}

// startDaemon starts a private pcscd with a vpcd reader.
func startDaemon(t *testing.T) *daemon {
	t.Helper()
	srv := pcsctest.StartTB(t, pcsctest.Options{})
	link := filepath.Join(t.TempDir(), "pcscd.comm")
	if err := os.Symlink(srv.SocketPath, link); err != nil {
		t.Fatal(err)
	}
	return &daemon{Socket: link, Port: srv.VPCDPort, Reader: srv.Reader, srv: srv}
}

func (d *daemon) stop() { d.srv.Stop() }

// restartDaemon starts another pcscd and points the old socket path at it.
func restartDaemon(t *testing.T, old *daemon) *daemon {
	t.Helper()
	srv := pcsctest.StartTB(t, pcsctest.Options{})
	tmp := old.Socket + ".new"
	if err := os.Symlink(srv.SocketPath, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, old.Socket); err != nil {
		t.Fatal(err)
	}
	return &daemon{Socket: old.Socket, Port: srv.VPCDPort, Reader: srv.Reader, srv: srv}
}

// rawCard is a vpcd peer that answers every APDU through answer: enough to
// test the transport (insertion, removal, deadlines). The eMRTD protocol
// itself is tested against the chip emulator, never against this.
type rawCard struct {
	conn net.Conn
	done chan struct{}
}

func insert(t *testing.T, port int, answer func(apdu []byte) []byte) *rawCard {
	t.Helper()
	conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	c := &rawCard{conn: conn, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for {
			var hdr [2]byte
			quickAck(conn)
			if _, err := io.ReadFull(conn, hdr[:]); err != nil {
				return
			}
			quickAck(conn)
			msg := make([]byte, binary.BigEndian.Uint16(hdr[:]))
			if _, err := io.ReadFull(conn, msg); err != nil {
				return
			}
			var resp []byte
			switch {
			case len(msg) == 1 && msg[0] == 4: // ATR
				resp = []byte{0x3B, 0x80, 0x80, 0x01, 0x01}
			case len(msg) == 1:
				continue // power on/off, reset
			default:
				resp = answer(msg)
				if resp == nil {
					continue // a card that never answers
				}
			}
			out := binary.BigEndian.AppendUint16(nil, uint16(len(resp)))
			if _, err := conn.Write(append(out, resp...)); err != nil {
				return
			}
		}
	}()
	t.Cleanup(c.remove)
	return c
}

// quickAck acknowledges at once: vpcd writes a message's length and its
// bytes in two sends, and Nagle holds the second until the first is
// acknowledged (40 ms of delayed ACK per exchange otherwise).
func quickAck(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		if rc, err := tc.SyscallConn(); err == nil {
			rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, 0xc /* TCP_QUICKACK */, 1) })
		}
	}
}

func (c *rawCard) remove() {
	c.conn.Close()
	<-c.done
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
