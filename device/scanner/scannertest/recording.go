package scannertest

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/device/scanner"
)

// Chunk is one read from the port: bytes that arrived together, after a
// pause.
type Chunk struct {
	Wait time.Duration // silence before the bytes arrive
	Data []byte
}

// Recording is a captured byte stream.
//
// Its text form has one item per line:
//
//	# a comment
//	"P<UTO…\r\n"    Go-quoted bytes, one chunk
//	hex 02 50 3c     bytes in hex, one chunk
//	wait 400ms       silence before the next chunk
//
// Consecutive waits add up.
type Recording []Chunk

// ParseRecording reads the text form.
func ParseRecording(text []byte) (Recording, error) {
	var rec Recording
	var wait time.Duration
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "wait "):
			d, err := time.ParseDuration(strings.TrimSpace(line[5:]))
			if err != nil || d < 0 {
				return nil, fmt.Errorf("line %d: bad wait %q", n, line[5:])
			}
			wait += d
		case strings.HasPrefix(line, "hex "):
			b, err := hex.DecodeString(strings.ReplaceAll(line[4:], " ", ""))
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			rec = append(rec, Chunk{Wait: wait, Data: b})
			wait = 0
		case strings.HasPrefix(line, `"`):
			s, err := strconv.Unquote(line)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			rec = append(rec, Chunk{Wait: wait, Data: []byte(s)})
			wait = 0
		default:
			return nil, fmt.Errorf("line %d: want a quoted string, hex or wait", n)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if wait > 0 {
		rec = append(rec, Chunk{Wait: wait})
	}
	return rec, nil
}

// Format returns the text form of r; ParseRecording(r.Format()) == r.
func (r Recording) Format() []byte {
	var b bytes.Buffer
	for _, c := range r {
		if c.Wait > 0 {
			fmt.Fprintf(&b, "wait %v\n", c.Wait)
		}
		if len(c.Data) > 0 {
			b.WriteString(strconv.Quote(string(c.Data)))
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// Bytes is every byte of r in order.
func (r Recording) Bytes() []byte {
	var b []byte
	for _, c := range r {
		b = append(b, c.Data...)
	}
	return b
}

// ReadRecording loads a recording file or fails the test.
func ReadRecording(t testing.TB, path string) Recording {
	t.Helper()
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := ParseRecording(text)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rec
}

// Decode feeds r to a fresh Decoder on a virtual clock starting at t0,
// ticking through every wait, flushes it at the end and returns the frames
// and the decoder's counters. It is the deterministic replay: no sleeping.
func (r Recording) Decode(f scanner.Framing, lineTimeout time.Duration, t0 time.Time) ([]scanner.Frame, scanner.Stats) {
	d := scanner.NewDecoder(f, lineTimeout)
	var frames []scanner.Frame
	now := t0
	for _, c := range r {
		if c.Wait > 0 {
			now = now.Add(c.Wait)
			frames = append(frames, d.Tick(now)...)
		}
		if len(c.Data) > 0 {
			frames = append(frames, d.Feed(c.Data, now)...)
			now = now.Add(time.Millisecond)
		}
	}
	frames = append(frames, d.Flush()...)
	return frames, d.Stats()
}
