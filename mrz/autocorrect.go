package mrz

import "strings"

// OCR confusions. Numeric positions (dates, check digits) cannot hold
// letters and alphabetic ones (codes, names, sex) cannot hold digits, so
// there a confusion has one answer. Alphanumeric fields (document number,
// optional data) can hold both; there a change is made only when exactly
// one candidate satisfies the check digits.
var (
	digitFor  = [256]byte{'O': '0', 'D': '0', 'Q': '0', 'I': '1', 'L': '1', 'Z': '2', 'A': '4', 'S': '5', 'G': '6', 'T': '7', 'B': '8'}
	letterFor = [256]byte{'0': 'O', '1': 'I', '2': 'Z', '4': 'A', '5': 'S', '6': 'G', '7': 'T', '8': 'B'}
	// alnumAlternatives lists what an observed character may really be in
	// an alphanumeric field. A letter may stand for a filler ('<' is often
	// read as K, X, S or C), not the other way round.
	alnumAlternatives = [256]string{
		'0': "ODQ", 'O': "0", 'D': "0", 'Q': "0",
		'1': "IL", 'I': "1", 'L': "1",
		'2': "Z", 'Z': "2",
		'4': "A", 'A': "4",
		'5': "S", 'S': "5<",
		'6': "G", 'G': "6",
		'7': "T", 'T': "7",
		'8': "B", 'B': "8",
		'K': "<", 'X': "<", 'C': "<",
	}
)

// fillerLookalikes are letters an OCR engine produces for '<'.
const fillerLookalikes = "KSXCEL"

const (
	reasonLowercase = "lowercase letter"
	reasonNumeric   = "letter in a numeric field"
	reasonAlpha     = "digit in an alphabetic field"
	reasonFiller    = "letter in the filler after the name"
	reasonCheck     = "the one most plausible candidate that satisfies the check digit"
)

type corrector struct {
	d       *Document
	lay     *layout
	buf     [][]byte
	changed bool
}

func (c *corrector) set(line, col int, to byte, field, reason string) {
	from := c.buf[line][col]
	c.buf[line][col] = to
	c.changed = true
	// A second repair of the same character (a lowercase 'o' in a date
	// becomes 'O', then '0') is folded into one correction from the input
	// character to the final one.
	for i := range c.d.Corrections {
		p := &c.d.Corrections[i]
		if p.Line == line+1 && p.Column == col+1 {
			p.To = string(to)
			p.Reason += "; " + reason
			return
		}
	}
	c.d.Corrections = append(c.d.Corrections, Correction{
		Line: line + 1, Column: col + 1, From: string(from), To: string(to), Field: field, Reason: reason,
	})
}

func (c *corrector) at(line, col int) (byte, bool) {
	if line >= len(c.buf) || col >= len(c.buf[line]) {
		return 0, false
	}
	return c.buf[line][col], true
}

// autocorrect repairs OCR confusions in a copy of lines and returns the
// repaired lines; the input is kept in Document.InputLines when anything
// changed.
func (d *Document) autocorrect(lay *layout, lines []string) []string {
	c := &corrector{d: d, lay: lay, buf: make([][]byte, len(lines))}
	for i, l := range lines {
		c.buf[i] = []byte(l)
	}
	for i, l := range c.buf {
		for j, ch := range l {
			if ch >= 'a' && ch <= 'z' {
				c.set(i, j, ch-'a'+'A', lay.fieldAt(i, j), reasonLowercase)
			}
		}
	}
	for _, fs := range lay.fields {
		switch fs.kind {
		case kindDate:
			for k := fs.col; k < fs.col+fs.n; k++ {
				c.numeric(fs.line, k, fs.name, true)
			}
		case kindDigit:
			c.numeric(fs.line, fs.col, fs.name, false)
		case kindCode, kindDocCode, kindSex, kindName:
			for k := fs.col; k < fs.col+fs.n; k++ {
				if ch, ok := c.at(fs.line, k); ok && letterFor[ch] != 0 {
					c.set(fs.line, k, letterFor[ch], fs.name, reasonAlpha)
				}
			}
			if fs.kind == kindName {
				c.nameFiller(fs)
			}
		}
		if fs.ckCol >= 0 {
			c.numeric(fs.ckLine, fs.ckCol, fs.name, false)
		}
	}
	if lay.longNumber {
		c.longNumberCheck()
	}
	for _, fs := range lay.fields {
		if fs.kind == kindAlnum && fs.ckCol >= 0 {
			pos := make([][2]int, 0, fs.n)
			for k := fs.col; k < fs.col+fs.n; k++ {
				pos = append(pos, [2]int{fs.line, k})
			}
			if fs.name == FieldDocumentNumber && c.isLong() {
				pos = append(pos, c.longContinuation()...)
				if len(pos) > fs.n {
					last := pos[len(pos)-1]
					c.search(fs.name, pos[:len(pos)-1], last[0], last[1], true)
				}
				continue
			}
			c.search(fs.name, pos, fs.ckLine, fs.ckCol, fs.name == FieldDocumentNumber)
		}
	}
	if !c.changed {
		return lines
	}
	d.InputLines = lines
	out := make([]string, len(c.buf))
	for i, b := range c.buf {
		out[i] = string(b)
	}
	return out
}

// numeric maps a letter at a digit-only position to its digit. Dates keep
// 'X' and '<' (unknown parts); check digits keep '<' (all-filler fields).
func (c *corrector) numeric(line, col int, field string, date bool) {
	ch, ok := c.at(line, col)
	if !ok || ch == '<' || (date && ch == 'X') {
		return
	}
	if to := digitFor[ch]; to != 0 {
		c.set(line, col, to, field, reasonNumeric)
	}
}

// nameFiller turns short runs of filler look-alikes that follow the end of
// the name back into '<'. After the secondary identifier ends ("<<"), only
// fillers may follow, so a lone K or X there is a misread '<'.
func (c *corrector) nameFiller(fs fieldSpec) {
	if fs.line >= len(c.buf) {
		return
	}
	l := c.buf[fs.line]
	end := min(fs.col+fs.n, len(l))
	if fs.col >= end {
		return
	}
	name := string(l[fs.col:end])
	sep := strings.Index(name, "<<")
	if sep < 0 {
		return
	}
	start := sep + 2
	if start < len(name) && name[start] != '<' {
		e := strings.Index(name[start:], "<<")
		if e < 0 {
			return
		}
		start += e + 2
	}
	for i := start; i < len(name); {
		if name[i] == '<' {
			i++
			continue
		}
		j := i
		for j < len(name) && name[j] != '<' {
			j++
		}
		if j-i <= 2 && strings.Trim(name[i:j], fillerLookalikes) == "" {
			for k := i; k < j; k++ {
				c.set(fs.line, fs.col+k, '<', fs.name, reasonFiller)
			}
		}
		i = j
	}
}

// isLong reports whether the buffer holds a TD1/TD2 long document number.
func (c *corrector) isLong() bool {
	if !c.lay.longNumber {
		return false
	}
	nf := c.lay.fields[c.lay.numberIdx]
	of := c.lay.fields[c.lay.longOpt]
	ck, ok1 := c.at(nf.ckLine, nf.ckCol)
	last, ok2 := c.at(nf.line, nf.col+nf.n-1)
	first, ok3 := c.at(of.line, of.col)
	return ok1 && ok2 && ok3 && ck == '<' && last != '<' && first != '<'
}

// longContinuation returns the positions of the number's continuation and,
// last, of its check digit.
func (c *corrector) longContinuation() [][2]int {
	of := c.lay.fields[c.lay.longOpt]
	var pos [][2]int
	for k := of.col; k < of.col+of.n; k++ {
		ch, ok := c.at(of.line, k)
		if !ok || ch == '<' {
			break
		}
		pos = append(pos, [2]int{of.line, k})
	}
	return pos
}

// longNumberCheck maps a letter in the long number's check digit position.
func (c *corrector) longNumberCheck() {
	if !c.isLong() {
		return
	}
	pos := c.longContinuation()
	if len(pos) >= 2 {
		last := pos[len(pos)-1]
		c.numeric(last[0], last[1], FieldDocumentNumber, false)
	}
}

// fieldOK evaluates a field at pos against the check digit at ck.
func (c *corrector) fieldOK(pos [][2]int, ckLine, ckCol int, trailing bool) bool {
	ck, ok := c.at(ckLine, ckCol)
	if !ok {
		return false
	}
	b := make([]byte, 0, len(pos))
	seenFiller := false
	for _, p := range pos {
		ch, _ := c.at(p[0], p[1])
		if !mrzChar(ch) {
			return false
		}
		if trailing {
			if ch == '<' {
				seenFiller = true
			} else if seenFiller {
				return false // a filler inside a document number
			}
		}
		b = append(b, ch)
	}
	s := string(b)
	if ck == '<' {
		return allFiller(s)
	}
	return CheckDigit(s) == ck
}

type candidate struct {
	subs [2]struct {
		line, col int
		to        byte
	}
	n int
}

// search tries one, then two confusable substitutions in a field whose
// check digit fails, and applies them only when exactly one candidate
// satisfies the field's check digit (and the composite, when there is one).
func (c *corrector) search(field string, pos [][2]int, ckLine, ckCol int, trailing bool) {
	ck, ok := c.at(ckLine, ckCol)
	if !ok || (ck != '<' && (ck < '0' || ck > '9')) {
		return
	}
	if c.fieldOK(pos, ckLine, ckCol, trailing) {
		return
	}
	for depth := 1; depth <= 2; depth++ {
		var cands []candidate
		var tryAt func(start int, cur candidate)
		tryAt = func(start int, cur candidate) {
			if cur.n == depth {
				if c.fieldOK(pos, ckLine, ckCol, trailing) {
					cands = append(cands, cur)
				}
				return
			}
			for i := start; i < len(pos); i++ {
				p := pos[i]
				orig, _ := c.at(p[0], p[1])
				for _, alt := range []byte(alnumAlternatives[orig]) {
					c.buf[p[0]][p[1]] = alt
					next := cur
					next.subs[cur.n].line, next.subs[cur.n].col, next.subs[cur.n].to = p[0], p[1], alt
					next.n++
					tryAt(i+1, next)
				}
				c.buf[p[0]][p[1]] = orig
			}
		}
		tryAt(0, candidate{})
		if len(cands) == 0 {
			continue
		}
		// Keep the most plausible candidates: document numbers and
		// personal numbers are mostly digits, so a letter read for a digit
		// is the likelier confusion. The composite check digit adds no
		// information here: each field sits in it with the same weights as
		// under its own check digit.
		best, top := -100, 0
		for _, cand := range cands {
			switch sc := cand.score(); {
			case sc > best:
				best, top = sc, 1
			case sc == best:
				top++
			}
		}
		if top != 1 {
			c.d.problem(SeverityWarning, field, ProblemAmbiguous, "several OCR repairs fit the check digit; none applied")
			return
		}
		for _, cand := range cands {
			if cand.score() == best {
				for i := 0; i < cand.n; i++ {
					s := cand.subs[i]
					c.set(s.line, s.col, s.to, field, reasonCheck)
				}
			}
		}
		return
	}
}

// score ranks a candidate: +1 for each letter turned into a digit, -1 for
// each digit turned into a letter, 0 for a letter turned into a filler.
func (cand candidate) score() int {
	sc := 0
	for i := 0; i < cand.n; i++ {
		s := cand.subs[i]
		switch {
		case s.to >= '0' && s.to <= '9':
			sc++
		case s.to >= 'A' && s.to <= 'Z':
			sc--
		}
	}
	return sc
}
