package scanner_test

import (
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/device/scanner"
	"github.com/checkpoint-edge/checkpoint/device/scanner/scannertest"
)

// FuzzDecoder checks, for any byte stream and framing, that the decoder
// never panics, only emits well-formed frames, does not depend on how the
// stream is split into reads, and always recovers: a document sent after a
// silence is decoded whatever came before it.
func FuzzDecoder(f *testing.F) {
	for _, tc := range decoderCases {
		rec := scannertest.ReadRecording(f, filepath.Join("testdata", tc.file+".rec"))
		f.Add(uint8(tc.framing), rec.Bytes())
	}
	for _, fr := range scanner.Framings() {
		f.Add(uint8(fr), append(scanner.Noise(fr, 1), scannertest.Encode(fr, td1...)...))
	}
	f.Fuzz(func(t *testing.T, framing uint8, data []byte) {
		fr := scanner.Framing(int(framing) % len(scanner.Framings()))

		whole := scanner.NewDecoder(fr, time.Second)
		var a [][]string
		for _, x := range whole.Feed(data, t0) {
			checkFrame(t, x)
			a = append(a, x.Lines)
		}
		for _, x := range whole.Flush() {
			checkFrame(t, x)
			a = append(a, x.Lines)
		}
		if got := whole.Stats().Frames; got != uint64(len(a)) {
			t.Fatalf("stats count %d frames, %d emitted", got, len(a))
		}

		bytewise := scanner.NewDecoder(fr, time.Second)
		var b [][]string
		for i := range data {
			for _, x := range bytewise.Feed(data[i:i+1], t0) {
				b = append(b, x.Lines)
			}
		}
		for _, x := range bytewise.Flush() {
			b = append(b, x.Lines)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("split into single bytes:\n got %q\nwant %q", b, a)
		}
		if whole.Stats() != bytewise.Stats() {
			t.Fatalf("stats differ: whole %+v, bytewise %+v", whole.Stats(), bytewise.Stats())
		}

		// A continuous reader (FeedContinuous, silences told by Silent)
		// frames the same stream the same way.
		cont := scanner.NewDecoder(fr, time.Second)
		var c [][]string
		for i := range data {
			for _, x := range cont.FeedContinuous(data[i:i+1], t0.Add(time.Duration(i)*time.Hour)) {
				c = append(c, x.Lines)
			}
		}
		for _, x := range cont.Flush() {
			c = append(c, x.Lines)
		}
		if !reflect.DeepEqual(a, c) {
			t.Fatalf("fed continuously:\n got %q\nwant %q", c, a)
		}
		cont = scanner.NewDecoder(fr, time.Second)
		cont.FeedContinuous(data, t0)
		got := cont.Silent(2 * time.Second)
		got = append(got, cont.FeedContinuous(scannertest.Encode(fr, td3...), t0.Add(time.Hour))...)
		got = append(got, cont.Flush()...)
		if len(got) == 0 || !reflect.DeepEqual(got[len(got)-1].Lines, td3) {
			t.Fatalf("after garbage and a silence, a TD3 fed continuously did not decode (%d frames)", len(got))
		}

		// Recovery: after any garbage and a silence, a good frame decodes.
		d := scanner.NewDecoder(fr, time.Second)
		d.Feed(data, t0)
		got = d.Feed(scannertest.Encode(fr, td3...), t0.Add(2*time.Second))
		got = append(got, d.Flush()...)
		// Frames completed by the silence may come first; the TD3 must be last.
		if len(got) == 0 || !reflect.DeepEqual(got[len(got)-1].Lines, td3) {
			var lines [][]string
			for _, x := range got {
				lines = append(lines, x.Lines)
			}
			t.Fatalf("after garbage, a TD3 decoded as %q", lines)
		}
	})
}

func checkFrame(t *testing.T, f scanner.Frame) {
	t.Helper()
	if n := len(f.Lines); n < 1 || n > 3 {
		t.Fatalf("frame with %d lines", n)
	}
	for _, l := range f.Lines {
		if l == "" || len(l) > scanner.MaxFrame {
			t.Fatalf("bad line of %d bytes", len(l))
		}
	}
	if len(f.Raw) == 0 || len(f.Raw) > 3*(scanner.MaxFrame+2)+8 {
		t.Fatalf("raw of %d bytes", len(f.Raw))
	}
}
