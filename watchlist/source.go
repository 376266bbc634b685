package watchlist

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Plain import sources: JSON Lines and CSV (FORMAT.md documents both).
// They carry no signature; signed bundles are the sync packages' business.

// Header is the optional first line of a JSON Lines source:
// {"kind":"meta","watchlist_id":…,"authority":…,"face_model_id":…,
// "issued_at":…,"expires_at":…}.
type Header struct {
	Kind        Kind      `json:"kind"`
	WatchlistID string    `json:"watchlist_id,omitempty"`
	Authority   string    `json:"authority,omitempty"`
	FaceModelID string    `json:"face_model_id,omitempty"`
	IssuedAt    time.Time `json:"issued_at,omitzero"`
	ExpiresAt   time.Time `json:"expires_at,omitzero"`
}

// KindMeta marks the header line of a JSON Lines source.
const KindMeta Kind = "meta"

// Source is a plain import source: changes plus an optional header.
type Source interface {
	ChangeSource
	// Header returns the source's header line, if it has one.
	Header() (Header, bool)
	// Line is the input line of the change Next returned last.
	Line() int
}

// JSONLSource reads JSON Lines: one change per line, either in Change form
// ({"op":"put","kind":"document","id":…,"document":{…}}) or flat, the
// record's fields beside "kind" ({"kind":"document","id":…,"number":…}).
// Unknown fields are errors. Person names get their MRZ forms filled
// (FillMRZ). Blank lines and lines starting with '#' are skipped.
type JSONLSource struct {
	r      *bufio.Reader
	line   int
	header *Header
	peeked []byte
	peekNo int
}

// NewJSONLSource reads the header line if the source starts with one.
func NewJSONLSource(r io.Reader) (*JSONLSource, error) {
	s := &JSONLSource{r: bufio.NewReaderSize(r, 1<<20)}
	line, err := s.readLine()
	if errors.Is(err, io.EOF) {
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	var probe struct {
		Kind Kind `json:"kind"`
	}
	if json.Unmarshal(line, &probe) == nil && probe.Kind == KindMeta {
		var h Header
		if err := strictUnmarshal(line, &h); err != nil {
			return nil, fmt.Errorf("%w: line %d: header: %v", ErrBadSource, s.line, err)
		}
		s.header = &h
		return s, nil
	}
	s.peeked, s.peekNo = line, s.line
	return s, nil
}

func (s *JSONLSource) readLine() ([]byte, error) {
	for {
		b, err := s.r.ReadBytes('\n')
		if len(b) == 0 && err != nil {
			if errors.Is(err, io.EOF) {
				return nil, io.EOF
			}
			return nil, fmt.Errorf("%w: line %d: %v", ErrBadSource, s.line+1, err)
		}
		s.line++
		b = bytes.TrimSpace(b)
		if len(b) == 0 || b[0] == '#' {
			if err != nil {
				return nil, io.EOF
			}
			continue
		}
		return b, nil
	}
}

// Header implements Source.
func (s *JSONLSource) Header() (Header, bool) {
	if s.header == nil {
		return Header{}, false
	}
	return *s.header, true
}

// Line implements Source.
func (s *JSONLSource) Line() int { return s.line }

// Next implements ChangeSource.
func (s *JSONLSource) Next() (Change, error) {
	var line []byte
	if s.peeked != nil {
		line, s.peeked = s.peeked, nil
	} else {
		var err error
		if line, err = s.readLine(); err != nil {
			return Change{}, err
		}
	}
	c, err := ParseChangeLine(line)
	if err != nil {
		return Change{}, fmt.Errorf("line %d: %w", s.line, err)
	}
	return c, nil
}

// ParseChangeLine decodes one JSON Lines change (either form), validates it
// and fills person names' MRZ forms.
func ParseChangeLine(line []byte) (Change, error) {
	var probe struct {
		Op       Op              `json:"op"`
		Kind     Kind            `json:"kind"`
		Document json.RawMessage `json:"document"`
		Person   json.RawMessage `json:"person"`
	}
	if err := json.Unmarshal(line, &probe); err != nil {
		return Change{}, fmt.Errorf("%w: %v", ErrBadSource, err)
	}
	var c Change
	switch {
	case probe.Kind == KindMeta:
		return c, fmt.Errorf("%w: header line must come first", ErrBadSource)
	case probe.Document != nil || probe.Person != nil:
		if err := strictUnmarshal(line, &c); err != nil {
			return c, fmt.Errorf("%w: %v", ErrBadSource, err)
		}
	case probe.Kind == KindDocument:
		var flat struct {
			Op   Op   `json:"op"`
			Kind Kind `json:"kind"`
			DocumentAlert
		}
		if err := strictUnmarshal(line, &flat); err != nil {
			return c, fmt.Errorf("%w: %v", ErrBadSource, err)
		}
		c = Change{Op: flat.Op, Kind: KindDocument, ID: flat.ID}
		if c.Op != OpDelete {
			c.Document = &flat.DocumentAlert
		}
	case probe.Kind == KindPerson:
		var flat struct {
			Op   Op   `json:"op"`
			Kind Kind `json:"kind"`
			PersonAlert
		}
		if err := strictUnmarshal(line, &flat); err != nil {
			return c, fmt.Errorf("%w: %v", ErrBadSource, err)
		}
		c = Change{Op: flat.Op, Kind: KindPerson, ID: flat.ID}
		if c.Op != OpDelete {
			c.Person = &flat.PersonAlert
		}
	default:
		return c, fmt.Errorf("%w: unknown kind %q", ErrBadSource, probe.Kind)
	}
	if c.Op == "" {
		c.Op = OpPut
	}
	if c.ID == "" {
		switch {
		case c.Document != nil:
			c.ID = c.Document.ID
		case c.Person != nil:
			c.ID = c.Person.ID
		}
	}
	if err := c.Validate(); err != nil {
		return c, err
	}
	if c.Person != nil {
		FillMRZ(c.Person)
	}
	return c, nil
}

func strictUnmarshal(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("trailing data after the object")
	}
	return nil
}

// CSVSource reads document alerts from CSV with a header row naming the
// columns (any order): id, issuing_state, number (required), document_type,
// status, source, action, reported_at, expires_at. Unknown columns are
// errors, so a misspelt header is not silently dropped.
type CSVSource struct {
	r    *csv.Reader
	cols map[string]int
	line int
}

var csvColumns = []string{"id", "issuing_state", "document_type", "number", "status", "source", "action", "reported_at", "expires_at"}

// NewCSVSource reads and checks the header row.
func NewCSVSource(r io.Reader) (*CSVSource, error) {
	cr := csv.NewReader(r)
	cr.TrimLeadingSpace = true
	cr.Comment = '#'
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%w: csv header: %v", ErrBadSource, err)
	}
	s := &CSVSource{r: cr, cols: make(map[string]int), line: 1}
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		known := false
		for _, c := range csvColumns {
			known = known || c == h
		}
		if !known {
			return nil, fmt.Errorf("%w: csv header: unknown column %q (want %s)", ErrBadSource, h, strings.Join(csvColumns, ","))
		}
		if _, dup := s.cols[h]; dup {
			return nil, fmt.Errorf("%w: csv header: column %q twice", ErrBadSource, h)
		}
		s.cols[h] = i
	}
	for _, req := range []string{"id", "issuing_state", "number"} {
		if _, ok := s.cols[req]; !ok {
			return nil, fmt.Errorf("%w: csv header: missing column %q", ErrBadSource, req)
		}
	}
	return s, nil
}

// Header implements Source: CSV has none.
func (s *CSVSource) Header() (Header, bool) { return Header{}, false }

// Line implements Source.
func (s *CSVSource) Line() int { return s.line }

// Next implements ChangeSource.
func (s *CSVSource) Next() (Change, error) {
	rec, err := s.r.Read()
	if errors.Is(err, io.EOF) {
		return Change{}, io.EOF
	}
	if err != nil {
		// FieldPos is only defined for a record that was read: after a
		// parse error (an unterminated quote, a stray quote) it panics.
		// The error carries its own line.
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			s.line = pe.StartLine
		}
		return Change{}, fmt.Errorf("%w: %v", ErrBadSource, err)
	}
	line, _ := s.r.FieldPos(0)
	s.line = line
	get := func(col string) string {
		if i, ok := s.cols[col]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	d := &DocumentAlert{
		ID: get("id"), IssuingState: get("issuing_state"), DocumentType: get("document_type"),
		Number: get("number"), Status: get("status"), Source: get("source"), Action: get("action"),
		ReportedAt: get("reported_at"), ExpiresAt: get("expires_at"),
	}
	if d.ID == "" || d.IssuingState == "" || d.Number == "" {
		return Change{}, fmt.Errorf("%w: line %d: id, issuing_state and number are required", ErrBadSource, line)
	}
	return Change{Op: OpPut, Kind: KindDocument, ID: d.ID, Document: d}, nil
}

// OpenSource opens a plain import file: .csv is CSV, anything else JSON
// Lines; a .gz suffix is decompressed. The returned closer closes the file.
func OpenSource(path string) (Source, io.Closer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("watchlist: %w", err)
	}
	var r io.Reader = f
	name := strings.ToLower(path)
	if strings.HasSuffix(name, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("%w: %s: %v", ErrBadSource, path, err)
		}
		r, name = zr, strings.TrimSuffix(name, ".gz")
	}
	var src Source
	if strings.HasSuffix(name, ".csv") {
		src, err = NewCSVSource(r)
	} else {
		src, err = NewJSONLSource(r)
	}
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return src, f, nil
}

// maxMRZForms bounds the transliterated forms stored per name.
const maxMRZForms = 8

// FillMRZ fills the MRZ forms of the person's name and aliases that have
// none, from the ICAO 9303 Part 3 transliterations (recommended first, then
// alternatives) of surname and given names.
func FillMRZ(p *PersonAlert) {
	fillName(&p.Name)
	for i := range p.Aliases {
		fillName(&p.Aliases[i])
	}
}

func fillName(n *Name) {
	if len(n.MRZ) > 0 || strings.TrimSpace(n.Surname+n.GivenNames) == "" {
		return
	}
	surs := mrzVariants(n.Surname)
	givs := mrzVariants(n.GivenNames)
	if len(givs) == 0 {
		givs = []string{""}
	}
	seen := make(map[string]bool)
	for _, s := range surs {
		for _, g := range givs {
			f := s + "<<" + g
			if len(n.MRZ) < maxMRZForms && !seen[f] {
				seen[f] = true
				n.MRZ = append(n.MRZ, f)
			}
		}
	}
}

// mrzVariants are the MRZ spellings of a name part: letters A–Z, words
// joined by '<'.
func mrzVariants(part string) []string {
	if strings.TrimSpace(part) == "" {
		return nil
	}
	var out []string
	for _, v := range transliterateVariants(part) {
		var sb strings.Builder
		for _, r := range strings.ToUpper(v) {
			switch {
			case r >= 'A' && r <= 'Z':
				sb.WriteRune(r)
			case r == ' ', r == '-', r == '<':
				sb.WriteByte('<')
			}
		}
		f := strings.Trim(sb.String(), "<")
		for strings.Contains(f, "<<") {
			f = strings.ReplaceAll(f, "<<", "<")
		}
		if f != "" && !contains(out, f) {
			out = append(out, f)
		}
		if len(out) == 4 {
			break
		}
	}
	return out
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
