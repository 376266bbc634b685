// Package lists imports the sanctions lists headquarters receives into
// watchlist records: the UN Security Council Consolidated List (XML),
// OFAC's SDN and Consolidated (non-SDN) lists (CSV, with the free-text
// remarks parsed for dates and places of birth, nationalities, passports
// and national identity numbers, gender and weak a.k.a.s) and the US
// Consolidated Screening List (CSV).
//
// Each importer turns a list's persons into watchlist.PersonAlert records
// in record format 2: every name with its quality (strong, weak) and its
// original script, every date of birth (exact, partial, ranges,
// approximate years), nationalities and places of birth mapped to ICAO
// codes (Country; what does not map is reported, never guessed), the
// person's own identity documents and the list reference (list,
// programme, reference, last updated). Entities, vessels and aircraft are
// counted and skipped.
//
// Resolve merges the same person listed on several lists into one record
// with every reference (see resolve.go for the rule and its safeguards:
// two records are never linked on their names alone). Build runs the
// importers named by source specs ("un:FILE", "ofac:DIR", "csl:FILE"),
// resolves, and yields the watchlist changes of a full snapshot: persons
// and, for each of their documents with a known issuing state, a document
// alert linked to the person. Ids are derived from the lists' own
// references, so a new edition of a list changes only the records of the
// persons whose entries changed and a delta carries only those.
//
// Parsers never panic on malformed input (they are fuzzed); a file that
// cannot be read is ErrBadList, with where it failed. Nothing here logs:
// the records are personal data.
package lists
