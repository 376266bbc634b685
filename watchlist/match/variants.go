package match

import "strings"

// maxVariants caps the names Variants returns: surname and given-name
// alternatives multiply.
const maxVariants = 8

// Variants expands a name in any script into its MRZ-form spellings: the
// ICAO 9303 Part 3 recommended transliteration first, then the alternative
// forms (mrz.TransliterateVariants: "MÜLLER" gives MUELLER and MULLER),
// every combination of surname and given-name forms, at most 8. A name
// already in A–Z is returned as is. The store passes all of them in
// PersonRecord.Names and indexes each with IndexKeys.
func Variants(n FullName) []FullName {
	given := strings.Join(n.GivenNames, " ")
	if isASCII(n.Surname) && isASCII(given) {
		return []FullName{n}
	}
	surs := forms(n.Surname)
	givens := forms(given)
	var out []FullName
	seen := make(map[string]bool)
	for _, s := range surs {
		for _, g := range givens {
			v := FullName{Surname: s, GivenNames: strings.Fields(g)}
			if k := v.String(); !seen[k] {
				seen[k] = true
				out = append(out, v)
			}
			if len(out) == maxVariants {
				return out
			}
		}
	}
	return out
}

// forms returns the MRZ spellings of one name part, normalised to
// space-separated tokens; at least one (possibly empty) form.
func forms(s string) []string {
	if isASCII(s) {
		return []string{strings.Join(NameTokens(s), " ")}
	}
	var out []string
	for _, v := range transliterateVariants(s) {
		out = append(out, strings.Join(NameTokens(v), " "))
	}
	if len(out) == 0 {
		out = []string{""}
	}
	return out
}
