package pcsctest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	pcsc "github.com/gballet/go-libpcsclite"
)

// echoCard is a minimal vpcd card for the harness tests: it answers ATR
// requests and returns every APDU reversed, followed by 90 00.
type echoCard struct {
	conn net.Conn
	mu   sync.Mutex
	ctrl []byte // control codes received
	done chan struct{}
}

var testATR = []byte{0x3B, 0x80, 0x80, 0x01, 0x01}

func dialCard(t *testing.T, addr string) *echoCard {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial vpcd %s: %v", addr, err)
	}
	c := &echoCard{conn: conn, done: make(chan struct{})}
	go c.serve()
	t.Cleanup(c.remove)
	return c
}

func (c *echoCard) serve() {
	defer close(c.done)
	for {
		var l [2]byte
		if _, err := io.ReadFull(c.conn, l[:]); err != nil {
			return
		}
		msg := make([]byte, binary.BigEndian.Uint16(l[:]))
		if _, err := io.ReadFull(c.conn, msg); err != nil {
			return
		}
		var out []byte
		if len(msg) == 1 {
			c.mu.Lock()
			c.ctrl = append(c.ctrl, msg[0])
			c.mu.Unlock()
			if msg[0] != 4 {
				continue
			}
			out = testATR
		} else {
			out = append(slices.Clone(msg), 0x90, 0x00)
			slices.Reverse(out[:len(msg)])
		}
		frame := binary.BigEndian.AppendUint16(nil, uint16(len(out)))
		if _, err := c.conn.Write(append(frame, out...)); err != nil {
			return
		}
	}
}

func (c *echoCard) remove() {
	c.conn.Close()
	<-c.done
}

// connect waits (bounded) until pcscd sees the card in reader and connects.
func connect(t *testing.T, socket, reader string) (*pcsc.Client, *pcsc.Card) {
	t.Helper()
	client, err := pcsc.EstablishContext(socket, pcsc.ScopeSystem)
	if err != nil {
		t.Fatalf("establish context: %v", err)
	}
	t.Cleanup(func() { client.ReleaseContext() })
	deadline := time.Now().Add(15 * time.Second)
	for {
		card, err := client.Connect(reader, pcsc.ShareShared, pcsc.ProtocolAny)
		if err == nil {
			return client, card
		}
		if time.Now().After(deadline) {
			t.Fatalf("connect %q: %v", reader, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestStartPresentsOnlyItsOwnReaders(t *testing.T) {
	s := StartTB(t, Options{})
	names, err := ListReaders(s.SocketPath)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Virtual PCD 00 00", "Virtual PCD 00 01"}
	if !slices.Equal(names, want) {
		t.Fatalf("readers %q, want %q (the system reader.conf.d must not be read)", names, want)
	}
	if s.Reader != want[0] || s.VPCDAddr != fmt.Sprintf("127.0.0.1:%d", s.VPCDPort) || s.Slots[1].Port != s.VPCDPort+1 {
		t.Fatalf("server description %+v", s)
	}
	if s.VPCDPort == systemVPCDPort || s.VPCDPort+1 == systemVPCDPort {
		t.Fatalf("chose the system vpcd port %d", s.VPCDPort)
	}
	if !strings.HasPrefix(s.SocketPath, s.Dir) || s.SocketPath == "/run/pcscd/pcscd.comm" {
		t.Fatalf("socket %s is not private", s.SocketPath)
	}
	if got := s.Env(); len(got) != 1 || got[0] != "PCSCLITE_CSOCK_NAME="+s.SocketPath {
		t.Fatalf("Env() = %q", got)
	}
}

func TestCardRoundTripAndRemoval(t *testing.T) {
	s := StartTB(t, Options{})
	card := dialCard(t, s.VPCDAddr)
	_, c := connect(t, s.SocketPath, s.Reader)

	resp, _, err := c.Transmit([]byte{0x00, 0x84, 0x00, 0x00, 0x08})
	if err != nil {
		t.Fatal(err)
	}
	if want := []byte{0x08, 0x00, 0x00, 0x84, 0x00, 0x90, 0x00}; !bytes.Equal(resp, want) {
		t.Fatalf("response % X, want % X", resp, want)
	}
	// An extended-length APDU (4 KB of data) passes pcscd and vpcd whole.
	ext := append([]byte{0x00, 0xD6, 0x00, 0x00, 0x00, 0x10, 0x00}, bytes.Repeat([]byte{0xA5}, 4096)...)
	resp, _, err = c.Transmit(ext)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp) != len(ext)+2 || !bytes.Equal(resp[len(resp)-2:], []byte{0x90, 0x00}) {
		t.Fatalf("extended response of %d bytes", len(resp))
	}
	card.mu.Lock()
	ctrl := slices.Clone(card.ctrl)
	card.mu.Unlock()
	if !slices.Contains(ctrl, 4) || !slices.Contains(ctrl, 1) {
		t.Fatalf("control codes %v: want ATR requests (4) and a power-on (1)", ctrl)
	}

	// Closing the emulator's connection is a card removal.
	card.remove()
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, _, err := c.Transmit([]byte{0x00, 0x84, 0x00, 0x00, 0x08})
		if err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("card still answers after its connection closed")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestParallelServersAreIsolated(t *testing.T) {
	const n = 3
	servers := make([]*Server, n)
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			servers[i], errs[i] = Start(Options{})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			if os.Getenv("CI") == "" && Available(Options{}) != nil {
				t.Skip(err)
			}
			t.Fatalf("server %d: %v", i, err)
		}
		t.Cleanup(func() { servers[i].Stop() })
	}
	seen := map[int]bool{}
	for _, s := range servers {
		for _, sl := range s.Slots {
			if seen[sl.Port] {
				t.Fatalf("port %d used twice", sl.Port)
			}
			seen[sl.Port] = true
		}
	}
	// A card in server 1's reader is not seen by servers 0 and 2.
	dialCard(t, servers[1].VPCDAddr)
	connect(t, servers[1].SocketPath, servers[1].Reader)
	for _, i := range []int{0, 2} {
		client, err := pcsc.EstablishContext(servers[i].SocketPath, pcsc.ScopeSystem)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := client.Connect(servers[i].Reader, pcsc.ShareShared, pcsc.ProtocolAny); err == nil {
			t.Fatalf("server %d sees a card it was never given", i)
		}
		client.ReleaseContext()
	}
	// Stopping one leaves the others serving.
	if err := servers[0].Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := ListReaders(servers[2].SocketPath); err != nil {
		t.Fatalf("server 2 after server 0 stopped: %v", err)
	}
}

// The system vpcd ports (35963/35964, Debian's reader.conf) may be held by a
// system pcscd: the harness must not need them.
func TestSystemVPCDPortBusy(t *testing.T) {
	for _, p := range []int{systemVPCDPort, systemVPCDPort + 1} {
		if l, err := net.Listen("tcp4", fmt.Sprintf("0.0.0.0:%d", p)); err == nil {
			t.Cleanup(func() { l.Close() })
		}
	}
	s := StartTB(t, Options{})
	dialCard(t, s.VPCDAddr)
	connect(t, s.SocketPath, s.Reader)
}

func TestStopCleansUp(t *testing.T) {
	_, pidErrBefore := os.Stat("/run/pcscd/pcscd.pid")
	s := StartTB(t, Options{})
	pid := s.cmd.Process.Pid
	if os.Geteuid() == 0 {
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(status), "\nUid:\t65534\t") {
			t.Fatalf("pcscd does not run as nobody:\n%s", status)
		}
	}
	if _, err := os.Stat("/run/pcscd/pcscd.comm"); err == nil && pidErrBefore != nil {
		// No system pcscd was running: ours must not have created its socket.
		t.Fatalf("private pcscd created /run/pcscd/pcscd.comm")
	}
	if _, err := os.Stat("/run/pcscd/pcscd.pid"); err == nil && pidErrBefore != nil {
		t.Fatalf("private pcscd wrote /run/pcscd/pcscd.pid")
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	select {
	case <-s.Done():
	default:
		t.Fatal("pcscd still running after Stop")
	}
	if _, err := os.Stat(s.Dir); !os.IsNotExist(err) {
		t.Fatalf("%s left behind: %v", s.Dir, err)
	}
	if _, err := os.Stat(filepath.Join("/proc", fmt.Sprint(pid))); err == nil {
		// The pid may have been reused, but not in the milliseconds since.
		b, _ := os.ReadFile(filepath.Join("/proc", fmt.Sprint(pid), "comm"))
		if strings.TrimSpace(string(b)) == "pcscd" {
			t.Fatalf("pcscd %d still alive", pid)
		}
	}
}
