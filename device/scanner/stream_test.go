package scanner_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/device/scanner"
	"github.com/checkpoint-edge/checkpoint/device/scanner/scannertest"
)

func collect(t *testing.T, s scanner.Scanner) ([]scanner.Event, error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- s.Run(context.Background()) }()
	var evs []scanner.Event
	for ev := range s.Events() {
		evs = append(evs, ev)
	}
	return evs, <-done
}

// A recording replayed in real time through NewStream: its pauses cut
// partial documents exactly as on the port, and the playback must be
// consumed to the end.
func TestStreamPlayback(t *testing.T) {
	checkGoroutines(t)
	for _, name := range []string{"lines_partial", "stx_partial", "lines_no_terminator"} {
		var tc = decoderCases[0]
		for _, c := range decoderCases {
			if c.file == name {
				tc = c
			}
		}
		rec := scannertest.ReadRecording(t, filepath.Join("testdata", name+".rec"))
		s := scanner.NewStream(scannertest.NewPlayback(t, rec), scanner.Config{Framing: tc.framing})
		evs, err := collect(t, s)
		if err != nil {
			t.Fatalf("%s: Run: %v", name, err)
		}
		var got [][]string
		for _, ev := range evs {
			got = append(got, ev.Lines)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %q, want %q", name, got, tc.want)
		}
		want := tc.stats
		want.Frames = uint64(len(tc.want))
		if st := s.State(); st.Decoder != want || st.Connected {
			t.Errorf("%s: state %+v, want decoder %+v", name, st, want)
		}
		s.Close()
	}
}

type failingReader struct{ data []byte }

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.ErrUnexpectedEOF
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestStreamErrors(t *testing.T) {
	checkGoroutines(t)
	// A failing reader: documents before the failure are delivered, and
	// Run reports the failure.
	data := append(scannertest.Encode(scanner.FramingSTXBCC, td3...), scannertest.Encode(scanner.FramingSTXBCC, td3...)...)
	s := scanner.NewStream(&failingReader{data: data}, scanner.Config{Framing: scanner.FramingSTXBCC})
	evs, err := collect(t, s)
	if !errors.Is(err, scanner.ErrDisconnected) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("Run: %v", err)
	}
	if len(evs) != 2 || evs[0].Repeat || !evs[1].Repeat {
		t.Errorf("got %d events (want 2, the second a repeat)", len(evs))
	}
	if st := s.State(); !errors.Is(st.Err, scanner.ErrDisconnected) || st.Repeats != 1 {
		t.Errorf("state %+v", st)
	}

	// An invalid config fails Run and closes Events.
	s = scanner.NewStream(bytes.NewReader(nil), scanner.Config{Framing: 17})
	if _, err := collect(t, s); !errors.Is(err, scanner.ErrConfig) {
		t.Errorf("bad config: %v", err)
	}

	// A blocked reader that is a Closer: Close wakes it.
	pr, pw := io.Pipe()
	defer pw.Close()
	s = scanner.NewStream(pr, scanner.Config{})
	done := make(chan error, 1)
	go func() { done <- s.Run(context.Background()) }()
	pw.Write(scannertest.Encode(scanner.FramingLines, td2...))
	if ev := <-s.Events(); !reflect.DeepEqual(ev.Lines, td2) {
		t.Errorf("pipe: %q", ev.Lines)
	}
	s.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not stop Run")
	}
}

func TestFake(t *testing.T) {
	checkGoroutines(t)
	f := scannertest.NewFake(scanner.Event{Lines: td3}, scanner.Event{Lines: td1})
	done := make(chan error, 1)
	go func() { done <- f.Run(context.Background()) }()
	for i, want := range [][]string{td3, td1} {
		ev := <-f.Events()
		if !reflect.DeepEqual(ev.Lines, want) || ev.Document == nil {
			t.Fatalf("event %d: %q (document %v)", i, ev.Lines, ev.Document)
		}
	}
	f.Emit(scannertest.EventOf(scannerOpts(), td2...))
	if ev := <-f.Events(); !reflect.DeepEqual(ev.Lines, td2) {
		t.Fatalf("emitted later: %q", ev.Lines)
	}
	if f.Sent() != 3 || !f.State().Connected {
		t.Errorf("sent %d, state %+v", f.Sent(), f.State())
	}
	f.SetState(scanner.State{Connected: false, LastError: "unplugged"})
	if f.State().Connected {
		t.Error("SetState ignored")
	}
	if err := f.Run(context.Background()); !errors.Is(err, scanner.ErrRunning) {
		t.Errorf("second Run: %v", err)
	}
	f.Close()
	f.Close()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	if _, ok := <-f.Events(); ok {
		t.Error("events open after Close")
	}
}
