package scannertest

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// PTY is a pair of linked pseudo-terminals made by socat, as go-serial's
// own tests do: Port is the path the driver opens through go.bug.st/serial,
// Device the path the test writes like a reader. Unplug kills socat so both
// paths vanish and the open port fails; Plug makes them again at the same
// paths.
type PTY struct {
	Port, Device string

	t   testing.TB
	mu  sync.Mutex
	cmd *exec.Cmd
	dev *os.File
}

// RequireSocat skips the test when socat is missing, or fails it under CI
// (which installs socat).
func RequireSocat(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("socat")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("socat is required for PTY tests (apt-get install socat)")
		}
		t.Skip("socat not installed: PTY tests skipped")
	}
	return path
}

// NewPTY starts socat in a temporary directory and returns the plugged-in
// pair. The test's cleanup kills socat.
func NewPTY(t testing.TB) *PTY {
	t.Helper()
	RequireSocat(t)
	dir := t.TempDir()
	p := &PTY{t: t, Port: filepath.Join(dir, "port"), Device: filepath.Join(dir, "reader")}
	p.Plug()
	t.Cleanup(p.Unplug)
	return p
}

// Plug starts socat and waits until both paths exist.
func (p *PTY) Plug() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return
	}
	cmd := exec.Command("socat", "pty,raw,echo=0,link="+p.Port, "pty,raw,echo=0,link="+p.Device)
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("socat: %v", err)
	}
	p.cmd = cmd
	deadline := time.Now().Add(10 * time.Second)
	for !exists(p.Port) || !exists(p.Device) {
		if time.Now().After(deadline) {
			p.t.Fatal("socat did not create the PTY links in 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Unplug kills socat (closing the device end) and waits until both paths
// are gone. Idempotent.
func (p *PTY) Unplug() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dev != nil {
		p.dev.Close()
		p.dev = nil
	}
	if p.cmd == nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.cmd.Wait()
	p.cmd = nil
	// socat removes its links on exit; make sure, so that Plug recreates
	// them and the driver cannot reopen a stale one.
	os.Remove(p.Port)
	os.Remove(p.Device)
}

// Write sends b from the reader's end, like a reader would.
func (p *PTY) Write(b []byte) {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dev == nil {
		f, err := os.OpenFile(p.Device, os.O_RDWR|syscall.O_NOCTTY, 0)
		if err != nil {
			p.t.Errorf("open reader end: %v", err)
			return
		}
		// A reader sends bytes as they are. socat makes its terminals raw,
		// but on a busy machine it may do so after the links appear: a
		// write before then would have \n turned into \r\n on the way.
		if err := makeRaw(int(f.Fd())); err != nil {
			f.Close()
			p.t.Errorf("reader end raw mode: %v", err)
			return
		}
		p.dev = f
	}
	if _, err := p.dev.Write(b); err != nil {
		p.t.Errorf("write reader end: %v", err)
	}
}

// Trickle writes b one byte at a time with pause between bytes, like a
// slow reader behind a UART.
func (p *PTY) Trickle(b []byte, pause time.Duration) {
	p.t.Helper()
	for i := range b {
		p.Write(b[i : i+1])
		time.Sleep(pause)
	}
}

// makeRaw is cfmakeraw(3): no translation, echo or signals.
func makeRaw(fd int) error {
	tio, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return err
	}
	tio.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	tio.Oflag &^= unix.OPOST
	tio.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	tio.Cflag &^= unix.CSIZE | unix.PARENB
	tio.Cflag |= unix.CS8
	return unix.IoctlSetTermios(fd, unix.TCSETS, tio)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
