package pcsctest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	pcsc "github.com/gballet/go-libpcsclite"
)

// Default locations of the Debian 12 binaries.
const (
	DefaultPcscd  = "/usr/sbin/pcscd"
	DefaultDriver = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so"
	// DefaultFriendlyName is the reader name prefix, as in Debian's
	// /etc/reader.conf.d/vpcd; pcscd appends " 00 00" and " 00 01".
	DefaultFriendlyName = "Virtual PCD"
	// systemVPCDPort is the port Debian's vpcd reader.conf gives the system
	// pcscd (0x8C7B); it and the next one are never chosen here.
	systemVPCDPort = 35963
	// slots is how many readers one vpcd entry opens (vicc_max_slots of the
	// Debian build), on consecutive ports.
	slots = 2
)

// Options tune Start. The zero value is ready to use.
type Options struct {
	// Debug runs pcscd with --debug --apdu; see Server.Log.
	Debug bool
	// FriendlyName is the reader name prefix (default "Virtual PCD").
	FriendlyName string
	// StartTimeout bounds the wait for the readers (default 20 s: generous,
	// the machine may be busy).
	StartTimeout time.Duration
	// Pcscd and Driver override the binary and driver paths.
	Pcscd, Driver string
}

// Slot is one vpcd reader: its PC/SC name and the TCP port its card
// emulator dials.
type Slot struct {
	Reader string
	Port   int
	Addr   string // "127.0.0.1:Port"
}

// Server is a running private pcscd. Its fields are read-only.
type Server struct {
	// Dir holds the socket, the reader configuration and the log; it is
	// removed by Stop.
	Dir string
	// SocketPath is pcscd's client socket.
	SocketPath string
	// Reader, VPCDPort and VPCDAddr describe the first slot (Slots[0]).
	Reader   string
	VPCDPort int
	VPCDAddr string
	// Slots lists every vpcd reader of this daemon.
	Slots []Slot
	// LogPath is pcscd's stdout and stderr.
	LogPath string

	cmd      *exec.Cmd
	done     chan struct{}
	waitErr  error
	stopOnce sync.Once
	stopErr  error
}

// Available reports whether pcscd and the vpcd driver are installed, with
// ErrNotInstalled when they are not.
func Available(opts Options) error {
	o := opts.withDefaults()
	for _, p := range []string{o.Pcscd, o.Driver} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%w: %s: %v (install the Debian packages pcscd and vsmartcard-vpcd: make deps)", ErrNotInstalled, p, err)
		}
	}
	return nil
}

func (o Options) withDefaults() Options {
	if o.Pcscd == "" {
		o.Pcscd = DefaultPcscd
	}
	if o.Driver == "" {
		o.Driver = DefaultDriver
	}
	if o.FriendlyName == "" {
		o.FriendlyName = DefaultFriendlyName
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = 20 * time.Second
	}
	return o
}

// Start runs a private pcscd with one vpcd reader entry and waits until its
// readers are listed on its socket. The caller must Stop it.
func Start(opts Options) (*Server, error) {
	o := opts.withDefaults()
	if err := Available(o); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "pcsctest-")
	if err != nil {
		return nil, err
	}
	// pcscd may run as nobody: it must reach its configuration.
	if err := os.Chmod(dir, 0o755); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	deadline := time.Now().Add(o.StartTimeout)
	var lastErr error
	for attempt := 0; attempt < 8 && time.Now().Before(deadline); attempt++ {
		port, err := freePortPair()
		if err != nil {
			lastErr = err
			continue
		}
		s, err := startOnce(o, dir, port, deadline)
		if err == nil {
			return s, nil
		}
		lastErr = err
		if !errors.Is(err, errPortTaken) {
			break
		}
	}
	os.RemoveAll(dir)
	if lastErr == nil {
		lastErr = fmt.Errorf("%w: timed out", ErrStart)
	}
	return nil, lastErr
}

// errPortTaken means pcscd ran but could not open the vpcd ports.
var errPortTaken = errors.New("vpcd port taken")

func startOnce(o Options, dir string, port int, deadline time.Time) (*Server, error) {
	confDir := filepath.Join(dir, "reader.conf.d")
	os.RemoveAll(confDir)
	if err := os.Mkdir(confDir, 0o755); err != nil {
		return nil, err
	}
	conf := fmt.Sprintf("FRIENDLYNAME \"%s\"\nDEVICENAME   /dev/null:0x%04X\nLIBPATH      %s\nCHANNELID    0x%04X\n",
		o.FriendlyName, port, o.Driver, port)
	if err := os.WriteFile(filepath.Join(confDir, "vpcd"), []byte(conf), 0o644); err != nil {
		return nil, err
	}

	sock := filepath.Join(dir, "pcscd.comm")
	os.Remove(sock)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("pcsctest: listen %s: %w", sock, err)
	}
	ln.SetUnlinkOnClose(false)
	// Any local user may talk to it, as to the system pcscd's socket.
	os.Chmod(sock, 0o666)
	lnFile, err := ln.File()
	ln.Close()
	if err != nil {
		os.Remove(sock)
		return nil, err
	}
	// pcscd waits in select() then accept(); a blocking descriptor is what
	// systemd would hand it.
	syscall.SetNonblock(int(lnFile.Fd()), false)

	logPath := filepath.Join(dir, "pcscd.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		lnFile.Close()
		os.Remove(sock)
		return nil, err
	}
	args := []string{"-c", `LISTEN_PID=$$; export LISTEN_PID; exec "$0" "$@"`, o.Pcscd, "--foreground", "--config", confDir}
	if o.Debug {
		args = append(args, "--debug", "--apdu")
	}
	cmd := exec.Command("/bin/sh", args...)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LISTEN_FDS=1"}
	cmd.ExtraFiles = []*os.File{lnFile} // descriptor 3, as sd_listen_fds expects
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if os.Geteuid() == 0 {
		uid, gid := nobody()
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uid, Gid: gid}
	}
	err = cmd.Start()
	lnFile.Close()
	logFile.Close()
	if err != nil {
		os.Remove(sock)
		return nil, fmt.Errorf("%w: %v", ErrStart, err)
	}
	s := &Server{
		Dir:        dir,
		SocketPath: sock,
		LogPath:    logPath,
		cmd:        cmd,
		done:       make(chan struct{}),
	}
	for i := 0; i < slots; i++ {
		p := port + i
		s.Slots = append(s.Slots, Slot{
			Reader: fmt.Sprintf("%s 00 %02X", o.FriendlyName, i),
			Port:   p,
			Addr:   net.JoinHostPort("127.0.0.1", strconv.Itoa(p)),
		})
	}
	s.Reader, s.VPCDPort, s.VPCDAddr = s.Slots[0].Reader, s.Slots[0].Port, s.Slots[0].Addr
	go func() {
		s.waitErr = cmd.Wait()
		close(s.done)
	}()

	if err := s.waitReaders(deadline); err != nil {
		s.kill()
		os.Remove(sock)
		return nil, err
	}
	return s, nil
}

// waitReaders polls the reader list until every slot is there.
func (s *Server) waitReaders(deadline time.Time) error {
	for {
		type result struct {
			names []string
			err   error
		}
		ch := make(chan result, 1)
		go func() {
			names, err := ListReaders(s.SocketPath)
			ch <- result{names, err}
		}()
		select {
		case <-s.done:
			return fmt.Errorf("%w: pcscd exited (%v): %s", ErrStart, s.waitErr, s.logTail())
		case r := <-ch:
			if r.err == nil {
				missing := 0
				for _, sl := range s.Slots {
					if !contains(r.names, sl.Reader) {
						missing++
					}
				}
				if missing == 0 {
					return nil
				}
				// pcscd has read its configuration before it serves the
				// socket: a missing reader is a port it could not bind.
				return fmt.Errorf("%w: readers %q, want %d slots: %s", errPortTaken, r.names, len(s.Slots), s.logTail())
			}
		case <-time.After(time.Until(deadline)):
			return fmt.Errorf("%w: no reader list within the timeout: %s", ErrStart, s.logTail())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: no reader list within the timeout: %s", ErrStart, s.logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ListReaders lists the readers of the pcscd at socket, names trimmed of
// their NUL padding.
func ListReaders(socket string) ([]string, error) {
	c, err := pcsc.EstablishContext(socket, pcsc.ScopeSystem)
	if err != nil {
		return nil, err
	}
	defer c.ReleaseContext()
	names, err := c.ListReaders()
	if err != nil {
		return nil, err
	}
	for i, n := range names {
		names[i] = strings.TrimRight(n, "\x00")
	}
	return names, nil
}

// Env returns the environment a libpcsclite client needs to reach this
// daemon instead of the system one.
func (s *Server) Env() []string {
	return []string{"PCSCLITE_CSOCK_NAME=" + s.SocketPath}
}

// Done is closed when pcscd has exited.
func (s *Server) Done() <-chan struct{} { return s.done }

// Log returns what pcscd has logged so far.
func (s *Server) Log() string {
	b, _ := os.ReadFile(s.LogPath)
	return string(b)
}

func (s *Server) logTail() string {
	b, _ := os.ReadFile(s.LogPath)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(bytes.TrimSpace(b))
}

// Stop terminates pcscd (SIGTERM, then SIGKILL after 5 s) and removes Dir.
// It is idempotent.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		s.stopErr = s.kill()
		if err := os.RemoveAll(s.Dir); err != nil && s.stopErr == nil {
			s.stopErr = err
		}
	})
	return s.stopErr
}

func (s *Server) kill() error {
	select {
	case <-s.done:
		return nil
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
		return nil
	case <-time.After(5 * time.Second):
	}
	s.cmd.Process.Kill()
	<-s.done
	return fmt.Errorf("pcsctest: pcscd ignored SIGTERM and was killed")
}

// freePortPair finds p such that TCP ports p and p+1 are free on all
// interfaces (vpcd binds INADDR_ANY), away from the system vpcd ports.
func freePortPair() (int, error) {
	for i := 0; i < 50; i++ {
		l1, err := net.Listen("tcp4", "0.0.0.0:0")
		if err != nil {
			return 0, err
		}
		p := l1.Addr().(*net.TCPAddr).Port
		if p+1 > 65535 || (p+1 >= systemVPCDPort && p <= systemVPCDPort+1) {
			l1.Close()
			continue
		}
		l2, err := net.Listen("tcp4", fmt.Sprintf("0.0.0.0:%d", p+1))
		l1.Close()
		if err != nil {
			continue
		}
		l2.Close()
		return p, nil
	}
	return 0, errors.New("pcsctest: no two consecutive free TCP ports")
}

func nobody() (uint32, uint32) {
	uid, gid := uint32(65534), uint32(65534)
	if u, err := user.Lookup("nobody"); err == nil {
		if v, err := strconv.ParseUint(u.Uid, 10, 32); err == nil {
			uid = uint32(v)
		}
		if v, err := strconv.ParseUint(u.Gid, 10, 32); err == nil {
			gid = uint32(v)
		}
	}
	return uid, gid
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
