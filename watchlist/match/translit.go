package match

import "github.com/checkpoint-edge/checkpoint/mrz"

// transliterate maps a name in any script to MRZ form: ICAO 9303 Part 3's
// recommended transliteration (package mrz's table, so that the MRZ a
// passport carries and the names on the watchlist are spelled by one
// table), after Arabic script is romanised (arabic.go), which Part 3's
// tables in package mrz do not cover.
func transliterate(s string) string { return mrz.Transliterate(romanizeArabic(s, true)) }

// transliterateVariants adds the alternatives Part 3 allows and, for
// Arabic script, the plain letter-by-letter romanisation.
func transliterateVariants(s string) []string {
	if !hasArabic(s) {
		return mrz.TransliterateVariants(s)
	}
	var out []string
	for _, f := range arabicForms(s) {
		for _, v := range mrz.TransliterateVariants(f) {
			if !contains(out, v) {
				out = append(out, v)
			}
		}
	}
	return out
}

// TransliterateVariants returns the MRZ spellings of a name in any script:
// the recommended form first, then alternatives (ICAO 9303 Part 3's for
// Latin, Cyrillic and Greek; common and plain romanisations for Arabic).
func TransliterateVariants(s string) []string { return transliterateVariants(s) }

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
