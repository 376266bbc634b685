package match

import "github.com/checkpoint-edge/checkpoint/mrz"

// transliterate maps a name in any script to MRZ form (ICAO 9303 Part 3
// recommended transliteration); transliterateVariants adds the
// alternatives Part 3 allows. Both are package mrz's, so that the MRZ a
// passport carries and the names on the watchlist are spelled by one table.
func transliterate(s string) string { return mrz.Transliterate(s) }

func transliterateVariants(s string) []string { return mrz.TransliterateVariants(s) }
