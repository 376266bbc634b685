package mrz

// charValue is the ICAO 9303 Part 3 check-digit value of c: digits are
// themselves, A–Z are 10–35, the filler '<' is 0. Lowercase letters count as
// their uppercase form so that a technician's typed input gives the same
// digit; anything else counts as 0 (the parser reports it separately).
func charValue(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 10
	}
	return 0
}

var weights = [3]int{7, 3, 1}

// CheckDigit returns the ICAO 9303 check digit ('0'–'9') of s, computed with
// the repeating weights 7, 3, 1.
func CheckDigit(s string) byte {
	sum := 0
	for i := 0; i < len(s); i++ {
		sum += charValue(s[i]) * weights[i%3]
	}
	return byte('0' + sum%10)
}

// span is a run of characters on one MRZ line.
type span struct{ line, col, n int }

// checkSpans computes the check digit over the concatenation of spans
// without building the string; characters beyond a short line count as 0,
// which is what a missing filler would contribute.
func checkSpans[T ~string | ~[]byte](lines []T, spans []span) byte {
	sum, k := 0, 0
	for _, s := range spans {
		var l T
		if s.line < len(lines) {
			l = lines[s.line]
		}
		for i := s.col; i < s.col+s.n; i++ {
			if i < len(l) {
				sum += charValue(l[i]) * weights[k%3]
			}
			k++
		}
	}
	return byte('0' + sum%10)
}

func allFiller(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '<' {
			return false
		}
	}
	return true
}
