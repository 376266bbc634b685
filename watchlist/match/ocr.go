package match

// ocrClass maps a letter to its OCR-B confusion class: letters an MRZ
// reader mistakes for one another (O/D/Q, I/L/J, M/N, U/V, C/G, E/F, P/R,
// K/X) share a class. Digits are not in names, so only letters are listed.
var ocrClass = func() (c [26]byte) {
	for i := range c {
		c[i] = byte('A' + i)
	}
	for _, g := range []string{"ODQ", "ILJ", "MN", "UV", "CG", "EF", "PR", "KX"} {
		for i := 1; i < len(g); i++ {
			c[g[i]-'A'] = g[0]
		}
	}
	return c
}()

// ocrOneApart reports whether two tokens of equal length differ in exactly
// one letter and that letter is an OCR confusion.
func ocrOneApart(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	diff := 0
	for i := 0; i < len(a); i++ {
		if a[i] == b[i] {
			continue
		}
		if diff++; diff > 1 || a[i] < 'A' || a[i] > 'Z' || b[i] < 'A' || b[i] > 'Z' || ocrClass[a[i]-'A'] != ocrClass[b[i]-'A'] {
			return false
		}
	}
	return diff == 1
}

// ocrKey maps a token to its OCR classes, so that short tokens one OCR
// confusion apart meet in the candidate index.
func ocrKey(t string) string {
	b := []byte(t)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = ocrClass[c-'A']
		}
	}
	return string(b)
}

// suffixes are generational suffixes. Lists write them ("GONZALEZ, Gustavo,
// Jr."), passports mostly do not; they identify no one and are dropped
// when the name has other tokens.
var suffixes = map[string]bool{"JR": true, "SR": true, "JNR": true, "SNR": true, "II": true, "III": true, "IV": true}

// dropSuffixes removes suffix tokens from the given names (and from the
// surname when the list put them there), keeping at least one token.
func dropSuffixes(sur, given []string) ([]string, []string) {
	n := 0
	for _, t := range sur {
		if suffixes[t] {
			n++
		}
	}
	for _, t := range given {
		if suffixes[t] {
			n++
		}
	}
	if n == 0 || n == len(sur)+len(given) {
		return sur, given
	}
	keep := func(ts []string) []string {
		out := make([]string, 0, len(ts))
		for _, t := range ts {
			if !suffixes[t] {
				out = append(out, t)
			}
		}
		return out
	}
	return keep(sur), keep(given)
}
