package watchlist

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/checkpoint-edge/checkpoint/watchlist/match"
)

// Record format 2 (see record.go and FORMAT.md): several dates of birth,
// nationalities, places of birth, identity documents, list references and
// cross-references per person, alias quality, and document alerts linked
// to a person.

// RecordFormat is the newest record format this build writes and reads.
const RecordFormat = 2

// Bounds on format-2 fields: generous for real lists, tight enough that a
// hostile record cannot make indexing or scoring expensive.
const (
	maxBirthDates    = 16
	maxNationalities = 8
	maxDocuments     = 32
	maxSpanYears     = 40 // the widest listed range or approximate span
	maxApproxYears   = 10
)

// Format reports the record format a person needs: 2 when it uses any
// format-2 field, else 1.
func (p *PersonAlert) Format() int {
	if len(p.Births) > 0 || len(p.Nationalities) > 0 || len(p.BirthPlaces) > 0 || len(p.Documents) > 0 ||
		len(p.Lists) > 0 || len(p.CrossRefs) > 0 {
		return 2
	}
	for _, n := range p.allNames() {
		if n.Quality != "" || n.Script != "" {
			return 2
		}
	}
	return 1
}

func (p *PersonAlert) allNames() []Name {
	return append([]Name{p.Name}, p.Aliases...)
}

// ParseBirthDate reads a listed date of birth in its written forms:
// "1959-01-22", "1959-01", "1959", "1958..1963" (a range of years) or
// "~1971" / "~1971±3" (approximately; ±2 years unless given).
func ParseBirthDate(s string) (BirthDate, error) {
	s = strings.TrimSpace(s)
	var b BirthDate
	switch {
	case strings.Contains(s, ".."):
		from, to, _ := strings.Cut(s, "..")
		f, err1 := strconv.Atoi(strings.TrimSpace(from))
		t, err2 := strconv.Atoi(strings.TrimSpace(to))
		if err1 != nil || err2 != nil {
			return b, fmt.Errorf("%w: date of birth %q", ErrBadRecord, s)
		}
		b.From, b.To = f, t
	case strings.HasPrefix(s, "~"):
		y, pm, _ := strings.Cut(strings.TrimPrefix(s, "~"), "±")
		b.Date, b.Approx = strings.TrimSpace(y), 2
		if pm != "" {
			n, err := strconv.Atoi(strings.TrimSpace(pm))
			if err != nil {
				return b, fmt.Errorf("%w: date of birth %q", ErrBadRecord, s)
			}
			b.Approx = n
		}
	default:
		b.Date = s
	}
	return b, b.validate()
}

// String writes the date back in ParseBirthDate's form.
func (b BirthDate) String() string {
	switch {
	case b.From != 0 || b.To != 0:
		return strconv.Itoa(b.From) + ".." + strconv.Itoa(b.To)
	case b.Approx != 0:
		return "~" + b.Date + "±" + strconv.Itoa(b.Approx)
	}
	return b.Date
}

// Display is the date as the officer reads it: "1959-01-22", "1958 to
// 1963", "circa 1971".
func (b BirthDate) Display() string {
	switch {
	case b.From != 0 || b.To != 0:
		return strconv.Itoa(b.From) + " to " + strconv.Itoa(b.To)
	case b.Approx != 0:
		return "circa " + b.Date
	}
	return b.Date
}

func (b BirthDate) validate() error {
	bad := func(why string) error { return fmt.Errorf("%w: date of birth %s: %s", ErrBadRecord, b.String(), why) }
	switch {
	case b.From != 0 || b.To != 0:
		if b.Date != "" || b.Approx != 0 {
			return bad("a range has no date")
		}
		if b.From < 1800 || b.To > 2200 || b.From > b.To {
			return bad("range out of order or out of bounds")
		}
		if b.To-b.From > maxSpanYears {
			return bad("range wider than " + strconv.Itoa(maxSpanYears) + " years")
		}
		return nil
	case b.Approx < 0 || b.Approx > maxApproxYears:
		return bad("approx must be 0 to " + strconv.Itoa(maxApproxYears) + " years")
	}
	d, err := match.ParseDate(b.Date)
	if err != nil || !d.Known() {
		return bad("want YYYY, YYYY-MM or YYYY-MM-DD")
	}
	if b.Approx != 0 && (d.Month != 0 || d.Day != 0) {
		return bad("an approximate date is a year")
	}
	return nil
}

// Spec is the form match compares (an approximate year becomes its span).
func (b BirthDate) Spec() match.BirthSpec {
	if b.From != 0 {
		return match.BirthSpec{From: b.From, To: b.To}
	}
	d, _ := match.ParseDate(b.Date)
	if b.Approx != 0 {
		return match.BirthSpec{From: d.Year - b.Approx, To: d.Year + b.Approx, Approx: true}
	}
	return match.BirthSpec{Date: d}
}

// BirthDates returns every listed date of birth: Birth (format 1) first,
// then Births.
func (p *PersonAlert) BirthDates() []BirthDate {
	out := make([]BirthDate, 0, len(p.Births)+1)
	if strings.TrimSpace(p.Birth) != "" {
		out = append(out, BirthDate{Date: strings.TrimSpace(p.Birth)})
	}
	return append(out, p.Births...)
}

// AllNationalities returns Nationality and Nationalities, normalised,
// without duplicates.
func (p *PersonAlert) AllNationalities() []string {
	var out []string
	for _, n := range append([]string{p.Nationality}, p.Nationalities...) {
		if n = NormalizeState(n); n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// validateFormat2 checks the format-2 fields.
func validateFormat2(p *PersonAlert) error {
	if len(p.Births) > maxBirthDates || len(p.Nationalities) > maxNationalities || len(p.Documents) > maxDocuments {
		return fmt.Errorf("%w: person %q has too many dates of birth, nationalities or documents", ErrBadRecord, p.ID)
	}
	if p.Birth != "" {
		if _, err := match.ParseDate(p.Birth); err != nil {
			return fmt.Errorf("%w: person %q: birth %q: want YYYY, YYYY-MM or YYYY-MM-DD", ErrBadRecord, p.ID, p.Birth)
		}
	}
	for _, b := range p.Births {
		if err := b.validate(); err != nil {
			return fmt.Errorf("person %q: %w", p.ID, err)
		}
	}
	for _, n := range p.allNames() {
		if n.Quality != "" && n.Quality != QualityStrong && n.Quality != QualityWeak {
			return fmt.Errorf("%w: person %q: alias quality %q (want strong or weak)", ErrBadRecord, p.ID, n.Quality)
		}
	}
	for _, d := range p.Documents {
		if NormalizeNumber(d.Number) == "" {
			return fmt.Errorf("%w: person %q: identity document without a number", ErrBadRecord, p.ID)
		}
	}
	for _, l := range p.Lists {
		if l.List == "" || l.Reference == "" {
			return fmt.Errorf("%w: person %q: list reference needs list and reference", ErrBadRecord, p.ID)
		}
	}
	return nil
}

// DocumentAlertsOf returns a document alert for each of the person's own
// listed documents whose issuing state is known: the document check then
// finds the person's passport by number, and the alert names the person
// (PersonID). Alert ids are the person id, "#D" and the document's index,
// so they stay stable while the person's document list does.
func DocumentAlertsOf(p *PersonAlert) []DocumentAlert {
	var out []DocumentAlert
	for i, d := range p.Documents {
		state, num := NormalizeState(d.IssuingState), NormalizeNumber(d.Number)
		if state == "" || num == "" {
			continue
		}
		out = append(out, DocumentAlert{
			ID: p.ID + "#D" + strconv.Itoa(i+1), IssuingState: state, DocumentType: d.Type, Number: d.Number,
			Status: "listed_person", Source: p.Source, Action: p.Action, PersonID: p.ID,
		})
	}
	return out
}

// birthDisplay renders every listed date of birth for the officer.
func birthDisplay(p *PersonAlert) string {
	var parts []string
	for _, b := range p.BirthDates() {
		if s := b.Display(); s != "" && !slices.Contains(parts, s) {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "; ")
}

// display renders a place of birth: "City, Region, CTRY" or the text.
func (pl Place) display() string {
	var parts []string
	for _, p := range []string{pl.City, pl.Region, pl.Country} {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return strings.TrimSpace(pl.Text)
	}
	return strings.Join(parts, ", ")
}

// ValidatePerson checks a person record as the store will (ids, names,
// dates of birth, alias qualities, documents, list references), without
// face templates: for importers and tools that build records.
func ValidatePerson(p *PersonAlert) error {
	q := *p
	q.Faces = nil
	return validatePerson(&q, "")
}
