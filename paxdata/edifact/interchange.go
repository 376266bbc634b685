package edifact

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxInterchangeSize bounds what Parse reads.
const MaxInterchangeSize = 64 << 20

// Interchange is a parsed UNB…UNZ envelope: its header fields, its
// messages (UNH…UNT), and the problems of the envelope itself.
type Interchange struct {
	Delimiters Delimiters `json:"-"`
	// HasUNA is set when the interchange began with a service string
	// advice.
	HasUNA bool `json:"has_una"`
	// Syntax is the syntax identifier (UNOA, UNOB, UNOC, IATA, …) and
	// SyntaxVersion its version (UNB S001).
	Syntax        string     `json:"syntax"`
	SyntaxVersion int        `json:"syntax_version"`
	Sender        string     `json:"sender"`
	Recipient     string     `json:"recipient"`
	Date          string     `json:"date"` // YYMMDD or CCYYMMDD as sent
	Time          string     `json:"time"` // HHMM
	Reference     string     `json:"reference"`
	Application   string     `json:"application,omitempty"`
	Messages      []*Message `json:"messages"`
	// Errors are envelope problems: a missing or miscounted UNZ or UNE,
	// segments outside any message. They do not invalidate the messages,
	// which carry their own Err.
	Errors []*Error `json:"-"`
}

// Message is one UNH…UNT message with its segments (UNH and UNT
// included).
type Message struct {
	Reference   string `json:"reference"` // UNH 0062
	Type        string `json:"type"`      // PAXLST, PNRGOV
	Version     string `json:"version"`   // D (PAXLST) or 11 (PNRGOV)
	Release     string `json:"release"`   // 05B, 02B, 1
	Agency      string `json:"agency"`    // UN, IA
	Association string `json:"association,omitempty"`
	// Group is the functional group reference (UNG) the message was in.
	Group    string     `json:"group,omitempty"`
	Segments []*Segment `json:"-"`
	// Err is set when the message is damaged: a segment that could not be
	// tokenised, a missing UNT (truncated), a wrong segment count or
	// reference in UNT. A message with Err should not be used.
	Err *Error `json:"-"`
}

// Directory is Version+Release ("D05B", "D02B", "11.1").
func (m *Message) Directory() string {
	if m.Version == "D" || m.Version == "S" {
		return m.Version + m.Release
	}
	if m.Release == "" {
		return m.Version
	}
	return m.Version + "." + m.Release
}

// Error is a problem in an interchange, named the way an analyst finds it:
// the message (its UNH reference, or "interchange"), the segment number
// within the message (UNH = 1; within the interchange for envelope
// problems), the segment tag, and the reason.
type Error struct {
	Message string
	Segment int
	Tag     string
	Reason  string
}

func (e *Error) Error() string {
	if e.Segment == 0 {
		return fmt.Sprintf("message %s: %s", e.Message, e.Reason)
	}
	tag := ""
	if e.Tag != "" {
		tag = " (" + strings.Trim(tagText(e.Tag), `"`) + ")"
	}
	return fmt.Sprintf("message %s, segment %d%s: %s", e.Message, e.Segment, tag, e.Reason)
}

// Is makes errors.Is(err, ErrSyntax) true for every Error.
func (e *Error) Is(target error) bool { return target == ErrSyntax }

// Parse reads one interchange. It fails only when there is no interchange
// at all (no UNB, or too large); every other problem is attached to the
// message it concerns (Message.Err) or to the envelope (Errors), so that a
// bad message does not stop the others.
func Parse(data []byte) (*Interchange, error) {
	ic, rest, err := parseOne(data)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		ic.Errors = append(ic.Errors, &Error{Message: "interchange", Reason: "data after UNZ"})
	}
	return ic, nil
}

// ParseAll reads every interchange of data: some senders put several in
// one file. Data after the last UNZ that is not an interchange is an
// error of the last one.
func ParseAll(data []byte) ([]*Interchange, error) {
	if len(data) > MaxInterchangeSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(data), MaxInterchangeSize)
	}
	var out []*Interchange
	for {
		ic, rest, err := parseOne(data)
		if err != nil {
			if len(out) == 0 {
				return nil, err
			}
			last := out[len(out)-1]
			last.Errors = append(last.Errors, &Error{Message: "interchange", Reason: "data after UNZ is not an interchange: " + err.Error()})
			return out, nil
		}
		out = append(out, ic)
		if len(bytes.TrimSpace(rest)) == 0 {
			return out, nil
		}
		data = rest
	}
}

// parseOne reads the interchange at the start of data and returns what
// follows its UNZ.
func parseOne(data []byte) (*Interchange, []byte, error) {
	if len(data) > MaxInterchangeSize {
		return nil, nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(data), MaxInterchangeSize)
	}
	ic := &Interchange{Delimiters: Default}
	start := 0
	// A byte-order mark or leading white space may precede UNA/UNB.
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	for start < len(data) && isSpace(data[start]) {
		start++
	}
	if bytes.HasPrefix(data[start:], []byte("UNA")) {
		if len(data) < start+9 {
			return nil, nil, fmt.Errorf("%w: UNA service string advice cut short", ErrNoInterchange)
		}
		u := data[start+3 : start+9]
		d := Delimiters{Component: u[0], Element: u[1], Decimal: u[2], Release: u[3], Repetition: u[4], Terminator: u[5]}
		if err := d.validate(); err != nil {
			return nil, nil, fmt.Errorf("%w: UNA: %v", ErrNoInterchange, err)
		}
		if d.Repetition == ' ' {
			d.Repetition = 0 // syntax version 3: reserved, not a separator
		}
		ic.Delimiters, ic.HasUNA = d, true
		start += 9
	}
	tok := NewTokenizer(data, ic.Delimiters, start)
	unb, ok := tok.Next()
	if !ok || unb.Tag != "UNB" {
		what := "no data"
		if ok {
			what = "starts with " + tagText(unb.Tag)
		}
		return nil, nil, fmt.Errorf("%w: %s, want UNA or UNB", ErrNoInterchange, what)
	}
	if unb.Err != nil {
		return nil, nil, fmt.Errorf("%w: UNB: %v", ErrNoInterchange, unb.Err)
	}
	ic.Syntax = unb.Get(0, 0)
	ic.SyntaxVersion, _ = strconv.Atoi(unb.Get(0, 1))
	ic.Sender, ic.Recipient = unb.Get(1, 0), unb.Get(2, 0)
	ic.Date, ic.Time = unb.Get(3, 0), unb.Get(3, 1)
	ic.Reference = unb.Get(4, 0)
	ic.Application = unb.Get(6, 0)
	if !ic.HasUNA && ic.SyntaxVersion >= 4 {
		// Syntax version 4 defines '*' as the repetition separator.
		ic.Delimiters.Repetition = '*'
		tok.SetDelimiters(ic.Delimiters)
	}
	decode := decoderFor(ic.Syntax)

	envErr := func(seg *Segment, format string, args ...any) {
		ic.Errors = append(ic.Errors, &Error{Message: "interchange", Segment: seg.Pos, Tag: seg.Tag, Reason: fmt.Sprintf(format, args...)})
	}
	var (
		rest       []byte
		cur        *Message
		group      string
		groupCount int
		inGroup    bool
		groups     int
		unz        *Segment
	)
	closeMessage := func(reason string) {
		if cur.Err == nil {
			cur.Err = &Error{Message: cur.name(), Segment: len(cur.Segments), Reason: reason}
		}
		ic.Messages = append(ic.Messages, cur)
		cur = nil
	}
	for unz == nil {
		seg, ok := tok.Next()
		if !ok {
			break
		}
		s := &seg
		if s.Err == nil {
			decode(s)
		}
		switch {
		case s.Tag == "UNH":
			if cur != nil {
				closeMessage("no UNT before the next UNH: message truncated")
			}
			cur = &Message{Reference: s.Get(0, 0), Type: s.Get(1, 0), Version: s.Get(1, 1), Release: s.Get(1, 2),
				Agency: s.Get(1, 3), Association: s.Get(1, 4), Group: group}
			cur.Segments = append(cur.Segments, s)
			if s.Err != nil {
				cur.Err = &Error{Message: cur.name(), Segment: 1, Tag: "UNH", Reason: s.Err.Error()}
			} else if cur.Reference == "" || cur.Type == "" {
				cur.Err = &Error{Message: cur.name(), Segment: 1, Tag: "UNH", Reason: "message reference or type missing"}
			}
			if inGroup {
				groupCount++
			}
		case cur != nil && s.Tag == "UNT":
			cur.Segments = append(cur.Segments, s)
			n := len(cur.Segments)
			switch count, err := strconv.Atoi(s.Get(0, 0)); {
			case s.Err != nil:
				cur.fail(n, s, s.Err.Error())
			case err != nil:
				cur.fail(n, s, fmt.Sprintf("segment count %q is not a number", printable(s.Get(0, 0))))
			case count != n:
				cur.fail(n, s, fmt.Sprintf("UNT counts %d segments, the message has %d", count, n))
			case s.Get(1, 0) != cur.Reference:
				cur.fail(n, s, fmt.Sprintf("UNT reference %q does not match UNH %q", printable(s.Get(1, 0)), printable(cur.Reference)))
			}
			ic.Messages = append(ic.Messages, cur)
			cur = nil
		case cur != nil && (s.Tag == "UNG" || s.Tag == "UNE" || s.Tag == "UNZ"):
			closeMessage("no UNT: message truncated")
			fallthrough
		case cur == nil:
			switch s.Tag {
			case "UNG":
				if inGroup {
					envErr(s, "UNG inside group %q (no UNE)", group)
				}
				inGroup, groupCount, groups = true, 0, groups+1
				group = s.Get(4, 0)
			case "UNE":
				if !inGroup {
					envErr(s, "UNE without UNG")
					break
				}
				if n, err := strconv.Atoi(s.Get(0, 0)); err != nil || n != groupCount {
					envErr(s, "UNE counts %q messages, group %q has %d", printable(s.Get(0, 0)), group, groupCount)
				}
				if s.Get(1, 0) != group {
					envErr(s, "UNE reference %q does not match UNG %q", printable(s.Get(1, 0)), group)
				}
				inGroup, group = false, ""
			case "UNZ":
				unz = s
				rest = data[tok.pos:]
			default:
				if s.Err != nil {
					envErr(s, "%v", s.Err)
				} else {
					envErr(s, "segment outside any message")
				}
			}
		default:
			cur.Segments = append(cur.Segments, s)
			if s.Err != nil {
				cur.fail(len(cur.Segments), s, s.Err.Error())
			}
		}
	}
	if cur != nil {
		closeMessage("data ends before UNT: interchange truncated")
	}
	switch {
	case unz == nil:
		ic.Errors = append(ic.Errors, &Error{Message: "interchange", Segment: tok.n, Reason: "data ends before UNZ: interchange truncated"})
	default:
		if inGroup {
			envErr(unz, "UNZ inside group %q (no UNE)", group)
		}
		want := len(ic.Messages)
		if groups > 0 {
			want = groups
		}
		if n, err := strconv.Atoi(unz.Get(0, 0)); err != nil || n != want {
			envErr(unz, "UNZ counts %q, the interchange has %d %s", printable(unz.Get(0, 0)), want, map[bool]string{true: "groups", false: "messages"}[groups > 0])
		}
		if unz.Get(1, 0) != ic.Reference {
			envErr(unz, "UNZ reference %q does not match UNB %q", printable(unz.Get(1, 0)), printable(ic.Reference))
		}
	}
	return ic, rest, nil
}

func (m *Message) name() string {
	if m.Reference != "" {
		return printable(m.Reference)
	}
	return "?"
}

func (m *Message) fail(n int, s *Segment, reason string) {
	if m.Err == nil {
		m.Err = &Error{Message: m.name(), Segment: n, Tag: s.Tag, Reason: reason}
	}
}

// Errorf makes an Error for segment number n (within the message) of m.
func (m *Message) Errorf(n int, format string, args ...any) *Error {
	tag := ""
	if n >= 1 && n <= len(m.Segments) {
		tag = m.Segments[n-1].Tag
	}
	return &Error{Message: m.name(), Segment: n, Tag: tag, Reason: fmt.Sprintf(format, args...)}
}

func (d Delimiters) validate() error {
	set := []byte{d.Component, d.Element, d.Release, d.Terminator}
	for i, c := range set {
		if c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == ' ' {
			return fmt.Errorf("service character %q cannot be a letter, digit or space", c)
		}
		for _, o := range set[i+1:] {
			if c == o {
				return fmt.Errorf("service character %q used twice", c)
			}
		}
	}
	if r := d.Repetition; r != ' ' && bytes.IndexByte(set, r) >= 0 {
		return fmt.Errorf("repetition separator %q is another service character", r)
	}
	return nil
}

// decoderFor converts the components of a segment to UTF-8 according to
// the syntax identifier: UNOC and UNOD-UNOK are ISO 8859 (read as Latin-1,
// which is exact for UNOC and keeps every byte for the others), UNOW and
// UNOY are UTF-8, the rest (UNOA, UNOB, IATA) ASCII.
func decoderFor(syntax string) func(*Segment) {
	latin1 := strings.HasPrefix(syntax, "UNO") && len(syntax) == 4 && syntax[3] >= 'C' && syntax[3] <= 'K'
	return func(s *Segment) {
		for _, e := range s.Elements {
			for _, r := range e {
				for i, c := range r {
					if isASCII(c) {
						continue
					}
					if latin1 || !utf8.ValidString(c) {
						r[i] = fromLatin1(c)
					}
				}
			}
		}
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func fromLatin1(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteRune(rune(s[i]))
	}
	return b.String()
}
