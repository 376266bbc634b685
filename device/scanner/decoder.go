package scanner

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
)

// MaxFrame bounds what the decoder buffers: one text line (lines framing)
// or one envelope payload. Anything longer is discarded and counted as
// Overlong, so a babbling port cannot grow memory.
const MaxFrame = 4096

// DefaultLineTimeout is the longest silence allowed inside one document:
// between the lines of a text document, or between two bytes of an
// envelope. Readers send a whole MRZ within a few milliseconds at 9600 Bd,
// so 300 ms separates a slow reader from a new document.
const DefaultLineTimeout = 300 * time.Millisecond

// Frame is one document as delimited by the framing, before MRZ parsing.
type Frame struct {
	// Lines are the MRZ lines with reader padding removed: trailing '_'
	// stripped, '_' inside the line read as '<' filler, lines shortened by
	// stripped padding filled with '<' back to the MRZ width, empty lines
	// dropped.
	Lines []string
	// Raw holds the bytes of the frame as received, from its first byte
	// (first character of the first line, STX or SOH) to the byte that
	// completed it (the last line's terminator, ETX or BCC). For the lines
	// framing, rejected lines and control bytes between the document's
	// lines are left out, and the LF of a final CRLF is kept only when it
	// arrived in the same read as the CR.
	Raw []byte
	// Start and End are the arrival times of the first and last byte.
	Start, End time.Time
}

// Stats counts what a Decoder saw. Every byte or frame that did not become
// a Frame is counted in exactly one of the rejection counters.
type Stats struct {
	// Frames is the number of frames emitted.
	Frames uint64 `json:"frames"`
	// Noise counts bytes outside any frame: between envelopes, or control
	// and non-ASCII bytes in the lines framing.
	Noise uint64 `json:"noise_bytes"`
	// Partial counts frames cut short: by the line timeout, by a new start
	// byte before the end byte, by a reconnect or by the end of the stream,
	// and text documents missing lines.
	Partial uint64 `json:"partial"`
	// BadBCC counts envelopes whose block check character did not match.
	BadBCC uint64 `json:"bad_bcc"`
	// Overlong counts lines or payloads longer than MaxFrame.
	Overlong uint64 `json:"overlong"`
	// Malformed counts text lines that cannot be MRZ lines, envelopes that
	// break the vendor layout, and payloads without 1–3 lines or with
	// invalid JSON.
	Malformed uint64 `json:"malformed"`
}

// Rejected is the number of frames (or lines) thrown away.
func (s Stats) Rejected() uint64 { return s.Partial + s.BadBCC + s.Overlong + s.Malformed }

// MRZ line widths, as a bit set: a line padded by the reader may fit more
// than one width until its document is complete.
type widthSet uint8

const (
	w30 widthSet = 1 << iota
	w36
	w44
	allWidths = w30 | w36 | w44
)

var widths = [...]struct {
	bit widthSet
	n   int
}{{w30, 30}, {w36, 36}, {w44, 44}}

type envState uint8

const (
	stHunt envState = iota
	stBody
	stBCC
	stLen1
	stLen2
	stVSTX
	stVETX
)

// Decoder splits a serial byte stream into Frames. It is a pure state
// machine: it never reads a clock, so recorded streams replay exactly.
// Feed it every chunk of bytes with the time it arrived, and call Tick when
// nothing arrived for a while so that a frame cut short is dropped (and a
// text document whose last line ended without a terminator is emitted).
// A Decoder is not safe for concurrent use.
type Decoder struct {
	framing Framing
	timeout time.Duration
	stats   Stats
	out     []Frame
	queue   []byte // bytes of the current Feed still to process
	replay  []byte // bytes to rescan before queue, pushed back by resync
	last    time.Time
	start   time.Time

	// lines framing
	line      []byte // printable bytes of the current line
	lineRaw   []byte // the same plus its terminator
	lineStart time.Time
	lineOver  bool
	prevCR    bool
	rawOpen   bool // the last frame in out ended with CR: its LF joins Raw
	group     []string
	groupMask widthSet
	groupRaw  []byte

	// envelope framings
	state envState
	raw   []byte // the envelope from its start byte
	want  int    // vendor payload length
}

// NewDecoder returns a Decoder for framing f. lineTimeout <= 0 selects
// DefaultLineTimeout.
func NewDecoder(f Framing, lineTimeout time.Duration) *Decoder {
	if lineTimeout <= 0 {
		lineTimeout = DefaultLineTimeout
	}
	return &Decoder{framing: f, timeout: lineTimeout}
}

// Stats returns the counters so far.
func (d *Decoder) Stats() Stats { return d.stats }

// Pending reports whether a frame has started and not completed.
func (d *Decoder) Pending() bool {
	if d.framing == FramingLines {
		return len(d.line) > 0 || d.lineOver || len(d.group) > 0
	}
	return d.state != stHunt
}

// Feed processes p, received at t, and returns the frames it completed.
// A pending frame older than the line timeout is settled first, so bytes
// after a silence never join a document started before it.
// The returned slice is only valid until the next call.
func (d *Decoder) Feed(p []byte, t time.Time) []Frame {
	d.out = d.out[:0]
	d.rawOpen = false
	d.expireIfStale(t)
	d.feed(p, t)
	return d.out
}

func (d *Decoder) feed(p []byte, t time.Time) {
	d.queue = p
	for len(d.queue) > 0 || len(d.replay) > 0 {
		var b byte
		if len(d.replay) > 0 {
			b, d.replay = d.replay[0], d.replay[1:]
		} else {
			b, d.queue = d.queue[0], d.queue[1:]
		}
		if d.framing == FramingLines {
			d.lineByte(b, t)
		} else {
			d.envByte(b, t)
		}
	}
	if d.Pending() {
		d.last = t
	}
}

// FeedContinuous processes p, received at t, as the continuation of what
// was fed before, however long ago that was: the caller reads the line
// continuously and reports silences itself, with Silent. A reader that
// paused (its queue was full) therefore cannot split a document.
// The returned slice is only valid until the next call.
func (d *Decoder) FeedContinuous(p []byte, t time.Time) []Frame {
	d.out = d.out[:0]
	d.rawOpen = false
	d.feed(p, t)
	return d.out
}

// Silent reports that nothing arrived for dur after the last byte fed: a
// pending frame is settled (as by Tick) if dur exceeds the line timeout.
// The returned slice is only valid until the next call.
func (d *Decoder) Silent(dur time.Duration) []Frame {
	d.out = d.out[:0]
	if d.Pending() && dur > d.timeout {
		d.expire()
	}
	return d.out
}

// Tick settles a pending frame if nothing arrived for the line timeout
// before now, and returns a frame if that completed one.
// The returned slice is only valid until the next call.
func (d *Decoder) Tick(now time.Time) []Frame {
	d.out = d.out[:0]
	d.expireIfStale(now)
	return d.out
}

// Flush settles any pending frame as if the line timeout had passed: the
// end of a stream or a disconnect. A text document whose last line lacked
// its terminator is emitted; anything else incomplete is counted Partial.
// The returned slice is only valid until the next call.
func (d *Decoder) Flush() []Frame {
	d.out = d.out[:0]
	if d.Pending() {
		d.expire()
	}
	return d.out
}

func (d *Decoder) expireIfStale(t time.Time) {
	if d.Pending() && t.Sub(d.last) > d.timeout {
		d.expire()
	}
}

func (d *Decoder) expire() {
	if d.framing != FramingLines {
		d.stats.Partial++
		d.resetEnv()
		return
	}
	if len(d.line) > 0 || d.lineOver {
		// A reader may end its last line with the silence alone.
		d.endLine(d.last)
	}
	if len(d.group) == 0 {
		return
	}
	// Two lines that could be TD1 or a padded two-line document: the
	// third line did not come, so only a two-line width is possible.
	if len(d.group) == 2 && d.groupMask&^w30 != 0 {
		d.emitGroup(d.groupMask&^w30, d.last)
		return
	}
	d.stats.Partial++
	d.resetGroup()
}

// ----- lines framing -----

func (d *Decoder) lineByte(b byte, t time.Time) {
	switch {
	case b == '\r' || b == '\n':
		if b == '\n' && d.prevCR {
			d.prevCR = false
			switch {
			case len(d.group) > 0:
				d.groupRaw = append(d.groupRaw, b)
			case d.rawOpen && len(d.out) > 0:
				f := &d.out[len(d.out)-1]
				f.Raw = append(f.Raw, b)
			}
			d.rawOpen = false
			return
		}
		d.rawOpen = false
		d.prevCR = b == '\r'
		if d.lineOver || len(d.line) > 0 {
			d.lineRaw = append(d.lineRaw, b)
		}
		d.endLine(t)
	case d.lineOver:
		d.prevCR, d.rawOpen = false, false
	case b < 0x20 || b > 0x7e:
		d.prevCR, d.rawOpen = false, false
		d.stats.Noise++
	default:
		d.prevCR, d.rawOpen = false, false
		if len(d.line) >= MaxFrame {
			d.stats.Overlong++
			d.lineOver = true
			d.line, d.lineRaw = d.line[:0], d.lineRaw[:0]
			return
		}
		if len(d.line) == 0 {
			d.lineStart = t
		}
		d.line = append(d.line, b)
		d.lineRaw = append(d.lineRaw, b)
	}
}

func (d *Decoder) endLine(t time.Time) {
	over := d.lineOver
	text := strings.TrimSpace(string(d.line))
	raw := d.lineRaw
	start := d.lineStart
	d.line, d.lineOver = d.line[:0], false
	defer func() { d.lineRaw = d.lineRaw[:0] }()
	if over || strings.TrimRight(text, "_") == "" {
		return // overlong already counted; empty lines stand for missing lines
	}
	mask, ok := lineWidths(text)
	if !ok {
		d.stats.Malformed++
		return
	}
	if len(d.group) == 1 && d.groupMask&mask != 0 && d.groupMask&mask&w30 == 0 && !canPair(d.group[0], text) {
		// A two-line document cannot be these two lines: the pending one
		// lost its partner (a line dropped or cut). Counted, and the new
		// line starts afresh, so one lost line costs one document rather
		// than pairing every later line 2 with the next line 1.
		d.stats.Partial++
		d.resetGroup()
	}
	if len(d.group) > 0 && d.groupMask&mask == 0 {
		// A line that cannot belong to the pending document starts a new
		// one; the pending one lost its remaining lines.
		d.stats.Partial++
		d.resetGroup()
	}
	if len(d.group) == 0 {
		d.start = start
		d.groupMask = allWidths
	}
	d.group = append(d.group, text)
	d.groupMask &= mask
	d.groupRaw = append(d.groupRaw, raw...)
	switch {
	case len(d.group) == 3: // only TD1 has three lines, and the mask allows 30
		d.emitGroup(w30, t)
	case len(d.group) == 2 && d.groupMask&w30 == 0:
		d.emitGroup(d.groupMask, t)
	}
}

func (d *Decoder) emitGroup(mask widthSet, end time.Time) {
	w := pickWidth(mask, d.group)
	lines := make([]string, len(d.group))
	for i, l := range d.group {
		lines[i] = normalizeLine(l, w)
	}
	d.emit(Frame{Lines: lines, Raw: bytes.Clone(d.groupRaw), Start: d.start, End: end})
	d.rawOpen = d.prevCR
	d.resetGroup()
}

func (d *Decoder) resetGroup() {
	d.group = d.group[:0]
	d.groupRaw = d.groupRaw[:0]
	d.groupMask = 0
}

func (d *Decoder) emit(f Frame) {
	d.stats.Frames++
	d.out = append(d.out, f)
}

// ----- envelope framings -----

func (d *Decoder) resetEnv() {
	d.state = stHunt
	d.raw = d.raw[:0]
	d.want = 0
}

func (d *Decoder) begin(b byte, t time.Time, next envState) {
	d.raw = append(d.raw[:0], b)
	d.start = t
	d.state = next
}

// resync drops the current vendor envelope and rescans the bytes after its
// SOH, so that a stray SOH in line noise cannot swallow a real envelope.
// Both the envelope and the replay buffer are bounded by MaxFrame, so a
// resync costs O(MaxFrame) whatever the size of the read.
func (d *Decoder) resync() {
	rest := d.raw[1:]
	r := make([]byte, 0, len(rest)+len(d.replay))
	r = append(r, rest...)
	d.replay = append(r, d.replay...)
	d.resetEnv()
}

func (d *Decoder) envByte(b byte, t time.Time) {
	if d.framing == FramingVendor {
		d.vendorByte(b, t)
		return
	}
	switch d.state {
	case stHunt:
		if b == STX {
			d.begin(b, t, stBody)
			return
		}
		d.stats.Noise++
	case stBody:
		switch {
		case b == ETX:
			d.raw = append(d.raw, b)
			if d.framing == FramingSTXBCC {
				d.state = stBCC
				return
			}
			d.finish(d.raw[1:len(d.raw)-1], t)
		case b == STX:
			d.stats.Partial++
			d.begin(b, t, stBody)
		case len(d.raw)-1 >= MaxFrame:
			d.stats.Overlong++
			d.resetEnv()
		default:
			d.raw = append(d.raw, b)
		}
	case stBCC:
		d.raw = append(d.raw, b)
		if xorBytes(d.raw[1:len(d.raw)-1]) != b {
			d.stats.BadBCC++
			d.resetEnv()
			return
		}
		d.finish(d.raw[1:len(d.raw)-2], t)
	}
}

func (d *Decoder) vendorByte(b byte, t time.Time) {
	switch d.state {
	case stHunt:
		if b == SOH {
			d.begin(b, t, stLen1)
			return
		}
		d.stats.Noise++
	case stLen1:
		d.raw = append(d.raw, b)
		d.state = stLen2
	case stLen2:
		d.raw = append(d.raw, b)
		d.want = int(d.raw[1]) | int(d.raw[2])<<8
		if d.want > MaxFrame {
			d.stats.Overlong++
			d.resync()
			return
		}
		d.state = stVSTX
	case stVSTX:
		d.raw = append(d.raw, b)
		if b != STX {
			d.stats.Malformed++
			d.resync()
			return
		}
		d.state = stBody
		if d.want == 0 {
			d.state = stVETX
		}
	case stBody:
		d.raw = append(d.raw, b)
		if len(d.raw) == 4+d.want {
			d.state = stVETX
		}
	case stVETX:
		d.raw = append(d.raw, b)
		if b != ETX {
			d.stats.Malformed++
			d.resync()
			return
		}
		d.state = stBCC
	case stBCC:
		d.raw = append(d.raw, b)
		if xorBytes(d.raw[1:len(d.raw)-1]) != b {
			d.stats.BadBCC++
			d.resetEnv()
			return
		}
		d.finish(d.raw[4:4+d.want], t)
	}
}

func (d *Decoder) finish(payload []byte, t time.Time) {
	var lines []string
	ok := true
	if d.framing == FramingJSON {
		lines, ok = jsonLines(payload)
	} else {
		lines = splitLines(string(payload))
	}
	if ok {
		lines, ok = normalizeLines(lines)
	}
	if !ok {
		d.stats.Malformed++
		d.resetEnv()
		return
	}
	d.emit(Frame{Lines: lines, Raw: bytes.Clone(d.raw), Start: d.start, End: t})
	d.resetEnv()
}

// xorBytes is the block check character of p: all bytes XORed together.
func xorBytes(p []byte) byte {
	var x byte
	for _, b := range p {
		x ^= b
	}
	return x
}

// BCC returns the block check character a framing appends after ETX, for a
// frame whose bytes are frame (from its start byte through ETX): the XOR of
// every byte after the start byte (STX for stx-bcc, SOH for vendor).
func BCC(frame []byte) byte {
	if len(frame) == 0 {
		return 0
	}
	return xorBytes(frame[1:])
}

func splitLines(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == '\r' || r == '\n' })
}

// jsonLines accepts {"mrz": …} or {"lines": …} (member names matched
// case-insensitively) holding an array of strings or one string with
// newlines, a bare array of strings, or a bare string.
func jsonLines(payload []byte) ([]string, bool) {
	var v any
	if err := json.Unmarshal(payload, &v); err != nil {
		return nil, false
	}
	if obj, ok := v.(map[string]any); ok {
		v = nil
		for _, want := range []string{"mrz", "lines"} {
			for k, x := range obj {
				if strings.EqualFold(k, want) {
					v = x
					break
				}
			}
			if v != nil {
				break
			}
		}
	}
	switch x := v.(type) {
	case string:
		return splitLines(x), true
	case []any:
		var lines []string
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			lines = append(lines, splitLines(s)...)
		}
		return lines, true
	}
	return nil, false
}
