package edifact

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Delimiters are the service characters of an interchange (ISO 9735): set
// by the UNA service string advice, else the defaults.
type Delimiters struct {
	Component  byte // ':'
	Element    byte // '+'
	Decimal    byte // '.' (not interpreted here)
	Release    byte // '?': the next character is data
	Repetition byte // '*' in syntax version 4; 0 when not used
	Terminator byte // '\''
}

// Default are the delimiters of an interchange without UNA. Repetition is
// only used from syntax version 4 on, which UNB tells (Parse sets it).
var Default = Delimiters{Component: ':', Element: '+', Decimal: '.', Release: '?', Repetition: 0, Terminator: '\''}

// Limits on what the tokeniser accepts.
const (
	MaxSegmentSize = 64 << 10 // bytes of one segment
	MaxElements    = 99       // data elements in a segment
	MaxComponents  = 99       // components in an element (and repetitions)
)

// Segment is one tokenised segment: a tag and its data elements, each a
// list of repetitions, each a list of components, with release characters
// already removed.
type Segment struct {
	Tag string
	// Elements[i][r][c]: element i (after the tag), repetition r,
	// component c.
	Elements [][][]string
	// Pos is the segment's number in the interchange (1-based; UNA is not
	// counted) and Offset its byte offset in the input.
	Pos    int
	Offset int
	// Err is set when the segment could not be tokenised (bad characters,
	// too long, a release character at the end); Tag and Elements are then
	// whatever could be read.
	Err error
}

// Get returns component c of the first repetition of element e ("" if
// absent). Element 0 is the first after the tag.
func (s *Segment) Get(e, c int) string {
	if e < 0 || e >= len(s.Elements) || len(s.Elements[e]) == 0 {
		return ""
	}
	comp := s.Elements[e][0]
	if c < 0 || c >= len(comp) {
		return ""
	}
	return comp[c]
}

// Components returns the components of the first repetition of element e.
func (s *Segment) Components(e int) []string {
	if e < 0 || e >= len(s.Elements) || len(s.Elements[e]) == 0 {
		return nil
	}
	return s.Elements[e][0]
}

// Repetitions returns every repetition of element e.
func (s *Segment) Repetitions(e int) [][]string {
	if e < 0 || e >= len(s.Elements) {
		return nil
	}
	return s.Elements[e]
}

// Len is the number of data elements.
func (s *Segment) Len() int { return len(s.Elements) }

// Tokenizer splits an interchange into segments. It never stops at a bad
// segment: the segment carries the error and the next one starts after the
// next terminator, so one damaged message does not hide the others.
type Tokenizer struct {
	d    Delimiters
	data []byte
	pos  int
	n    int
}

// NewTokenizer tokenises data (after any UNA) with d, counting segments
// from first.
func NewTokenizer(data []byte, d Delimiters, offset int) *Tokenizer {
	return &Tokenizer{d: d, data: data, pos: offset}
}

// SetDelimiters changes the delimiters for the following segments (the
// repetition separator once UNB told the syntax version).
func (t *Tokenizer) SetDelimiters(d Delimiters) { t.d = d }

// Next returns the next segment, or false at the end of the data.
func (t *Tokenizer) Next() (Segment, bool) {
	// Segments may be separated by line breaks and spaces, which are not
	// data.
	for t.pos < len(t.data) && isSpace(t.data[t.pos]) && t.data[t.pos] != t.d.Terminator {
		t.pos++
	}
	if t.pos >= len(t.data) {
		return Segment{}, false
	}
	t.n++
	seg := Segment{Pos: t.n, Offset: t.pos}
	raw, end, complete := t.scan()
	t.pos = end
	switch {
	case len(raw) > MaxSegmentSize:
		seg.Err = fmt.Errorf("segment longer than %d bytes (no terminator %q?)", MaxSegmentSize, t.d.Terminator)
		seg.Tag = tagOf(raw, t.d)
		return seg, true
	case !complete:
		seg.Err = fmt.Errorf("data ends inside the segment (no terminator %q): truncated", t.d.Terminator)
	}
	if err := t.split(raw, &seg); err != nil && seg.Err == nil {
		seg.Err = err
	}
	return seg, true
}

// scan finds the end of the segment starting at t.pos: the next
// unreleased terminator. It returns the raw bytes (without terminator),
// the position after the terminator, and whether one was found.
func (t *Tokenizer) scan() (raw []byte, end int, complete bool) {
	d, b := t.d, t.data
	for i := t.pos; i < len(b); i++ {
		switch b[i] {
		case d.Release:
			i++ // the next byte is data, whatever it is
		case d.Terminator:
			return b[t.pos:i], i + 1, true
		}
		if i-t.pos > MaxSegmentSize {
			// Skip to the next terminator without keeping the bytes.
			j := bytes.IndexByte(b[i:], d.Terminator)
			if j < 0 {
				return b[t.pos:], len(b), false
			}
			return b[t.pos : i+j], i + j + 1, true
		}
	}
	return b[t.pos:], len(b), false
}

// split cuts a segment's bytes into tag, elements, repetitions and
// components, undoing release characters. Line breaks inside a segment
// are dropped: some carriers wrap long segments.
func (t *Tokenizer) split(raw []byte, seg *Segment) error {
	d := t.d
	var (
		buf        []byte
		comps      []string
		reps       [][]string
		elements   [][][]string
		tagDone    bool
		firstError error
	)
	fail := func(err error) {
		if firstError == nil {
			firstError = err
		}
	}
	endComponent := func() {
		if len(comps) >= MaxComponents {
			fail(fmt.Errorf("more than %d components in an element", MaxComponents))
			buf = buf[:0]
			return
		}
		comps = append(comps, string(buf))
		buf = buf[:0]
	}
	endRepetition := func() {
		endComponent()
		if len(reps) >= MaxComponents {
			fail(fmt.Errorf("more than %d repetitions of an element", MaxComponents))
		} else {
			reps = append(reps, comps)
		}
		comps = nil
	}
	endElement := func() {
		endRepetition()
		if !tagDone {
			// The tag is the first element's first component; a tag
			// element may carry components (e.g. "UNH" never does, but a
			// segment tag with :1 occurrence indicators in syntax v4).
			seg.Tag = reps[0][0]
			tagDone = true
		} else if len(elements) >= MaxElements {
			fail(fmt.Errorf("more than %d data elements", MaxElements))
		} else {
			elements = append(elements, reps)
		}
		reps = nil
	}
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == d.Release:
			if i+1 >= len(raw) {
				fail(fmt.Errorf("release character %q at the end of the segment", d.Release))
				continue
			}
			i++
			buf = append(buf, raw[i])
		case c == d.Element:
			endElement()
		case c == d.Component:
			endComponent()
		case d.Repetition != 0 && c == d.Repetition && tagDone:
			endRepetition()
		case c == '\r' || c == '\n':
			// wrapped line
		case c < 0x20 && c != '\t' || c == 0x7f:
			fail(fmt.Errorf("control character 0x%02x at byte %d of the segment (binary data?)", c, i))
		default:
			buf = append(buf, c)
		}
	}
	endElement()
	seg.Elements = elements
	if !validTag(seg.Tag) {
		fail(fmt.Errorf("bad segment tag %s", tagText(seg.Tag)))
	}
	return firstError
}

func validTag(t string) bool {
	if len(t) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		c := t[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func tagOf(raw []byte, d Delimiters) string {
	i := bytes.IndexAny(raw, string([]byte{d.Element, d.Component}))
	if i < 0 || i > 8 {
		i = min(len(raw), 3)
	}
	return string(raw[:i])
}

func isSpace(c byte) bool { return c == ' ' || c == '\r' || c == '\n' || c == '\t' }

// printable quotes s for an error message without letting bytes that are
// not text through.
func printable(s string) string {
	if len(s) > 12 {
		s = s[:12] + "…"
	}
	if utf8.ValidString(s) {
		return s
	}
	return fmt.Sprintf("%x", s)
}

// tagText quotes a tag for an error message only when it looks like one:
// the bytes of a broken segment may be a traveller's name.
func tagText(t string) string {
	if len(t) > 0 && len(t) <= 6 && strings.Trim(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == "" {
		return strconv.Quote(t)
	}
	return "(not a tag)"
}
