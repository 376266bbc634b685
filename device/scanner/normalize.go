package scanner

import "strings"

// lineWidths returns the MRZ widths a received line can have. Readers pad
// lines with '_' (to a fixed width, or in place of '<' filler), so a line
// fits width w when its text without trailing '_' is at most w long and
// the line as received is at least w long. ok is false when the line
// cannot be an MRZ line: other characters than A–Z, 0–9, '<' and '_', or
// no width fits.
func lineWidths(s string) (widthSet, bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '<' || c == '_') {
			return 0, false
		}
	}
	stripped := len(strings.TrimRight(s, "_"))
	if stripped == 0 {
		return 0, false
	}
	var m widthSet
	for _, w := range widths {
		if stripped <= w.n && (len(s) >= w.n) {
			m |= w.bit
		}
	}
	return m, m != 0
}

// canPair reports whether first and second may be lines 1 and 2 of one
// two-line MRZ (TD2, TD3, MRV-A, MRV-B). Line 1 is the document code, the
// issuing state and the name: letters and fillers only (an OCR slip may
// put a digit or two in a name). Line 2 carries the document number, the
// dates and check digits: never without digits.
func canPair(first, second string) bool {
	return countDigits(first) < 8 && countDigits(second) > 0
}

func countDigits(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			n++
		}
	}
	return n
}

// pickWidth chooses the MRZ width for a complete document: 30 for three
// lines, else the narrowest two-line width the lines allow (the widest
// line without padding decides, since line 2 of TD2 and TD3 ends in a
// check digit).
func pickWidth(mask widthSet, lines []string) int {
	if len(lines) == 3 && mask&w30 != 0 {
		return 30
	}
	if len(lines) == 2 && mask&^w30 != 0 {
		mask &^= w30
	}
	for _, w := range widths {
		if mask&w.bit != 0 {
			return w.n
		}
	}
	return 0
}

// normalizeLine removes reader padding: trailing '_' are stripped, '_'
// inside the line is read as '<', and a line shortened by stripping is
// filled with '<' back to width (0: no filling).
func normalizeLine(s string, width int) string {
	s = strings.TrimRight(s, "_")
	s = strings.ReplaceAll(s, "_", "<")
	if n := width - len(s); n > 0 {
		s += strings.Repeat("<", n)
	}
	return s
}

// normalizeLines cleans the lines of an envelope: blanks trimmed, empty
// lines and lines of '_' alone dropped, padding removed. An envelope must hold 1 to 3 lines. When
// every line can be an MRZ line of a common width, lines shortened by
// stripped padding are filled back to it; otherwise lines are left at
// their length for the MRZ parser to report.
func normalizeLines(in []string) ([]string, bool) {
	lines := in[:0:0]
	for _, l := range in {
		// A line of padding alone stands for a missing line.
		if l = strings.TrimSpace(l); strings.TrimRight(l, "_") != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 || len(lines) > 3 {
		return nil, false
	}
	mask := allWidths
	for _, l := range lines {
		m, ok := lineWidths(l)
		if !ok {
			mask = 0
			break
		}
		mask &= m
	}
	w := 0
	if mask != 0 {
		w = pickWidth(mask, lines)
	}
	for i, l := range lines {
		lines[i] = normalizeLine(l, w)
	}
	return lines, true
}
