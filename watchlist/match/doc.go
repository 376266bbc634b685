// Package match scores how well a traveller (a parsed MRZ) matches a listed
// person, and turns names into the plaintext keys of the store's blind
// candidate indexes.
//
// Names are compared in MRZ form: upper-case A–Z tokens, ICAO 9303 Part 3
// transliteration for anything else (NameTokens). Token order does not
// matter (surname and given names may be swapped, tokens reordered, merged
// or split: "ABDUL RAHMAN" = "ABDULRAHMAN"); tokens agree exactly, through
// an embedded table of name-variant classes (MOHAMED ~ MUHAMMAD, ALEXANDER ~
// OLEKSANDR, ZHOU ~ CHOU, LEE ~ RHEE…), through a phonetic key (Phonetic),
// fuzzily (Jaro-Winkler, optimal-string-alignment edit distance) or, for a
// truncated MRZ name, as a prefix. Dates of birth may be partial on either
// side, have day and month swapped, or differ in one digit. Every score comes
// with a field-by-field explanation.
//
// Screening by name alone drowns officers in false hits on common names, so
// tokens are weighted by rarity (an embedded list of globally common tokens
// plus Config.TokenFrequency, which the store estimates from its own data
// without letting a small list make names look rarer), and a match has
// three levels (LevelHit, LevelPossible, nothing), each needing a score and
// an amount of evidence: the matched tokens' rarity plus what corroborates
// (a date of birth, a nationality, a listed document number). A person may
// be listed with several dates of birth, exact, partial, ranges of years or
// approximate years (BirthSpec): the best-agreeing one counts, and only when
// every one conflicts does the date veto. A conflicting sex lowers the
// score. Weak aliases (nicknames) are never a HIT alone.
//
// Names also survive MRZ truncation to initials, dropped generational
// suffixes, OCR confusions on short tokens (never enough alone on two-letter
// tokens), and Arabic script: listed names in Arabic are romanised (a table
// of common name words, then letter by letter; arabic.go) and compared with
// a traveller's Latin name through phonetic keys and consonant skeletons,
// which also bridge English and French spellings of Arabic names (WALID,
// OUALID).
//
// A Scorer scores one traveller against many candidates, doing per-token
// work once; Compile prepares a record scored against many travellers.
//
// Explanations and matched names hold personal data: show them to the
// officer, never log them.
//
// Candidate keys (IndexKeys, QueryKeys, BirthYearKey) are plaintext: the
// store HMACs them and must never log or persist them in the clear. Nothing
// in this package logs.
//
// All functions are pure and safe for concurrent use; the embedded tables
// are read-only after package initialisation.
package match
