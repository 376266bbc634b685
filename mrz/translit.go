package mrz

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// translitTable is ICAO Doc 9303 Part 3's transliteration of Latin
// letters with diacritics, Cyrillic and Greek into A–Z. The first form is
// the recommended one; further forms are the alternatives Part 3 allows
// (Ä may be written A, Ü may be written U or UXX, Ñ may be written NXX…).
// Keys are uppercase; lowercase input is uppercased first.
var translitTable = map[rune][]string{
	// Latin, Part 3 Section 6 table A.
	'À': {"A"}, 'Á': {"A"}, 'Â': {"A"}, 'Ã': {"A"}, 'Ä': {"AE", "A", "AXX"}, 'Å': {"AA", "A"},
	'Æ': {"AE"}, 'Ç': {"C"}, 'È': {"E"}, 'É': {"E"}, 'Ê': {"E"}, 'Ë': {"E"},
	'Ì': {"I"}, 'Í': {"I"}, 'Î': {"I"}, 'Ï': {"I"}, 'Ð': {"D"}, 'Ñ': {"N", "N", "NXX"},
	'Ò': {"O"}, 'Ó': {"O"}, 'Ô': {"O"}, 'Õ': {"O"}, 'Ö': {"OE", "O", "OXX"}, 'Ø': {"OE", "O"},
	'Ù': {"U"}, 'Ú': {"U"}, 'Û': {"U"}, 'Ü': {"UE", "U", "UXX"}, 'Ý': {"Y"}, 'Þ': {"TH"},
	'ß': {"SS"}, 'ẞ': {"SS"},
	'Ā': {"A"}, 'Ă': {"A"}, 'Ą': {"A"}, 'Ć': {"C"}, 'Ĉ': {"C"}, 'Ċ': {"C"}, 'Č': {"C"},
	'Ď': {"D"}, 'Đ': {"D"}, 'Ē': {"E"}, 'Ĕ': {"E"}, 'Ė': {"E"}, 'Ę': {"E"}, 'Ě': {"E"},
	'Ĝ': {"G"}, 'Ğ': {"G"}, 'Ġ': {"G"}, 'Ģ': {"G"}, 'Ĥ': {"H"}, 'Ħ': {"H"},
	'Ĩ': {"I"}, 'Ī': {"I"}, 'Ĭ': {"I"}, 'Į': {"I"}, 'İ': {"I"}, 'I': {"I"}, 'ı': {"I"},
	'Ĳ': {"IJ"}, 'Ĵ': {"J"}, 'Ķ': {"K"}, 'Ĺ': {"L"}, 'Ļ': {"L"}, 'Ľ': {"L"}, 'Ŀ': {"L"}, 'Ł': {"L"},
	'Ń': {"N"}, 'Ņ': {"N"}, 'Ň': {"N"}, 'Ŋ': {"N"}, 'Ō': {"O"}, 'Ŏ': {"O"}, 'Ő': {"O"}, 'Œ': {"OE"},
	'Ŕ': {"R"}, 'Ŗ': {"R"}, 'Ř': {"R"}, 'Ś': {"S"}, 'Ŝ': {"S"}, 'Ş': {"S"}, 'Š': {"S"},
	'Ţ': {"T"}, 'Ť': {"T"}, 'Ŧ': {"T"}, 'Ũ': {"U"}, 'Ū': {"U"}, 'Ŭ': {"U"}, 'Ů': {"U"}, 'Ű': {"U"}, 'Ų': {"U"},
	'Ŵ': {"W"}, 'Ŷ': {"Y"}, 'Ÿ': {"Y"}, 'Ź': {"Z"}, 'Ż': {"Z"}, 'Ž': {"Z"},
	'Ș': {"S"}, 'Ț': {"T"},

	// Cyrillic, Part 3 Section 6 table B.
	'А': {"A"}, 'Б': {"B"}, 'В': {"V"}, 'Г': {"G"}, 'Ґ': {"G"}, 'Д': {"D"}, 'Ђ': {"D"},
	'Ѓ': {"G"}, 'Е': {"E"}, 'Ё': {"E"}, 'Є': {"IE"}, 'Ж': {"ZH"}, 'З': {"Z"}, 'Ѕ': {"DZ"},
	'И': {"I"}, 'І': {"I"}, 'Ї': {"I"}, 'Й': {"I"}, 'Ј': {"J"}, 'К': {"K"}, 'Л': {"L"},
	'Љ': {"LJ"}, 'М': {"M"}, 'Н': {"N"}, 'Њ': {"NJ"}, 'О': {"O"}, 'П': {"P"}, 'Р': {"R"},
	'С': {"S"}, 'Т': {"T"}, 'Ћ': {"C"}, 'Ќ': {"K"}, 'У': {"U"}, 'Ў': {"U"}, 'Ф': {"F"},
	'Х': {"KH"}, 'Ц': {"TS"}, 'Ч': {"CH"}, 'Џ': {"DZ"}, 'Ш': {"SH"}, 'Щ': {"SHCH"},
	'Ъ': {"IE"}, 'Ы': {"Y"}, 'Ь': {""}, 'Э': {"E"}, 'Ю': {"IU"}, 'Я': {"IA"},

	// Greek, Part 3 Section 6 table C.
	'Α': {"A"}, 'Ά': {"A"}, 'Β': {"V"}, 'Γ': {"G"}, 'Δ': {"D"}, 'Ε': {"E"}, 'Έ': {"E"},
	'Ζ': {"Z"}, 'Η': {"I"}, 'Ή': {"I"}, 'Θ': {"TH"}, 'Ι': {"I"}, 'Ί': {"I"}, 'Ϊ': {"I"},
	'Κ': {"K"}, 'Λ': {"L"}, 'Μ': {"M"}, 'Ν': {"N"}, 'Ξ': {"X"}, 'Ο': {"O"}, 'Ό': {"O"},
	'Π': {"P"}, 'Ρ': {"R"}, 'Σ': {"S"}, 'ς': {"S"}, 'Τ': {"T"}, 'Υ': {"Y"}, 'Ύ': {"Y"},
	'Ϋ': {"Y"}, 'Φ': {"F"}, 'Χ': {"CH"}, 'Ψ': {"PS"}, 'Ω': {"O"}, 'Ώ': {"O"},
}

// maxVariants bounds TransliterateVariants: recommended plus Part 3's
// alternative columns.
const maxVariants = 3

// Transliterate returns name in ICAO 9303 Part 3's recommended MRZ form:
// uppercase A–Z, tokens separated by single spaces (spaces, hyphens and
// commas separate; apostrophes and other punctuation are dropped).
// "Müller-Lüdenscheidt" → "MUELLER LUEDENSCHEIDT", "Юрий" → "IURII".
func Transliterate(name string) string {
	return transliterate(name, 0)
}

// TransliterateVariants returns the recommended form first, then each
// distinct alternative Part 3 allows ("MULLER LUDENSCHEIDT",
// "MUXXLLER LUXXDENSCHEIDT").
func TransliterateVariants(name string) []string {
	out := make([]string, 0, maxVariants)
	for v := 0; v < maxVariants; v++ {
		s := transliterate(name, v)
		dup := false
		for _, o := range out {
			dup = dup || o == s
		}
		if !dup {
			out = append(out, s)
		}
	}
	return out
}

func transliterate(name string, variant int) string {
	var b strings.Builder
	b.Grow(len(name))
	space := false // a separator is pending
	emit := func(s string) {
		if s == "" {
			return
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteString(s)
	}
	for _, r := range name {
		switch {
		case r >= 'A' && r <= 'Z':
			emit(string(r))
			continue
		case r >= 'a' && r <= 'z':
			emit(string(r - 'a' + 'A'))
			continue
		case r == ' ' || r == '-' || r == ',' || r == '<' || r == '\t' || r == '_' || unicode.IsSpace(r):
			space = true
			continue
		}
		if r == 'ß' || r == 'ς' {
			emit(pick(translitTable[r], variant))
			continue
		}
		u := unicode.ToUpper(r)
		if forms, ok := translitTable[u]; ok {
			emit(pick(forms, variant))
			continue
		}
		// Letters with diacritics the table does not list: keep the base
		// letter if it is A–Z.
		if unicode.IsLetter(u) {
			for _, br := range norm.NFD.String(string(u)) {
				if br >= 'A' && br <= 'Z' {
					emit(string(br))
				}
			}
		}
		// Digits, apostrophes, dots and scripts outside Part 3's tables
		// have no MRZ form and are dropped.
	}
	return b.String()
}

func pick(forms []string, variant int) string {
	if variant < len(forms) {
		return forms[variant]
	}
	return forms[0]
}

// NameField renders a surname and given names in MRZ form for a field of
// width n: primary identifier, "<<", given names separated by '<', padded
// with '<'. Names are transliterated first. truncated reports that the name
// did not fit and was cut (ICAO 9303 Part 3 truncation).
func NameField(surname string, given []string, n int) (field string, truncated bool) {
	s := strings.ReplaceAll(Transliterate(surname), " ", "<")
	g := make([]string, 0, len(given))
	for _, x := range given {
		if t := Transliterate(x); t != "" {
			g = append(g, strings.ReplaceAll(t, " ", "<"))
		}
	}
	v := s
	if len(g) > 0 {
		v += "<<" + strings.Join(g, "<")
	}
	if len(v) > n {
		v = v[:n]
		truncated = true
	}
	return v + strings.Repeat("<", n-len(v)), truncated
}
