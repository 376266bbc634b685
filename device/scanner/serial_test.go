package scanner_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/device/scanner"
	"github.com/checkpoint-edge/checkpoint/device/scanner/scannertest"
)

// checkGoroutines fails the test if it leaves goroutines behind.
func checkGoroutines(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(3 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<16)
				n := runtime.Stack(buf, true)
				t.Errorf("goroutines: %d before, %d after\n%s", before, runtime.NumGoroutine(), buf[:n])
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// running starts Run on a Serial for cfg and collects its events.
type running struct {
	t      *testing.T
	s      *scanner.Serial
	events chan scanner.Event
	runErr chan error
	once   sync.Once
}

func startSerial(t *testing.T, cfg scanner.Config) *running {
	t.Helper()
	s, err := scanner.Open(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := &running{t: t, s: s, events: make(chan scanner.Event, 64), runErr: make(chan error, 1)}
	go func() { r.runErr <- s.Run(context.Background()) }()
	go func() {
		for ev := range s.Events() {
			r.events <- ev
		}
		close(r.events)
	}()
	t.Cleanup(func() { r.stop() })
	return r
}

// eventTimeout bounds waits for what must happen (liveness): generous, so
// that a busy machine slows the tests down rather than failing them.
const eventTimeout = 30 * time.Second

// slackTimeout is the line timeout of tests that are not about it: long
// enough that the scheduler (of socat, or of the writer) cannot open a gap
// inside a document on a loaded machine.
const slackTimeout = 2 * time.Second

func (r *running) stop() {
	r.t.Helper()
	r.once.Do(func() {
		r.s.Close()
		select {
		case err := <-r.runErr:
			if err != nil {
				r.t.Errorf("Run: %v", err)
			}
		case <-time.After(eventTimeout):
			r.t.Error("Run did not return after Close")
		}
	})
}

func (r *running) waitState(what string, ok func(scanner.State) bool) scanner.State {
	r.t.Helper()
	deadline := time.Now().Add(eventTimeout)
	for {
		st := r.s.State()
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("timed out waiting for %s; state %+v", what, st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (r *running) connected() {
	r.t.Helper()
	r.waitState("connected", func(s scanner.State) bool { return s.Connected })
}

// next returns the next event or fails after timeout.
func (r *running) next(timeout time.Duration) scanner.Event {
	r.t.Helper()
	select {
	case ev, ok := <-r.events:
		if !ok {
			r.t.Fatal("events closed")
		}
		return ev
	case <-time.After(timeout):
		r.t.Fatalf("no event within %v; state %+v", timeout, r.s.State())
	}
	return scanner.Event{}
}

// none checks that no event arrives within d.
func (r *running) none(d time.Duration) {
	r.t.Helper()
	select {
	case ev := <-r.events:
		r.t.Fatalf("unexpected event with %d lines", len(ev.Lines))
	case <-time.After(d):
	}
}

// Every recording in testdata/ played into a real PTY, with its pauses,
// must give the same documents and counters as the pure decoder.
func TestSerialRecordings(t *testing.T) {
	for _, tc := range decoderCases {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			pty := scannertest.NewPTY(t)
			// The recordings' silences (3 s) are far longer than this, and
			// this far longer than a scheduler's gap on a busy machine.
			r := startSerial(t, scanner.Config{Port: pty.Port, Framing: tc.framing, RepeatWindow: -1, LineTimeout: 1500 * time.Millisecond})
			r.connected()
			rec := scannertest.ReadRecording(t, filepath.Join("testdata", tc.file+".rec"))
			if _, err := scannertest.NewPlayback(t, rec).WriteTo(writerFunc(pty.Write)); err != nil {
				t.Fatal(err)
			}
			var got [][]string
			for range tc.want {
				ev := r.next(eventTimeout)
				got = append(got, ev.Lines)
				if ev.Document == nil {
					t.Fatal("event without document")
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q\nwant %q", got, tc.want)
			}
			want := tc.stats
			want.Frames = uint64(len(tc.want))
			// The last frame may be settled by the line timeout only.
			st := r.waitState("decoder counters", func(s scanner.State) bool { return s.Decoder == want })
			if st.Events != uint64(len(tc.want)) {
				t.Errorf("state counts %d events", st.Events)
			}
			r.none(50 * time.Millisecond)
		})
	}
}

type writerFunc func([]byte)

func (w writerFunc) Write(b []byte) (int, error) { w(b); return len(b), nil }

// Each framing through a real PTY: noise between documents, one document
// trickled a byte at a time, and every MRZ format.
func TestSerialFramings(t *testing.T) {
	docs := [][]string{td3, td1, td2, scannertest.MRVB}
	for _, f := range scanner.Framings() {
		t.Run(f.String(), func(t *testing.T) {
			t.Parallel()
			pty := scannertest.NewPTY(t)
			r := startSerial(t, scanner.Config{Port: pty.Port, Framing: f, Baud: 115200, LineTimeout: slackTimeout})
			r.connected()
			for i, d := range docs {
				pty.Write(scanner.Noise(f, i))
				b := scannertest.Encode(f, d...)
				var lastByte time.Time
				if i == 1 {
					// The byte that completes the frame: the last one, or
					// the CR of a final CR LF.
					last := len(b) - 1
					if f == scanner.FramingLines && bytes.HasSuffix(b, []byte("\r\n")) {
						last--
					}
					pty.Trickle(b[:last], time.Millisecond)
					lastByte = time.Now()
					pty.Write(b[last:])
				} else {
					pty.Write(b)
				}
				ev := r.next(eventTimeout)
				if !reflect.DeepEqual(ev.Lines, d) {
					t.Fatalf("document %d: got %q", i, ev.Lines)
				}
				if ev.Repeat || ev.Start.After(ev.End) || len(ev.Raw) < len(b)-2 {
					t.Errorf("document %d: repeat %v, times %v..%v, %d raw bytes", i, ev.Repeat, ev.Start, ev.End, len(ev.Raw))
				}
				// End is when the last byte arrived: not before it was
				// written, whatever the load (how long the trickle took
				// between first and last read depends on the scheduler).
				if i == 1 && ev.End.Before(lastByte) {
					t.Errorf("trickled document ends %v before its last byte was written: end is not the last byte's arrival", lastByte.Sub(ev.End))
				}
			}
			if st := r.s.State(); st.Decoder.Noise == 0 {
				t.Errorf("noise not counted: %+v", st.Decoder)
			}
		})
	}
}

func TestSerialRepeat(t *testing.T) {
	pty := scannertest.NewPTY(t)
	// A window far longer than a scheduler's gap between two writes, and
	// a pause far longer than the window.
	r := startSerial(t, scanner.Config{Port: pty.Port, Framing: scanner.FramingSTX, RepeatWindow: 2 * time.Second})
	r.connected()
	steps := []struct {
		lines  []string
		pause  time.Duration
		repeat bool
	}{
		{td3, 0, false},
		{td3, 0, true},                // scanned twice in a row
		{td2, 0, false},               // another document
		{td3, 0, false},               // not in a row
		{td3, 3 * time.Second, false}, // outside the window
		{td3, 0, true},
	}
	for i, s := range steps {
		time.Sleep(s.pause)
		pty.Write(scannertest.Encode(scanner.FramingSTX, s.lines...))
		ev := r.next(eventTimeout)
		if ev.Repeat != s.repeat {
			t.Errorf("step %d: repeat %v, want %v", i, ev.Repeat, s.repeat)
		}
	}
	if st := r.s.State(); st.Repeats != 2 || st.Events != 6 {
		t.Errorf("state: %d repeats of %d events", st.Repeats, st.Events)
	}
}

// Unplug the reader (socat dies, the port's path vanishes), plug it back at
// the same path: the driver reconnects with backoff and reads on.
func TestSerialReplug(t *testing.T) {
	checkGoroutines(t)
	pty := scannertest.NewPTY(t)
	r := startSerial(t, scanner.Config{
		Port: pty.Port, Framing: scanner.FramingVendor,
		Backoff: scanner.Backoff{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond},
	})
	r.connected()
	pty.Write(scannertest.Encode(scanner.FramingVendor, td3...))
	if ev := r.next(eventTimeout); !reflect.DeepEqual(ev.Lines, td3) {
		t.Fatalf("before unplug: %q", ev.Lines)
	}
	// Half a frame, then the cable is pulled: the half frame is dropped
	// (counted partial). The unplug waits until the half frame was read:
	// bytes still in the kernel when the port vanishes are lost unseen.
	read := r.s.State().BytesRead
	pty.Write(scannertest.Encode(scanner.FramingVendor, td1...)[:40])
	r.waitState("half frame read", func(s scanner.State) bool { return s.BytesRead >= read+40 })
	pty.Unplug()
	// The disconnect is counted; the last error is the disconnect, or
	// already the failed reopen that follows it (backoff 20 ms).
	st := r.waitState("disconnected", func(s scanner.State) bool { return !s.Connected && s.Disconnects == 1 })
	if !errors.Is(st.Err, scanner.ErrDisconnected) && !errors.Is(st.Err, scanner.ErrNotFound) {
		t.Errorf("last error %v, want ErrDisconnected or ErrNotFound", st.Err)
	}
	// While unplugged the path is missing: reopen attempts fail and say so.
	r.waitState("not found", func(s scanner.State) bool { return errors.Is(s.Err, scanner.ErrNotFound) })
	time.Sleep(300 * time.Millisecond) // several backoff rounds
	pty.Plug()
	st = r.waitState("reconnected", func(s scanner.State) bool { return s.Connected })
	if st.Connects != 2 || st.Err != nil || st.LastError != "" {
		t.Errorf("after replug: %+v", st)
	}
	pty.Write(scannertest.Encode(scanner.FramingVendor, td2...))
	if ev := r.next(eventTimeout); !reflect.DeepEqual(ev.Lines, td2) {
		t.Fatalf("after replug: %q", ev.Lines)
	}
	if st := r.s.State(); st.Decoder.Partial != 1 || st.Events != 2 {
		t.Errorf("counters after replug: %+v", st)
	}
	r.stop()
}

// A reader found by USB VID/PID/serial number. A PTY has no USB IDs, so
// the enumeration is given; the port itself is the real PTY.
func TestSerialDiscovery(t *testing.T) {
	pty := scannertest.NewPTY(t)
	ports := []scanner.PortInfo{
		{Name: "/nonexistent/ttyUSB0", IsUSB: true, VID: "0403", PID: "6001", Serial: "OTHER"},
		{Name: pty.Port, IsUSB: true, VID: "0403", PID: "6001", Serial: "RDR42"},
	}
	r := startSerial(t, scanner.Config{
		VID: "0403", PID: "6001", Serial: "RDR42",
		Enumerate: func() ([]scanner.PortInfo, error) { return ports, nil },
	})
	st := r.waitState("connected", func(s scanner.State) bool { return s.Connected })
	if st.Port != pty.Port {
		t.Errorf("opened %q, want %q", st.Port, pty.Port)
	}
	pty.Write(scannertest.Encode(scanner.FramingLines, td1...))
	if ev := r.next(eventTimeout); !reflect.DeepEqual(ev.Lines, td1) {
		t.Fatalf("got %q", ev.Lines)
	}

	// No match: the state says so and Run keeps trying.
	r2 := startSerial(t, scanner.Config{
		VID: "0403", PID: "6015",
		Enumerate: func() ([]scanner.PortInfo, error) { return ports, nil },
	})
	r2.waitState("not found", func(s scanner.State) bool { return errors.Is(s.Err, scanner.ErrNotFound) && !s.Connected })
}

// fakeClock records backoff waits and fires them at once.
type fakeClock struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (c *fakeClock) Now() time.Time { return time.Now() }
func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	c.waits = append(c.waits, d)
	c.mu.Unlock()
	ch := make(chan time.Time, 1)
	ch <- time.Now()
	return ch
}
func (c *fakeClock) recorded() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}

func TestSerialBackoff(t *testing.T) {
	checkGoroutines(t)
	clock := &fakeClock{}
	s, err := scanner.Open(scanner.Config{
		Port:    filepath.Join(t.TempDir(), "missing"),
		Backoff: scanner.Backoff{Initial: 10 * time.Millisecond, Max: 80 * time.Millisecond, Factor: 2},
		Clock:   clock,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(context.Background()) }()
	for len(clock.recorded()) < 6 {
		time.Sleep(time.Millisecond)
	}
	s.Close()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := []time.Duration{10, 20, 40, 80, 80, 80}
	for i, w := range want {
		if got := clock.recorded()[i]; got != w*time.Millisecond {
			t.Errorf("wait %d: %v, want %v", i, got, w*time.Millisecond)
		}
	}
	st := s.State()
	if st.Connected || !errors.Is(st.Err, scanner.ErrNotFound) || st.Connects != 0 {
		t.Errorf("state: %+v", st)
	}
	if _, ok := <-s.Events(); ok {
		t.Error("events not closed after Run")
	}
}

func TestSerialLifecycle(t *testing.T) {
	checkGoroutines(t)
	pty := scannertest.NewPTY(t)
	cfg := scanner.Config{Port: pty.Port}

	// Close before Run: Run refuses, Events is closed, Close is idempotent.
	s, err := scanner.Open(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s.Close()
	if err := s.Run(context.Background()); !errors.Is(err, scanner.ErrClosed) {
		t.Errorf("Run after Close: %v", err)
	}
	if _, ok := <-s.Events(); ok {
		t.Error("events open after Close")
	}

	// Cancelling the context stops Run with nil; a second Run is refused.
	s, err = scanner.Open(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for !s.State().Connected && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if err := s.Run(ctx); !errors.Is(err, scanner.ErrRunning) {
		t.Errorf("second Run: %v", err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop on cancel")
	}
	if s.State().Connected {
		t.Error("still connected after Run returned")
	}
	s.Close()
	s.Close()

	// Close while Run is blocked delivering (nobody reads Events).
	s, err = scanner.Open(scanner.Config{Port: pty.Port, EventBuffer: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	go func() { done <- s.Run(context.Background()) }()
	for i := 0; i < 3; i++ {
		pty.Write(scannertest.Encode(scanner.FramingLines, td3...))
	}
	time.Sleep(200 * time.Millisecond)
	s.Close()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		cfg  scanner.Config
		ok   bool
	}{
		{"port", scanner.Config{Port: "/dev/ttyUSB0"}, true},
		{"usb ids", scanner.Config{VID: "0403", PID: "6001"}, true},
		{"full", scanner.Config{Port: "/dev/x", Baud: 115200, DataBits: 7, Parity: "even", StopBits: 2, Framing: scanner.FramingJSON}, true},
		{"nothing", scanner.Config{}, false},
		{"vid only", scanner.Config{VID: "0403"}, false},
		{"bad vid", scanner.Config{VID: "04035", PID: "6001"}, false},
		{"bad pid", scanner.Config{VID: "0403", PID: "zz01"}, false},
		{"data bits", scanner.Config{Port: "/dev/x", DataBits: 9}, false},
		{"parity", scanner.Config{Port: "/dev/x", Parity: "sometimes"}, false},
		{"stop bits", scanner.Config{Port: "/dev/x", StopBits: 3}, false},
		{"baud", scanner.Config{Port: "/dev/x", Baud: -1}, false},
		{"framing", scanner.Config{Port: "/dev/x", Framing: 9}, false},
		{"timeout", scanner.Config{Port: "/dev/x", LineTimeout: -1}, false},
		{"backoff", scanner.Config{Port: "/dev/x", Backoff: scanner.Backoff{Factor: 0.5}}, false},
		{"backoff order", scanner.Config{Port: "/dev/x", Backoff: scanner.Backoff{Initial: time.Minute, Max: time.Second}}, false},
	}
	for _, tc := range cases {
		_, err := scanner.Open(tc.cfg, nil)
		if tc.ok && err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
		if !tc.ok && !errors.Is(err, scanner.ErrConfig) {
			t.Errorf("%s: got %v, want ErrConfig", tc.name, err)
		}
	}
}

func TestBackoffDelay(t *testing.T) {
	b := scanner.Backoff{Initial: 100 * time.Millisecond, Max: time.Second, Factor: 3}
	want := []time.Duration{100 * time.Millisecond, 300 * time.Millisecond, 900 * time.Millisecond, time.Second, time.Second}
	for i, w := range want {
		if got := b.Delay(i + 1); got != w {
			t.Errorf("Delay(%d) = %v, want %v", i+1, got, w)
		}
	}
	if got := (scanner.Backoff{}).Delay(1); got != scanner.DefaultBackoff.Initial {
		t.Errorf("default: %v", got)
	}
}

func TestListPorts(t *testing.T) {
	ports, err := scanner.ListPorts()
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(ports); i++ {
		if ports[i-1].Name > ports[i].Name {
			t.Errorf("not sorted: %q before %q", ports[i-1].Name, ports[i].Name)
		}
	}
	p, err := scanner.FindPort([]scanner.PortInfo{{Name: "/dev/a", VID: "0403", PID: "6001"}}, "0403", "6001", "")
	if err != nil || p.Name != "/dev/a" {
		t.Errorf("FindPort: %v %v", p, err)
	}
	if _, err := scanner.FindPort(nil, "0403", "6001", "X"); !errors.Is(err, scanner.ErrNotFound) {
		t.Errorf("FindPort on nothing: %v", err)
	}
}
