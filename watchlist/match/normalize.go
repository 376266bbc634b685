package match

import (
	"strings"
	"unicode/utf8"
)

// NameTokens normalises a name to MRZ-form tokens: upper-case A–Z words.
// Input may be in any script or already in MRZ form ("GAGARIN<<YURIY" or
// "YURIY<GAGARIN"): '<', spaces, hyphens and other punctuation separate
// tokens, apostrophes are dropped ("O'NEILL" → "ONEILL", as ICAO 9303 does),
// and letters outside A–Z go through the ICAO 9303 Part 3 transliteration
// (mrz.Transliterate: "MÜLLER" → "MUELLER", "ЮРИЙ" → "IURII"). Callers
// that hold several transliterations of a name (recommended and alternative
// forms) should pass each as its own FullName.
func NameTokens(s string) []string {
	if s == "" {
		return nil
	}
	if !isASCII(s) {
		s = transliterate(s)
	}
	var out []string
	var b []byte
	flush := func() {
		if len(b) > 0 {
			out = append(out, string(b))
			b = b[:0]
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z':
			b = append(b, c)
		case c >= 'a' && c <= 'z':
			b = append(b, c-'a'+'A')
		case c == '\'' || c == '`':
			// Dropped inside a name: O'NEILL is ONEILL.
		default:
			flush()
		}
	}
	flush()
	return out
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// ParseMRZName splits an MRZ name field ("SURNAME<<GIVEN<NAMES", fillers
// optional at the end) into a FullName. A field without "<<" is all surname.
func ParseMRZName(field string) FullName {
	sur, given, _ := strings.Cut(field, "<<")
	return FullName{Surname: strings.Join(NameTokens(sur), " "), GivenNames: NameTokens(given)}
}

// tokens returns the normalised surname and given-name tokens of n.
func (n FullName) tokens() (sur, given []string) {
	if n.MRZ != "" {
		s, g, _ := strings.Cut(n.MRZ, "<<")
		return NameTokens(s), NameTokens(g)
	}
	sur = NameTokens(n.Surname)
	for _, g := range n.GivenNames {
		given = append(given, NameTokens(g)...)
	}
	return sur, given
}

// cachedTokens is tokens through a Scorer's cache.
func (n FullName) cachedTokens(c *tokCache) (sur, given []string) {
	if c == nil {
		return n.tokens()
	}
	get := func(s string) []string {
		if t, ok := c.names[s]; ok {
			return t
		}
		t := NameTokens(s)
		if len(c.names) < maxCachedTokens {
			c.names[s] = t
		}
		return t
	}
	if n.MRZ != "" {
		s, g, _ := strings.Cut(n.MRZ, "<<")
		return get(s), get(g)
	}
	sur = get(n.Surname)
	if len(n.GivenNames) == 1 {
		return sur, get(n.GivenNames[0])
	}
	for _, g := range n.GivenNames {
		given = append(given, get(g)...)
	}
	return sur, given
}
