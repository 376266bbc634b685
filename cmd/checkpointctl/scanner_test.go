package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/device/scanner"
	"github.com/checkpoint-edge/checkpoint/device/scanner/scannertest"
)

// TestScannerCLI runs the scanner commands of the shared checkpointctl
// end to end: exit codes, stdout and stderr included.
func TestScannerCLI(t *testing.T) {
	bin := techBinary(t)
	t.Run("SimulateListen", func(t *testing.T) { testScannerSimulateListen(t, bin) })
	t.Run("FileAndHumanOutput", func(t *testing.T) { testScannerFileAndHumanOutput(t, bin) })
	t.Run("Errors", func(t *testing.T) { testScannerCLIErrors(t, bin) })
	t.Run("List", func(t *testing.T) { testScannerList(t, bin) })
}

// syncBuffer is a bytes.Buffer safe for a process writing while the test
// reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// listener is a running `scanner listen`.
type listener struct {
	t      *testing.T
	cmd    *exec.Cmd
	lines  chan string
	stderr *syncBuffer
}

func startListen(t *testing.T, bin string, args ...string) *listener {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"scanner", "listen"}, args...)...)
	l := &listener{t: t, cmd: cmd, lines: make(chan string, 100), stderr: &syncBuffer{}}
	cmd.Stderr = l.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			l.lines <- sc.Text()
		}
		close(l.lines)
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(l.stderr.String(), "scanner connected") {
		if time.Now().After(deadline) {
			t.Fatalf("listen did not connect; stderr:\n%s", l.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return l
}

func (l *listener) next(timeout time.Duration) string {
	l.t.Helper()
	select {
	case s, ok := <-l.lines:
		if !ok {
			l.t.Fatalf("listen ended; stderr:\n%s", l.stderr)
		}
		return s
	case <-time.After(timeout):
		l.t.Fatalf("listen printed nothing in %v; stderr:\n%s", timeout, l.stderr)
	}
	return ""
}

// interrupt sends Ctrl-C and returns the exit code.
func (l *listener) interrupt() int {
	l.t.Helper()
	l.cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- l.cmd.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		} else if err != nil {
			l.t.Fatal(err)
		}
		return 0
	case <-time.After(10 * time.Second):
		l.t.Fatal("listen did not exit on SIGINT")
	}
	return -1
}

type sentDoc struct {
	N              int      `json:"n"`
	Format         string   `json:"format"`
	DocumentNumber string   `json:"document_number"`
	Valid          bool     `json:"valid"`
	Lines          []string `json:"lines"`
}

type heardDoc struct {
	Format         string    `json:"format"`
	DocumentNumber string    `json:"document_number"`
	Valid          bool      `json:"valid"`
	ReceivedAt     time.Time `json:"received_at"`
	Start          time.Time `json:"start"`
	End            time.Time `json:"end"`
	Repeat         bool      `json:"repeat"`
	RawLines       []string  `json:"raw_lines"`
}

// simulate → PTY → listen, for every framing, with and without noise:
// listen must print every document simulate sent, in order.
func testScannerSimulateListen(t *testing.T, bin string) {
	for _, f := range scanner.Framings() {
		for _, noise := range []bool{false, true} {
			name := f.String()
			if noise {
				name += "/noise"
			}
			t.Run(name, func(t *testing.T) {
				pty := scannertest.NewPTY(t)
				l := startListen(t, bin, "--json", "--port", pty.Port, "--framing", f.String(), "--line-timeout", "200ms")
				args := []string{"--json", "scanner", "simulate", "--port", pty.Device, "--framing", f.String(),
					"--count", "5", "--interval", "20ms", "--seed", "7"}
				if noise {
					args = append(args, "--noise")
				}
				out, stderr, code := runCtl(t, bin, nil, args...)
				if code != 0 {
					t.Fatalf("simulate exit %d: %s", code, stderr)
				}
				var sent []sentDoc
				formats := map[string]bool{}
				for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
					var d sentDoc
					if err := json.Unmarshal([]byte(line), &d); err != nil {
						t.Fatalf("simulate printed %q: %v", line, err)
					}
					if !d.Valid || d.DocumentNumber == "" {
						t.Errorf("simulate sent an invalid document: %+v", d)
					}
					formats[d.Format] = true
					sent = append(sent, d)
				}
				if len(sent) != 5 || len(formats) < 3 {
					t.Fatalf("simulate sent %d documents in formats %v", len(sent), formats)
				}
				for i, s := range sent {
					var h heardDoc
					line := l.next(10 * time.Second)
					if err := json.Unmarshal([]byte(line), &h); err != nil {
						t.Fatalf("listen printed %q: %v", line, err)
					}
					if h.DocumentNumber != s.DocumentNumber || h.Format != s.Format || !h.Valid {
						t.Errorf("document %d: heard %s %s (valid %v), sent %s %s", i+1, h.Format, h.DocumentNumber, h.Valid, s.Format, s.DocumentNumber)
					}
					if !reflect.DeepEqual(h.RawLines, s.Lines) || h.Repeat || h.Start.IsZero() || h.End.Before(h.Start) || h.ReceivedAt.Before(h.End) {
						t.Errorf("document %d: reception facts %+v", i+1, h)
					}
				}
				if code := l.interrupt(); code != 0 {
					t.Errorf("listen exit %d after SIGINT; stderr:\n%s", code, l.stderr)
				}
				// Logs must not leak what was read.
				for _, s := range sent {
					if strings.Contains(l.stderr.String(), s.DocumentNumber) {
						t.Errorf("document number in listen's logs:\n%s", l.stderr)
					}
				}
			})
		}
	}
}

// --file blocks, a repeat, and listen's human output ending by --count.
func testScannerFileAndHumanOutput(t *testing.T, bin string) {
	pty := scannertest.NewPTY(t)
	file := filepath.Join(t.TempDir(), "docs.mrz")
	text := "# two passports and a card\n" + strings.Join(scannertest.TD3, "\n") + "\n\n" +
		strings.Join(scannertest.TD3, "\n") + "\n\n\n" + strings.Join(scannertest.TD1, "\n") + "\n"
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	l := startListen(t, bin, "--port", pty.Port, "--framing", "stx-bcc", "--count", "3")
	if _, stderr, code := runCtl(t, bin, nil, "scanner", "simulate", "--port", pty.Device, "--framing", "stx-bcc", "--file", file, "--interval", "10ms"); code != 0 {
		t.Fatalf("simulate: %s", stderr)
	}
	var out strings.Builder
	for line := range l.lines {
		out.WriteString(line + "\n")
	}
	if err := l.cmd.Wait(); err != nil {
		t.Fatalf("listen --count 3: %v; stderr:\n%s", err, l.stderr)
	}
	got := out.String()
	for _, want := range []string{"TD3  valid  (", "TD3  valid  REPEAT", "TD1  valid", "L898902C3", "D23145890", "ERIKSSON, ANNA MARIA"} {
		if !strings.Contains(got, want) {
			t.Errorf("listen output lacks %q:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "REPEAT"); n != 1 {
		t.Errorf("%d REPEAT markers, want 1:\n%s", n, got)
	}
}

func testScannerCLIErrors(t *testing.T, bin string) {
	empty := filepath.Join(t.TempDir(), "empty.mrz")
	os.WriteFile(empty, []byte("# nothing\n"), 0o600)
	cases := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"scanner", "listen"}, 2, "give a port"},
		{[]string{"scanner", "listen", "--port", "/dev/x", "--framing", "morse"}, 1, "stx-bcc"},
		{[]string{"scanner", "listen", "--vid", "xyz", "--pid", "0001"}, 2, "vid"},
		{[]string{"scanner", "listen", "--port", "/dev/x", "--parity", "maybe"}, 2, "parity"},
		{[]string{"scanner", "simulate"}, 2, "--port is required"},
		{[]string{"scanner", "simulate", "--port", "/nonexistent/tty"}, 1, "open /nonexistent/tty"},
		{[]string{"scanner", "simulate", "--port", "/dev/null", "--file", empty}, 2, "no MRZ blocks"},
	}
	for _, tc := range cases {
		_, stderr, code := runCtl(t, bin, nil, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d mentioning %q", tc.args, code, stderr, tc.code, tc.msg)
		}
	}
}

func testScannerList(t *testing.T, bin string) {
	out, stderr, code := runCtl(t, bin, nil, "scanner", "list", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want, err := scanner.ListPorts()
	if err != nil {
		t.Fatal(err)
	}
	var got []scanner.PortInfo
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var p scanner.PortInfo
		if err := json.Unmarshal([]byte(line), &p); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		got = append(got, p)
	}
	if len(got) != len(want) {
		t.Errorf("--json listed %d ports, ListPorts %d", len(got), len(want))
	}
	out, _, code = runCtl(t, bin, nil, "scanner", "list")
	if code != 0 || (len(want) == 0) != strings.Contains(out, "no serial ports found") {
		t.Errorf("human list (exit %d):\n%s", code, out)
	}
}
