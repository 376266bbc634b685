package lists

import (
	"regexp"
	"strings"
	"unicode"

	"github.com/checkpoint-edge/checkpoint/watchlist"
	"github.com/checkpoint-edge/checkpoint/watchlist/match"
)

// Name handling shared by the importers.

// titles are ranks and honorifics lists write inside names ("Colonel
// Baudoin NGARUYE", "Ul-Haq, Dr. Amin"); no document carries them.
var titles = map[string]bool{
	"DR": true, "COLONEL": true, "COL": true, "GENERAL": true, "GEN": true, "MAJOR": true, "CAPTAIN": true,
	"LIEUTENANT": true, "MR": true, "MRS": true, "MS": true, "PROF": true, "PROFESSOR": true, "SIR": true,
	"BRIGADIER": true,
}

// particleNames join the following token into a surname ("Al Shanqiti").
var particleNames = map[string]bool{"AL": true, "EL": true, "BIN": true, "BEN": true, "IBN": true, "ABU": true,
	"ABOU": true, "UL": true, "VAN": true, "VON": true, "DE": true, "DA": true, "DEL": true, "LA": true, "LE": true, "OULD": true}

var (
	parenRe  = regexp.MustCompile(`\([^)]*\)?`)
	bornRe   = regexp.MustCompile(`(?i),?\s*\b(born|dob|date of birth|passport|a\.k\.a\.?)\b.*$`)
	spacesRe = regexp.MustCompile(`\s+`)
)

// cleanName removes what is not a name from a listed name: parenthetical
// remarks, trailing "born …" notes, titles, quotes and stray punctuation.
// The script is kept.
func cleanName(s string) string {
	s = parenRe.ReplaceAllString(s, " ")
	s = bornRe.ReplaceAllString(s, "")
	s = strings.Map(func(r rune) rune {
		switch r {
		case '"', '“', '”', '‘', '’', '`':
			if r == '’' || r == '‘' || r == '`' {
				return '\''
			}
			return ' '
		}
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	var kept []string
	for _, w := range strings.Fields(s) {
		if titles[strings.ToUpper(strings.Trim(w, ".,"))] {
			continue
		}
		kept = append(kept, w)
	}
	return strings.Trim(spacesRe.ReplaceAllString(strings.Join(kept, " "), " "), " ,;.")
}

// splitNatural splits a name written in natural order ("Khalid
// Al-Shanqiti", "Guillermo Aguilar-Medina") into surname (the last word,
// with a preceding particle) and given names. A name with a comma is
// "SURNAME, Given".
func splitNatural(s string) watchlist.Name {
	s = cleanName(s)
	if sur, given, ok := strings.Cut(s, ","); ok {
		given = strings.TrimSpace(given)
		// "Gustavo Gonzalez, Jr.": the part after the comma is a suffix,
		// not given names.
		if isSuffix(given) {
			n := splitNatural(sur)
			return n
		}
		return watchlist.Name{Surname: strings.TrimSpace(sur), GivenNames: given}
	}
	w := strings.Fields(s)
	switch len(w) {
	case 0:
		return watchlist.Name{}
	case 1:
		return watchlist.Name{Surname: w[0]}
	}
	i := len(w) - 1
	for i > 1 && particleNames[strings.ToUpper(strings.Trim(w[i-1], ".-"))] {
		i--
	}
	return watchlist.Name{Surname: strings.Join(w[i:], " "), GivenNames: strings.Join(w[:i], " ")}
}

// splitComma reads "SURNAME, Given Names" (OFAC's form); without a comma
// the name is natural order.
func splitComma(s string) watchlist.Name {
	s = cleanName(s)
	sur, given, ok := strings.Cut(s, ",")
	if !ok {
		return splitNatural(s)
	}
	given = strings.TrimSpace(given)
	if g, suf, ok := strings.Cut(given, ","); ok && isSuffix(suf) {
		given = strings.TrimSpace(g)
	}
	return watchlist.Name{Surname: strings.TrimSpace(sur), GivenNames: given}
}

func isSuffix(s string) bool {
	t := match.NameTokens(s)
	if len(t) != 1 {
		return false
	}
	switch t[0] {
	case "JR", "SR", "II", "III", "IV", "JNR", "SNR":
		return true
	}
	return false
}

// scriptOf names the dominant non-Latin script of s ("Arab", "Cyrl",
// "Grek"), or "" for Latin.
func scriptOf(s string) string {
	var arab, cyrl, grek, latin int
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Arabic, r):
			arab++
		case unicode.Is(unicode.Cyrillic, r):
			cyrl++
		case unicode.Is(unicode.Greek, r):
			grek++
		case unicode.Is(unicode.Latin, r):
			latin++
		}
	}
	switch {
	case arab > latin && arab >= cyrl:
		return "Arab"
	case cyrl > latin && cyrl >= grek:
		return "Cyrl"
	case grek > latin:
		return "Grek"
	}
	return ""
}

// nameKey is a name's identity for de-duplication: its MRZ tokens,
// sorted.
func nameKey(n watchlist.Name) string {
	t := append(match.NameTokens(n.Surname), match.NameTokens(n.GivenNames)...)
	sortStrings(t)
	return strings.Join(t, " ")
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// addName appends a name to a person unless an equal one (same tokens) is
// there; a strong spelling replaces a weak one.
func addName(p *watchlist.PersonAlert, n watchlist.Name) {
	if strings.TrimSpace(n.Surname+n.GivenNames) == "" || len(match.NameTokens(n.Surname+" "+n.GivenNames)) == 0 {
		return
	}
	k := nameKey(n)
	if n.Script == "" && k == nameKey(p.Name) {
		return
	}
	for i := range p.Aliases {
		if p.Aliases[i].Script == n.Script && nameKey(p.Aliases[i]) == k {
			if p.Aliases[i].Quality == watchlist.QualityWeak && n.Quality == watchlist.QualityStrong {
				p.Aliases[i].Quality = n.Quality
			}
			return
		}
	}
	p.Aliases = append(p.Aliases, n)
}
