package watchlist

import (
	"github.com/checkpoint-edge/checkpoint/mrz"
	"github.com/checkpoint-edge/checkpoint/watchlist/match"
)

// MRZDocument is the parsed document a Check takes.
type MRZDocument = mrz.Document

// transliterateVariants gives the MRZ spellings FillMRZ stores: ICAO 9303
// Part 3's for Latin, Cyrillic and Greek, common romanisations for Arabic.
func transliterateVariants(s string) []string { return match.TransliterateVariants(s) }

type docQuery struct {
	state, number, docType string
	person                 match.PersonQuery
}

// documentQuery turns a parsed MRZ into the lookups of a check. The
// document number is the full one (mrz joins a TD1/TD2 long number).
func documentQuery(d *mrz.Document) docQuery {
	return docQuery{
		state: NormalizeState(d.IssuingState), number: NormalizeNumber(d.DocumentNumber), docType: d.DocumentCode,
		person: match.PersonQuery{Surname: d.Surname, GivenNames: d.GivenNames, NameTruncated: d.NameTruncated,
			Birth:       match.Date{Year: d.BirthDate.Year, Month: d.BirthDate.Month, Day: d.BirthDate.Day},
			Nationality: d.Nationality, Sex: d.Sex},
	}
}
