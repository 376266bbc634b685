package scanner_test

import (
	"bytes"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/device/scanner"
	"github.com/checkpoint-edge/checkpoint/device/scanner/scannertest"
)

var (
	td1 = scannertest.TD1
	td2 = scannertest.TD2
	td3 = scannertest.TD3
)

var t0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// decoderCases replay the recordings in testdata/ (read each file's first
// line for what it holds). They also seed FuzzDecoder.
var decoderCases = []struct {
	file    string
	framing scanner.Framing
	want    [][]string
	stats   scanner.Stats // Frames is filled from want
}{
	{"lines_td3_crlf", scanner.FramingLines, [][]string{td3}, scanner.Stats{}},
	{"lines_td1_lf", scanner.FramingLines, [][]string{td1}, scanner.Stats{}},
	{"lines_td2_cr", scanner.FramingLines, [][]string{td2}, scanner.Stats{}},
	{"lines_underscore", scanner.FramingLines, [][]string{td3, td1}, scanner.Stats{}},
	{"lines_empty_third", scanner.FramingLines, [][]string{td2, td3}, scanner.Stats{}},
	{"lines_noise", scanner.FramingLines, [][]string{td3, td1}, scanner.Stats{Noise: 5, Malformed: 3}},
	{"lines_partial", scanner.FramingLines, [][]string{td3}, scanner.Stats{Partial: 2}},
	{"lines_no_terminator", scanner.FramingLines, [][]string{td3, td2}, scanner.Stats{}},
	{"lines_overlong", scanner.FramingLines, [][]string{td3}, scanner.Stats{Overlong: 1, Malformed: 1}},
	{"lines_mixed_width", scanner.FramingLines, [][]string{td3}, scanner.Stats{Partial: 1}},
	{"stx", scanner.FramingSTX, [][]string{td3, td1}, scanner.Stats{Noise: 6}},
	{"stx_partial", scanner.FramingSTX, [][]string{td2, td3}, scanner.Stats{Partial: 2}},
	{"stx_overlong", scanner.FramingSTX, [][]string{td3}, scanner.Stats{Overlong: 1, Noise: 904}},
	{"stx_empty", scanner.FramingSTX, [][]string{td3}, scanner.Stats{Malformed: 3}},
	{"stxbcc", scanner.FramingSTXBCC, [][]string{td3, td1}, scanner.Stats{Noise: 1}},
	{"stxbcc_bad", scanner.FramingSTXBCC, [][]string{td3}, scanner.Stats{BadBCC: 1}},
	{"stxbcc_trickle", scanner.FramingSTXBCC, [][]string{td3}, scanner.Stats{}},
	{"vendor", scanner.FramingVendor, [][]string{td3, td1, td2}, scanner.Stats{Noise: 6}},
	{"vendor_stray_soh", scanner.FramingVendor, [][]string{td3, td2}, scanner.Stats{Overlong: 1, Malformed: 1, Noise: 5}},
	{"vendor_bad", scanner.FramingVendor, [][]string{td1, td2}, scanner.Stats{BadBCC: 1, Overlong: 1, Malformed: 1, Noise: 5}},
	{"json", scanner.FramingJSON, [][]string{td3, td1, td2, td3, td2}, scanner.Stats{}},
	{"json_bad", scanner.FramingJSON, [][]string{td3}, scanner.Stats{Malformed: 3}},
	{"json_padded", scanner.FramingJSON, [][]string{td3}, scanner.Stats{}},
}

func TestDecoderRecordings(t *testing.T) {
	for _, tc := range decoderCases {
		t.Run(tc.file, func(t *testing.T) {
			rec := scannertest.ReadRecording(t, filepath.Join("testdata", tc.file+".rec"))
			frames, stats := rec.Decode(tc.framing, 0, t0)
			var got [][]string
			for _, f := range frames {
				got = append(got, f.Lines)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("frames:\n got %q\nwant %q", got, tc.want)
			}
			want := tc.stats
			want.Frames = uint64(len(tc.want))
			if stats != want {
				t.Errorf("stats: got %+v, want %+v", stats, want)
			}
			all := rec.Bytes()
			for i, f := range frames {
				if len(f.Raw) == 0 || !bytes.Contains(all, f.Raw) {
					t.Errorf("frame %d: raw bytes %q are not a run of the input", i, f.Raw)
				}
				if f.Start.Before(t0) || f.End.Before(f.Start) {
					t.Errorf("frame %d: times %v..%v", i, f.Start, f.End)
				}
			}
		})
	}
}

// Every framing must survive any split of its bytes into reads: one byte
// at a time (a slow UART), and everything in one read (a buffered USB
// adapter).
func TestDecoderChunking(t *testing.T) {
	docs := [][]string{td3, td1, td2, scannertest.MRVB}
	for _, f := range scanner.Framings() {
		var stream []byte
		for i, d := range docs {
			stream = append(stream, scanner.Noise(f, i)...)
			stream = append(stream, scannertest.Encode(f, d...)...)
		}
		for _, chunk := range []int{1, 2, 7, 64, len(stream)} {
			t.Run(f.String()+"/"+strconv.Itoa(chunk), func(t *testing.T) {
				d := scanner.NewDecoder(f, time.Second)
				now := t0
				var got [][]string
				for i := 0; i < len(stream); i += chunk {
					end := min(i+chunk, len(stream))
					for _, fr := range d.Feed(stream[i:end], now) {
						got = append(got, fr.Lines)
					}
					now = now.Add(time.Millisecond)
				}
				for _, fr := range d.Flush() {
					got = append(got, fr.Lines)
				}
				if !reflect.DeepEqual(got, docs) {
					t.Fatalf("got %q\nwant %q\nstats %+v", got, docs, d.Stats())
				}
				if s := d.Stats(); s.Noise == 0 || s.Rejected() == 0 && f != scanner.FramingLines {
					t.Errorf("noise was not counted: %+v", s)
				}
			})
		}
	}
}

// Timing: the frame's times are those of its first and last byte, and a
// silence longer than the line timeout inside a frame drops it.
func TestDecoderTimes(t *testing.T) {
	for _, f := range scanner.Framings() {
		t.Run(f.String(), func(t *testing.T) {
			b := scannertest.Encode(f, td3...)
			d := scanner.NewDecoder(f, 100*time.Millisecond)
			half := len(b) / 2
			if fr := d.Feed(b[:half], t0); len(fr) != 0 {
				t.Fatalf("frame from half the bytes: %q", fr[0].Lines)
			}
			if !d.Pending() {
				t.Fatal("not pending after half a frame")
			}
			// 80 ms later: still within the timeout.
			if fr := d.Tick(t0.Add(80 * time.Millisecond)); len(fr) != 0 {
				t.Fatal("tick emitted a frame")
			}
			fr := d.Feed(b[half:], t0.Add(90*time.Millisecond))
			if f == scanner.FramingLines && len(fr) == 0 {
				fr = d.Flush()
			}
			if len(fr) != 1 {
				t.Fatalf("got %d frames, want 1 (stats %+v)", len(fr), d.Stats())
			}
			if !fr[0].Start.Equal(t0) || !fr[0].End.Equal(t0.Add(90*time.Millisecond)) {
				t.Errorf("times %v..%v", fr[0].Start, fr[0].End)
			}
			// Now a frame cut by a silence: dropped, and the next one intact.
			d.Feed(b[:half], t0.Add(time.Second))
			if fr := d.Tick(t0.Add(time.Second + 101*time.Millisecond)); len(fr) != 0 {
				t.Fatalf("a partial frame was emitted: %q", fr[0].Lines)
			}
			if d.Pending() || d.Stats().Partial != 1 {
				t.Fatalf("partial frame not dropped: %+v", d.Stats())
			}
			fr = d.Feed(scannertest.Encode(f, td2...), t0.Add(2*time.Second))
			if f == scanner.FramingLines && len(fr) == 0 {
				fr = d.Flush()
			}
			if len(fr) != 1 || !reflect.DeepEqual(fr[0].Lines, td2) {
				t.Fatalf("next frame: %v", fr)
			}
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	cases := []struct {
		name  string
		f     scanner.Framing
		lines []string
	}{
		{"no lines", scanner.FramingLines, nil},
		{"control byte", scanner.FramingSTX, []string{"A\x03B"}},
		{"newline in line", scanner.FramingVendor, []string{"A\nB"}},
		{"too long", scanner.FramingVendor, []string{strings.Repeat("A", scanner.MaxFrame+1)}},
		{"unknown framing", scanner.Framing(42), []string{"A"}},
	}
	for _, tc := range cases {
		if _, err := scanner.Encode(tc.f, tc.lines); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

func TestParseFraming(t *testing.T) {
	for _, f := range scanner.Framings() {
		got, err := scanner.ParseFraming(strings.ToUpper(f.String()))
		if err != nil || got != f {
			t.Errorf("%v: got %v, %v", f, got, err)
		}
		var g scanner.Framing
		b, _ := f.MarshalText()
		if err := g.UnmarshalText(b); err != nil || g != f {
			t.Errorf("%v: text round trip gave %v, %v", f, g, err)
		}
	}
	if f, err := scanner.ParseFraming(""); err != nil || f != scanner.FramingLines {
		t.Errorf("empty: %v, %v", f, err)
	}
	if _, err := scanner.ParseFraming("morse"); err == nil || !strings.Contains(err.Error(), "stx-bcc") {
		t.Errorf("morse: %v", err)
	}
}

func TestRecordingFormatRoundTrip(t *testing.T) {
	rec := scannertest.ReadRecording(t, filepath.Join("testdata", "vendor_bad.rec"))
	again, err := scannertest.ParseRecording(rec.Format())
	if err != nil || !reflect.DeepEqual(rec, again) {
		t.Fatalf("round trip: %v", err)
	}
	if _, err := scannertest.ParseRecording([]byte("bogus\n")); err == nil {
		t.Error("bogus line accepted")
	}
}

// TestDecoderResync: a lost or cut line costs one document, not every
// later one. Two-line documents are paired by width alone, so a stray
// line 2 (its line 1 lost) would pair with the next document's line 1, and
// that document's line 2 with the next one's line 1, and so on; a line 1
// that lost its line 2 would pair with the next line 1. Line 1 has no
// digits (letters and fillers), line 2 always has some: such pairs are
// refused, counted partial, and the framing starts afresh.
func TestDecoderResync(t *testing.T) {
	crlf := func(lines ...string) []byte { return []byte(strings.Join(lines, "\r\n") + "\r\n") }
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		in   []byte
		want [][]string
	}{
		{"stray line 2", append(crlf(td3[1]), crlf(td3[0], td3[1], td3[0], td3[1])...), [][]string{td3, td3}},
		{"line 1 without its line 2", append(crlf(td3[0]), crlf(td3[0], td3[1])...), [][]string{td3}},
		{"stray TD2 line 2", append(crlf(td2[1]), crlf(td2[0], td2[1])...), [][]string{td2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := scanner.NewDecoder(scanner.FramingLines, 0)
			var got [][]string
			for _, f := range d.FeedContinuous(tc.in, t0) {
				got = append(got, f.Lines)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			if st := d.Stats(); st.Partial != 1 || st.Frames != uint64(len(tc.want)) {
				t.Fatalf("stats %+v, want one partial", st)
			}
		})
	}
}
