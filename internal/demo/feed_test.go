package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.bug.st/serial"

	"github.com/checkpoint-edge/checkpoint/device/scanner"
	"github.com/checkpoint-edge/checkpoint/device/scanner/scannertest"
)

func TestNextSegment(t *testing.T) {
	const f = 60 // frames per traveller
	tests := []struct {
		seq      uint64
		last     int64
		seg      int64
		wait     int
		sendsNow bool
	}{
		{seq: 1, last: -1, seg: 0, wait: 30},                      // start of traveller 0: wait for its middle
		{seq: 31, last: -1, seg: 0, sendsNow: true},               // middle
		{seq: 16, last: -1, seg: 0, sendsNow: true},               // a quarter in: still in the middle half
		{seq: 46, last: -1, seg: 0, sendsNow: true},               // three quarters: last chance
		{seq: 47, last: -1, seg: 1, wait: 60 - 46 + 30},           // too late: the next one's middle
		{seq: 31, last: 0, seg: 1, wait: 60},                      // already sent: the next one's middle
		{seq: 61, last: 0, seg: 1, wait: 30},                      // next segment begins
		{seq: 60*14*3 + 31, last: 0, seg: 14 * 3, sendsNow: true}, // third loop of 14 travellers
		{seq: 0, last: -1, seg: 0, wait: 30},                      // no frame yet counts as the first
	}
	for _, tt := range tests {
		seg, wait := nextSegment(tt.seq, f, tt.last)
		if seg != tt.seg || (wait == 0) != tt.sendsNow || (!tt.sendsNow && wait != tt.wait) {
			t.Errorf("nextSegment(%d, %d, %d) = %d, %d; want %d, wait %d (now %v)", tt.seq, f, tt.last, seg, wait, tt.seg, tt.wait, tt.sendsNow)
		}
	}
}

func testFile(n int, hold time.Duration, fps float64) *File {
	f := &File{Hold: hold, FPS: fps}
	for i := range n {
		lines := td3
		kinds := []string(nil)
		if i%2 == 1 {
			lines, kinds = td1, []string{"document"}
		}
		f.Entries = append(f.Entries, Entry{Index: i + 1, Role: RoleClear, Kinds: kinds, Lines: lines})
	}
	return f
}

// virtualCamera is a camera whose frame counter advances only when Feed
// sleeps: the schedule can be checked exactly over many loops.
type virtualCamera struct {
	now    time.Duration
	fps    float64
	jitter func() time.Duration
}

func (c *virtualCamera) seq() uint64 { return uint64(c.now.Seconds()*c.fps) + 1 }

func TestFeedFollowsCamera(t *testing.T) {
	const (
		n    = 5
		hold = 6 * time.Second
		fps  = 10.0
	)
	frames := int64(hold.Seconds() * fps)
	k := 0
	cam := &virtualCamera{now: 17 * time.Second, fps: fps, jitter: func() time.Duration {
		k++
		return time.Duration(k%7) * 13 * time.Millisecond // the daemon's clock drifts from ours
	}}
	var sent []Sent
	var wrote [][]byte
	file := testFile(n, hold, fps)
	err := Feed(context.Background(), FeedOptions{
		File: file, Count: 3 * n,
		status: func(context.Context) (uint64, error) { return cam.seq(), nil },
		sleep:  func(_ context.Context, d time.Duration) error { cam.now += d + cam.jitter(); return nil },
		write:  func(b []byte) error { wrote = append(wrote, b); return nil },
		Report: func(s Sent) { sent = append(sent, s) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(sent) != 3*n {
		t.Fatalf("%d documents sent, want %d", len(sent), 3*n)
	}
	for i, s := range sent {
		idx := int64(s.Frame) - 1
		seg, pos := idx/frames, idx%frames
		on := int(seg%n) + 1
		if !s.Synced || s.Traveller != on {
			t.Errorf("document %d: traveller %d sent while the camera shows traveller %d (frame %d)", i+1, s.Traveller, on, s.Frame)
		}
		if pos < frames/4 || pos > 3*frames/4 {
			t.Errorf("document %d: sent at frame %d of its segment, outside the middle half", i+1, pos)
		}
		if i > 0 && s.Traveller != sent[i-1].Traveller%n+1 {
			t.Errorf("document %d: traveller %d follows %d: one was skipped", i+1, s.Traveller, sent[i-1].Traveller)
		}
		want, _ := scanner.Encode(scanner.FramingLines, file.Entries[s.Traveller-1].Lines)
		if !bytes.Equal(wrote[i], want) {
			t.Errorf("document %d: wrote %q, want %q", i+1, wrote[i], want)
		}
		if s.Expect != file.Entries[s.Traveller-1].Expect() {
			t.Errorf("document %d: expect %q", i+1, s.Expect)
		}
	}
	// At 17 s the camera shows traveller 3 (frames 121-180) past the middle
	// half of their segment: the first document is traveller 4's.
	if sent[0].Traveller != 4 {
		t.Errorf("first document for traveller %d, want 4", sent[0].Traveller)
	}
}

func TestFeedWaitsForFirstFrame(t *testing.T) {
	calls := 0
	var sent []Sent
	err := Feed(context.Background(), FeedOptions{
		File: testFile(2, 2*time.Second, 10), Count: 1,
		status: func(context.Context) (uint64, error) {
			calls++
			if calls < 4 {
				return 0, errNoFrame
			}
			return 10, nil
		},
		sleep:  func(context.Context, time.Duration) error { return nil },
		write:  func([]byte) error { return nil },
		Report: func(s Sent) { sent = append(sent, s) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(sent) != 1 || !sent[0].Synced || sent[0].Traveller != 1 {
		t.Fatalf("sent %+v, want traveller 1 synced", sent)
	}
}

func TestFeedIntervalFallback(t *testing.T) {
	var sleeps []time.Duration
	var sent []Sent
	err := Feed(context.Background(), FeedOptions{
		File: testFile(3, 4*time.Second, 10), Count: 5, AdminSocket: filepath.Join(t.TempDir(), "nothing.sock"),
		sleep:  func(_ context.Context, d time.Duration) error { sleeps = append(sleeps, d); return nil },
		write:  func([]byte) error { return nil },
		Report: func(s Sent) { sent = append(sent, s) },
	})
	if err != nil {
		t.Fatal(err)
	}
	var order []int
	for _, s := range sent {
		if s.Synced {
			t.Errorf("document %d marked synced without an admin socket", s.N)
		}
		order = append(order, s.Traveller)
	}
	if fmt.Sprint(order) != "[1 2 3 1 2]" {
		t.Errorf("order %v, want [1 2 3 1 2]", order)
	}
	for _, d := range sleeps {
		if d != 4*time.Second {
			t.Errorf("slept %s, want the hold (4s)", d)
		}
	}
}

func TestFeedOptions(t *testing.T) {
	for _, o := range []FeedOptions{
		{},
		{File: &File{}},
		{File: testFile(1, 0, 0), write: func([]byte) error { return nil }},
		{File: testFile(1, time.Second, 10)}, // no port
	} {
		if err := Feed(context.Background(), o); !errors.Is(err, ErrOptions) {
			t.Errorf("Feed(%+v) = %v, want ErrOptions", o, err)
		}
	}
}

// TestFeedRealPorts runs Feed against a socat PTY pair and an HTTP server on
// a Unix socket answering /v1/status like the daemon, with a camera counter
// driven by the wall clock; the test reads the documents off the port as the
// daemon would and checks which traveller was on camera when each arrived.
func TestFeedRealPorts(t *testing.T) {
	pty := scannertest.NewPTY(t)
	const (
		n    = 3
		hold = time.Second
		fps  = 20.0
	)
	frames := int64(hold.Seconds() * fps)
	start := time.Now().Add(-1900 * time.Millisecond) // traveller 2 of 3, near the end
	seqAt := func(at time.Time) uint64 { return uint64(at.Sub(start).Seconds()*fps) + 1 }

	sockDir, err := os.MkdirTemp("", "feed")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	sock := filepath.Join(sockDir, "admin.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"camera": map[string]any{"status": "streaming", "seq": seqAt(time.Now())}})
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	port, err := serial.Open(pty.Port, &serial.Mode{BaudRate: 9600})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { port.Close() })
	port.SetReadTimeout(50 * time.Millisecond)

	type arrival struct {
		at   time.Time
		line string
	}
	var (
		mu       sync.Mutex
		arrivals []arrival
	)
	ctx, cancel := context.WithCancel(context.Background())
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		var buf []byte
		b := make([]byte, 256)
		for ctx.Err() == nil {
			k, err := port.Read(b)
			if err != nil {
				return
			}
			buf = append(buf, b[:k]...)
			for {
				i := bytes.Index(buf, []byte("\r\n"))
				if i < 0 {
					break
				}
				mu.Lock()
				arrivals = append(arrivals, arrival{time.Now(), string(buf[:i])})
				mu.Unlock()
				buf = buf[i+2:]
			}
		}
	}()

	file := testFile(n, hold, fps)
	var sent []Sent
	err = Feed(context.Background(), FeedOptions{Port: pty.Device, AdminSocket: sock, File: file, Count: 4,
		Report: func(s Sent) { sent = append(sent, s) }})
	if err != nil {
		t.Fatal(err)
	}
	// Wait for the last document to come out of the PTY.
	want := 0
	for _, s := range sent {
		want += len(file.Entries[s.Traveller-1].Lines)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		got := len(arrivals)
		mu.Unlock()
		if got >= want || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	port.Close()
	<-readDone

	if fmt.Sprint(travellers(sent)) != "[3 1 2 3]" {
		// 1.9 s in, traveller 2 is past the middle half of their segment:
		// the first document is traveller 3's.
		t.Errorf("travellers sent %v, want [3 1 2 3]", travellers(sent))
	}
	i := 0
	for _, s := range sent {
		lines := file.Entries[s.Traveller-1].Lines
		if i+len(lines) > len(arrivals) {
			t.Fatalf("only %d lines arrived, want %d", len(arrivals), want)
		}
		for j, l := range lines {
			if arrivals[i+j].line != l {
				t.Errorf("traveller %d line %d: read %q, want %q", s.Traveller, j+1, arrivals[i+j].line, l)
			}
		}
		idx := int64(seqAt(arrivals[i].at)) - 1
		if on := int(idx/frames%n) + 1; on != s.Traveller {
			t.Errorf("traveller %d's document arrived while the camera showed traveller %d", s.Traveller, on)
		}
		i += len(lines)
	}
	if i != len(arrivals) {
		t.Errorf("%d lines arrived, want %d", len(arrivals), i)
	}
}

func travellers(s []Sent) []int {
	var out []int
	for _, x := range s {
		out = append(out, x.Traveller)
	}
	return out
}

func TestFeedStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var sent int
	done := make(chan error)
	go func() {
		done <- Feed(ctx, FeedOptions{File: testFile(2, time.Hour, 10), write: func([]byte) error { sent++; return nil }})
	}()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Feed did not return after cancel")
	}
	if sent != 1 {
		t.Errorf("sent %d documents in interval mode before the first hold ended, want 1", sent)
	}
}
