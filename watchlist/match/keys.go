package match

import (
	"slices"
)

// Candidate keys. The store HMACs each key into its blind name index; a
// record is a candidate for a query when they share at least one key, and
// ScorePerson then decides. Kinds:
//
//	t:TOKEN     the token, each of its one-letter deletions (tokens of 4
//	            letters or more: two tokens one edit apart - substitution,
//	            insertion, deletion or transposition - always share one,
//	            the "deletion neighbourhood" of SymSpell), and each pair of
//	            adjacent tokens joined ("ABDUL RAHMAN" also gives
//	            t:ABDULRAHMAN), so that merged and split spellings meet
//	v:CLASS     the canonical member of the token's name-variant class
//	p:PHONETIC  the Phonetic key: transliterations that differ in vowels,
//	            H/KH, Y/I, voicing or digraph spelling meet here
//	f:PREFIX    the first 5 letters of tokens of 5 letters or more, so that
//	            a token truncated in the MRZ still meets the full token
//	o:OCR       a 3-letter token in OCR-confusion classes (ocrKey), so that
//	            JIN read as JLN still meets JIN (longer tokens meet through
//	            their deletions)
//
// Particles (AL, BIN, VAN…) and one-letter initials give no keys: they
// would make every record a candidate.
const (
	prefixKeyLen   = 5
	minDeletionLen = 4 // deletions of shorter tokens match too much
)

// IndexKeys returns the plaintext candidate keys of one name of a listed
// person, sorted and without duplicates.
func IndexKeys(n FullName) []string {
	sur, given := n.tokens()
	return nameKeys(sur, given, nil)
}

// QueryKeys returns the plaintext keys to look up for a traveller: the same
// kinds as IndexKeys, sorted and without duplicates. A truncated name's
// last token is looked up by its prefix key only when it still has 5 letters.
func QueryKeys(q PersonQuery) []string {
	sur := NameTokens(q.Surname)
	var given []string
	for _, g := range q.GivenNames {
		given = append(given, NameTokens(g)...)
	}
	return nameKeys(sur, given, nil)
}

func nameKeys(sur, given []string, out []string) []string {
	sur, given = capTokens(sur, given)
	all := make([]string, 0, len(sur)+len(given))
	all = append(all, sur...)
	all = append(all, given...)
	for _, t := range all {
		out = tokenKeys(t, out)
	}
	// Adjacent pairs within the surname and within the given names.
	for _, part := range [][]string{sur, given} {
		for i := 0; i+1 < len(part); i++ {
			if len(part[i]) > 1 && len(part[i+1]) > 1 {
				out = append(out, "t:"+part[i]+part[i+1])
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func tokenKeys(t string, out []string) []string {
	if particles[t] || len(t) < 2 {
		return out
	}
	out = append(out, "t:"+t)
	if c, ok := classOf[t]; ok {
		out = append(out, "v:"+c)
	}
	if s := stripParticle(t); s != t {
		out = append(out, "t:"+s)
	}
	out = append(out, "p:"+Phonetic(t))
	if len(t) >= minDeletionLen {
		buf := make([]byte, 0, len(t)-1)
		for i := range len(t) {
			if i > 0 && t[i] == t[i-1] {
				continue // deleting either letter of a double gives the same key
			}
			buf = append(append(buf[:0], t[:i]...), t[i+1:]...)
			out = append(out, "t:"+string(buf))
		}
	}
	if len(t) >= prefixKeyLen {
		out = append(out, "f:"+t[:prefixKeyLen])
	}
	if len(t) == 3 {
		out = append(out, "o:"+ocrKey(t))
	}
	return out
}

// PrimaryKeys are the keys of a name that stand for its tokens as written:
// t:TOKEN (and the token without an attached particle), v:CLASS, and
// adjacent pairs joined; not the deletions, phonetic or prefix keys. The
// store combines only these with birth years and dates: a deletion key
// reaches the same persons as its token, so combining it too would only
// multiply keys that read the same postings.
func PrimaryKeys(n FullName) []string {
	sur, given := n.tokens()
	return primaryKeys(sur, given)
}

// QueryPrimaryKeys are PrimaryKeys of a traveller's name.
func QueryPrimaryKeys(q PersonQuery) []string {
	sur := NameTokens(q.Surname)
	var given []string
	for _, g := range q.GivenNames {
		given = append(given, NameTokens(g)...)
	}
	return primaryKeys(sur, given)
}

func primaryKeys(sur, given []string) []string {
	sur, given = capTokens(sur, given)
	var out []string
	for _, part := range [][]string{sur, given} {
		for i, t := range part {
			if particles[t] || len(t) < 2 {
				continue
			}
			out = append(out, "t:"+t)
			if c, ok := classOf[t]; ok {
				out = append(out, "v:"+c)
			}
			if s := stripParticle(t); s != t {
				out = append(out, "t:"+s)
			}
			if i+1 < len(part) && len(part[i+1]) > 1 {
				out = append(out, "t:"+t+part[i+1])
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
