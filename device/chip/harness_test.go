package chip_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// needPCSC fails under CI and skips elsewhere when pcscd or the vpcd
// driver is missing.
func needPCSC(t *testing.T) {
	t.Helper()
	_, err1 := exec.LookPath("pcscd")
	_, err2 := os.Stat(vpcdDriver)
	if err1 == nil && err2 == nil {
		return
	}
	msg := "pcscd and vsmartcard-vpcd are needed (apt-get install pcscd vsmartcard-vpcd)"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

const vpcdDriver = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so"

// daemon is a private pcscd with one vpcd virtual reader on a free port.
type daemon struct {
	Socket string
	Port   int
	cmd    *exec.Cmd
	log    *strings.Builder
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startDaemon starts pcscd in the foreground, socket-activated on a socket
// in a temp dir (pcscd's own socket path is fixed at build time).
func startDaemon(t *testing.T) *daemon {
	t.Helper()
	needPCSC(t)
	dir := t.TempDir()
	port := freePort(t)
	conf := filepath.Join(dir, "reader.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf("FRIENDLYNAME \"Virtual PCD\"\nDEVICENAME /dev/null:0x%X\nLIBPATH %s\nCHANNELID 0x%X\n", port, vpcdDriver, port)), 0o600)
	sock := filepath.Join(dir, "pcscd.comm")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	ul := l.(*net.UnixListener)
	ul.SetUnlinkOnClose(false)
	f, _ := ul.File()
	l.Close()
	cmd := exec.Command("sh", "-c", `LISTEN_PID=$$ LISTEN_FDS=1 exec pcscd -f -c "$0"`, conf)
	cmd.ExtraFiles = []*os.File{f}
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = cmd.Stdout
	d := &daemon{Socket: sock, Port: port, cmd: cmd, log: &strings.Builder{}}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	var mu sync.Mutex
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			mu.Lock()
			d.log.WriteString(sc.Text() + "\n")
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	// vpcd listens once pcscd loaded the driver.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			// That connect looked like a card to vpcd; let it settle.
			time.Sleep(300 * time.Millisecond)
			return d
		}
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	t.Fatalf("vpcd did not listen on %d; pcscd log:\n%s", port, d.log.String())
	return nil
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

func (d *daemon) stop() {
	d.cmd.Process.Signal(os.Interrupt)
	d.cmd.Wait()
}

// restartDaemon starts a new pcscd on the same socket path and port.
func restartDaemon(t *testing.T, old *daemon) *daemon {
	t.Helper()
	os.Remove(old.Socket)
	dir := filepath.Dir(old.Socket)
	conf := filepath.Join(dir, "reader.conf")
	l, err := net.Listen("unix", old.Socket)
	if err != nil {
		t.Fatal(err)
	}
	ul := l.(*net.UnixListener)
	ul.SetUnlinkOnClose(false)
	f, _ := ul.File()
	l.Close()
	cmd := exec.Command("sh", "-c", `LISTEN_PID=$$ LISTEN_FDS=1 exec pcscd -f -c "$0"`, conf)
	cmd.ExtraFiles = []*os.File{f}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	t.Cleanup(func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() })
	d := &daemon{Socket: old.Socket, Port: old.Port, cmd: cmd, log: &strings.Builder{}}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", d.Port)); err == nil {
			c.Close()
			time.Sleep(300 * time.Millisecond)
			return d
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("restarted vpcd did not listen")
	return nil
}
