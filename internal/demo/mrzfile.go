package demo

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// File is travellers.mrz: the MRZ blocks in video order, in the format
// `checkpointctl scanner simulate --file` reads (blocks separated by blank
// lines, '#' comments), with the demo's timing and each traveller's expected
// outcome in structured comments:
//
//	# checkpoint-demo hold=6s fps=10
//	# traveller 1 role=wanted expect=hit:face,person
//	P<UTO…
//	…
type File struct {
	Hold    time.Duration
	FPS     float64
	Entries []Entry
}

// Entry is one traveller of the file.
type Entry struct {
	Index int  // 1-based position in the video
	Role  Role // what the watchlist holds about the traveller
	// Kinds are the hit kinds the traveller is expected to raise
	// (document, person, face); empty means CLEAR.
	Kinds []string
	Lines []string
}

// Hit reports whether the traveller is expected to raise a hit.
func (e Entry) Hit() bool { return len(e.Kinds) > 0 }

// Expect is "clear" or "hit:<kinds>".
func (e Entry) Expect() string {
	if !e.Hit() {
		return "clear"
	}
	return "hit:" + strings.Join(e.Kinds, ",")
}

// WriteTo writes the file.
func (f *File) WriteTo(w io.Writer) (int64, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "# Checkpoint demo travellers in camera order (synthetic identities).\n")
	if f.Hold > 0 && f.FPS > 0 {
		fmt.Fprintf(&b, "# checkpoint-demo hold=%s fps=%s\n", f.Hold, strconv.FormatFloat(f.FPS, 'g', -1, 64))
	}
	for _, e := range f.Entries {
		fmt.Fprintf(&b, "\n# traveller %d role=%s expect=%s\n", e.Index, e.Role, e.Expect())
		for _, l := range e.Lines {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}

// maxLine bounds a line of the file; MRZ lines are 30 to 44 characters.
const maxLine = 4096

// ReadFile parses a travellers file. Blocks without a traveller comment
// (a plain scanner file) get their position as index and an unknown role.
func ReadFile(r io.Reader) (*File, error) {
	f := &File{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 256), maxLine)
	var cur *Entry
	flush := func() {
		if cur != nil && len(cur.Lines) > 0 {
			f.Entries = append(f.Entries, *cur)
		}
		cur = nil
	}
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "#"):
			fields := strings.Fields(strings.TrimPrefix(line, "#"))
			if len(fields) == 0 {
				continue
			}
			switch fields[0] {
			case "checkpoint-demo":
				if err := f.parseHeader(fields[1:]); err != nil {
					return nil, fmt.Errorf("%w: line %d: %w", ErrMRZFile, n, err)
				}
			case "traveller":
				flush()
				e, err := parseEntryComment(fields[1:])
				if err != nil {
					return nil, fmt.Errorf("%w: line %d: %w", ErrMRZFile, n, err)
				}
				cur = &e
			}
		case line == "":
			flush()
		default:
			if cur == nil {
				cur = &Entry{Index: len(f.Entries) + 1, Role: roleNone}
			}
			if len(cur.Lines) == 3 {
				return nil, fmt.Errorf("%w: line %d: more than 3 lines in a block", ErrMRZFile, n)
			}
			if len(line) > 44 {
				return nil, fmt.Errorf("%w: line %d: %d characters, an MRZ line has at most 44", ErrMRZFile, n, len(line))
			}
			cur.Lines = append(cur.Lines, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMRZFile, err)
	}
	flush()
	if len(f.Entries) == 0 {
		return nil, fmt.Errorf("%w: no MRZ blocks", ErrMRZFile)
	}
	for i, e := range f.Entries {
		if len(e.Lines) < 2 {
			return nil, fmt.Errorf("%w: traveller %d: %d line(s), an MRZ has 2 or 3", ErrMRZFile, e.Index, len(e.Lines))
		}
		if e.Index != i+1 {
			return nil, fmt.Errorf("%w: traveller %d is block %d: blocks must be in camera order", ErrMRZFile, e.Index, i+1)
		}
	}
	return f, nil
}

func (f *File) parseHeader(kv []string) error {
	for _, p := range kv {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			return fmt.Errorf("%q: want key=value", p)
		}
		switch k {
		case "hold":
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return fmt.Errorf("hold %q: want a positive duration", v)
			}
			f.Hold = d
		case "fps":
			x, err := strconv.ParseFloat(v, 64)
			if err != nil || !(x > 0 && x <= 1000) {
				return fmt.Errorf("fps %q: want a number in (0, 1000]", v)
			}
			f.FPS = x
		}
	}
	return nil
}

func parseEntryComment(fields []string) (Entry, error) {
	if len(fields) == 0 {
		return Entry{}, fmt.Errorf("traveller comment without an index")
	}
	idx, err := strconv.Atoi(fields[0])
	if err != nil || idx < 1 {
		return Entry{}, fmt.Errorf("traveller index %q: want a positive number", fields[0])
	}
	e := Entry{Index: idx, Role: roleNone}
	for _, p := range fields[1:] {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			return Entry{}, fmt.Errorf("%q: want key=value", p)
		}
		switch k {
		case "role":
			e.Role = Role(v)
		case "expect":
			switch {
			case v == "clear":
			case strings.HasPrefix(v, "hit:") && len(v) > 4:
				e.Kinds = strings.Split(v[4:], ",")
			default:
				return Entry{}, fmt.Errorf("expect %q: want clear or hit:KIND[,KIND]", v)
			}
		}
	}
	return e, nil
}
