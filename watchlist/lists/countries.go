package lists

import (
	_ "embed"
	"fmt"
	"sort"
	"strings"
	"sync"
	"unicode"

	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"

	"github.com/checkpoint-edge/checkpoint/mrz"
)

//go:embed countries.txt
var countriesTxt string

var (
	countryOnce  sync.Once
	countryIndex map[string]string // normalised spelling → ICAO code
	countryErr   error
)

// countryKey normalises a spelling: lower case, accents and punctuation
// removed, words single-spaced, a leading "the" dropped.
func countryKey(s string) string {
	var b strings.Builder
	space := false
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r), r == '\'', r == '’', r == '.':
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(unicode.ToLower(r))
		default:
			space = true
		}
	}
	return strings.TrimPrefix(b.String(), "the ")
}

// inversions adds the inverted forms of "X, Y" ("Korea, Republic of" →
// "Republic of Korea") and "X (Y)" ("Iran (Islamic Republic of)" →
// "Islamic Republic of Iran" and "Iran").
func inversions(name string) []string {
	out := []string{name}
	if a, b, ok := strings.Cut(name, ","); ok {
		out = append(out, strings.TrimSpace(b)+" "+strings.TrimSpace(a))
	}
	if a, b, ok := strings.Cut(name, "("); ok {
		b = strings.TrimSuffix(strings.TrimSpace(b), ")")
		out = append(out, strings.TrimSpace(a), b+" "+strings.TrimSpace(a))
	}
	return out
}

func loadCountries() {
	countryIndex = make(map[string]string)
	explicit := map[string]bool{}
	ambiguous := map[string]bool{}
	add := func(code, name string) error {
		for i, n := range inversions(name) {
			k := countryKey(n)
			if k == "" || ambiguous[k] {
				continue
			}
			old, ok := countryIndex[k]
			switch {
			case ok && old != code && i == 0 && explicit[k]:
				return fmt.Errorf("lists: country spelling %q is both %s and %s", n, old, code)
			case ok && old != code && i == 0:
				countryIndex[k], explicit[k] = code, true // a name beats a derived form
			case ok && old != code && !explicit[k]:
				// "Virgin Islands" from both "(British)" and "(U.S.)":
				// a derived form two countries share maps to neither.
				delete(countryIndex, k)
				ambiguous[k] = true
			case !ok:
				countryIndex[k], explicit[k] = code, i == 0
			}
		}
		return nil
	}
	for _, code := range mrz.Codes() {
		if len(code) != 3 || code == "UTO" || strings.HasPrefix(code, "X") || code == "ZIM" {
			continue // organisations, specimens and former codes are not nationalities
		}
		name, _ := mrz.CountryName(code)
		if err := add(code, name); err != nil {
			countryErr = err
			return
		}
	}
	for n, line := range strings.Split(countriesTxt, "\n") {
		if line = strings.TrimSpace(line); line == "" || line[0] == '#' {
			continue
		}
		code, names, ok := strings.Cut(line, "\t")
		if _, known := mrz.CountryName(code); !ok || !known {
			countryErr = fmt.Errorf("lists: countries.txt:%d: bad line %q", n+1, line)
			return
		}
		for _, name := range strings.Split(names, "|") {
			if err := add(code, name); err != nil {
				countryErr = fmt.Errorf("countries.txt:%d: %w", n+1, err)
				return
			}
		}
	}
}

// Country maps a country name, nationality adjective, ISO 3166-1 alpha-2
// or ICAO 9303 code as a list writes it to its ICAO code ("Russian
// Federation", "Korea, North", "Palestinian", "SY", "DEU" → RUS, PRK, PSE,
// SYR, DEU). ok is false when it does not map; callers report those
// (Report.Unmapped) rather than guess.
func Country(s string) (code string, ok bool) {
	countryOnce.Do(loadCountries)
	s = strings.TrimSpace(s)
	if s == "" || countryErr != nil {
		return "", false
	}
	if len(s) == 3 && isUpper(s) {
		if _, known := mrz.CountryName(s); known && s != "UTO" {
			return s, true
		}
	}
	if len(s) == 2 && isUpper(s) {
		if r, err := language.ParseRegion(s); err == nil && r.IsCountry() {
			if c := r.ISO3(); c != "" {
				if _, known := mrz.CountryName(c); known {
					return c, true
				}
			}
		}
	}
	code, ok = countryIndex[countryKey(s)]
	return code, ok
}

func isUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// countryTableErr is the error of the embedded table, for tests.
func countryTableErr() error {
	countryOnce.Do(loadCountries)
	return countryErr
}

// countryIn finds a country at the end of a place ("Port-au-Prince,
// Haiti", "Jabaliya, Gaza Strip"): the last comma-separated part that
// maps.
func countryIn(place string) (string, bool) {
	parts := strings.Split(place, ",")
	for i := len(parts) - 1; i >= 0 && i >= len(parts)-2; i-- {
		if c, ok := Country(parts[i]); ok {
			return c, true
		}
	}
	return "", false
}

// Unmapped is a country spelling that did not map to an ICAO code.
type Unmapped struct {
	List  string `json:"list"`
	Field string `json:"field"` // nationality, place_of_birth, document_issuer
	Value string `json:"value"`
	Count int    `json:"count"`
}

// unmappedSet counts unmapped spellings per list and field.
type unmappedSet map[[3]string]int

func (u unmappedSet) add(list, field, value string) {
	if value = strings.TrimSpace(value); value != "" {
		u[[3]string{list, field, value}]++
	}
}

func (u unmappedSet) sorted() []Unmapped {
	out := make([]Unmapped, 0, len(u))
	for k, n := range u {
		out = append(out, Unmapped{List: k[0], Field: k[1], Value: k[2], Count: n})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.List != b.List {
			return a.List < b.List
		}
		if a.Field != b.Field {
			return a.Field < b.Field
		}
		return a.Value < b.Value
	})
	return out
}
