package scannertest_test

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/device/scanner"
	"github.com/checkpoint-edge/checkpoint/device/scanner/scannertest"
)

// tbSpy records what a Playback reports to its test.
type tbSpy struct {
	testing.TB
	errs     int
	cleanups []func()
}

func (s *tbSpy) Helper()               {}
func (s *tbSpy) Errorf(string, ...any) { s.errs++ }
func (s *tbSpy) Cleanup(f func())      { s.cleanups = append(s.cleanups, f) }

// endTest runs the cleanups as the end of a test would.
func (s *tbSpy) endTest() {
	for _, f := range s.cleanups {
		f()
	}
}

func TestPlaybackMustBeConsumed(t *testing.T) {
	rec, err := scannertest.ParseRecording([]byte("\"ab\"\nwait 30ms\nhex 02 03\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rec) != 2 || rec[1].Wait != 30*time.Millisecond || !bytes.Equal(rec.Bytes(), []byte("ab\x02\x03")) {
		t.Fatalf("parsed %+v", rec)
	}

	spy := &tbSpy{TB: t}
	p := scannertest.NewPlayback(spy, rec)
	buf := make([]byte, 1)
	if n, err := p.Read(buf); n != 1 || err != nil {
		t.Fatalf("read: %d %v", n, err)
	}
	spy.endTest()
	if spy.errs != 1 {
		t.Errorf("a half-read playback reported %d errors, want 1", spy.errs)
	}

	spy = &tbSpy{TB: t}
	p = scannertest.NewPlayback(spy, rec)
	start := time.Now()
	all, err := io.ReadAll(p)
	if err != nil || !bytes.Equal(all, rec.Bytes()) {
		t.Fatalf("ReadAll: %q %v", all, err)
	}
	if time.Since(start) < 30*time.Millisecond {
		t.Error("playback did not keep the recorded pause")
	}
	spy.endTest()
	if spy.errs != 0 {
		t.Errorf("a consumed playback reported %d errors", spy.errs)
	}

	var w bytes.Buffer
	spy = &tbSpy{TB: t}
	if _, err := scannertest.NewPlayback(spy, rec).WriteTo(&w); err != nil || !bytes.Equal(w.Bytes(), rec.Bytes()) {
		t.Fatalf("WriteTo: %q %v", w.Bytes(), err)
	}
	spy.endTest()
	if spy.errs != 0 {
		t.Errorf("WriteTo left %d errors", spy.errs)
	}
}

func TestEncodeDecodes(t *testing.T) {
	for _, f := range scanner.Framings() {
		for _, lines := range [][]string{scannertest.TD1, scannertest.TD2, scannertest.TD3, scannertest.MRVB} {
			d := scanner.NewDecoder(f, 0)
			frames := append(d.Feed(scannertest.Encode(f, lines...), time.Now()), d.Flush()...)
			if len(frames) != 1 || len(frames[0].Lines) != len(lines) {
				t.Errorf("%v: %d frames", f, len(frames))
			}
		}
	}
}
