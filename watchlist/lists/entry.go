package lists

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// Options tune an import. The zero value is usable.
type Options struct {
	// Category and Action are given to every imported person: what the
	// officer sees and does on a hit. Defaults: "sanctions", refer.
	Category string
	Action   string
	// ApproxYears is the ± span of an approximate year of birth ("circa
	// 1971", UN APPROXIMATELY); 0 means 2.
	ApproxYears int
	// MaxBytes bounds one input file; 0 means 256 MiB.
	MaxBytes int64
}

func (o Options) withDefaults() Options {
	if o.Category == "" {
		o.Category = "sanctions"
	}
	if o.Action == "" {
		o.Action = watchlist.ActionRefer
	}
	if o.ApproxYears <= 0 {
		o.ApproxYears = 2
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = 256 << 20
	}
	return o
}

// Entry is one listed person as an importer read it, before entity
// resolution.
type Entry struct {
	Person watchlist.PersonAlert
	// OFAC is the OFAC entity number the entry carries: OFAC's own
	// records and the Treasury lists inside the CSL. Two entries with the
	// same OFAC number are the same listing.
	OFAC string
	// Order is the entry's position in its file, for stable output.
	Order int
}

// Parsed is what one importer read from one list.
type Parsed struct {
	List    string // UN, OFAC-SDN, OFAC-CONS, CSL
	Version string // the list's own date or version, when it gives one
	Entries []*Entry
	// Skipped counts records that are not persons (entities, vessels,
	// aircraft), and Dropped what was unreadable in a person record
	// (with a reason, no personal data).
	Skipped  int
	Dropped  map[string]int
	unmapped unmappedSet
}

func newParsed(list string) *Parsed {
	return &Parsed{List: list, Dropped: map[string]int{}, unmapped: unmappedSet{}}
}

func (p *Parsed) drop(reason string) { p.Dropped[reason]++ }

// country maps a country for field of the list, recording what did not
// map.
func (p *Parsed) country(field, value string) (string, bool) {
	value = strings.TrimSpace(value)
	if value == "" {
		return "", false
	}
	c, ok := Country(value)
	if !ok {
		p.unmapped.add(p.List, field, value)
	}
	return c, ok
}

// addNationality adds a nationality to a person, first one primary.
func addNationality(p *watchlist.PersonAlert, code string) {
	switch {
	case code == "":
	case p.Nationality == "":
		p.Nationality = code
	case p.Nationality != code && !slices.Contains(p.Nationalities, code):
		p.Nationalities = append(p.Nationalities, code)
	}
}

// addBirth adds a listed date of birth unless it is already there or
// invalid; it reports whether the date was valid.
func addBirth(p *watchlist.PersonAlert, b watchlist.BirthDate) bool {
	if _, err := watchlist.ParseBirthDate(b.String()); err != nil {
		return false
	}
	if !slices.Contains(p.Births, b) {
		p.Births = append(p.Births, b)
	}
	return true
}

var months = map[string]int{"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8,
	"sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12, "january": 1, "february": 2, "march": 3, "april": 4,
	"june": 6, "july": 7, "august": 8, "september": 9, "october": 10, "november": 11, "december": 12}

var (
	reISODate   = regexp.MustCompile(`^(\d{4})-(\d{2})-(\d{2})$`)
	reDMY       = regexp.MustCompile(`^(\d{1,2})\s+([A-Za-z]{3,9})\.?\s+(\d{4})$`)
	reMY        = regexp.MustCompile(`^([A-Za-z]{3,9})\.?\s+(\d{4})$`)
	reYear      = regexp.MustCompile(`^(\d{4})$`)
	reRange     = regexp.MustCompile(`^(?:between\s+)?(\d{4})\s*(?:to|-|–|and)\s*(\d{4})$`)
	reCirca     = regexp.MustCompile(`^(?:circa|approximately|approx\.?|about|ca\.?|c\.)\s*(\d{4})$`)
	reCircaSpan = regexp.MustCompile(`^(?:circa|approximately|approx\.?|about|ca\.?)\s*(\d{4})\s*(?:to|-|–|and)\s*(\d{4})$`)
	reSlashDMY  = regexp.MustCompile(`^(\d{1,2})/(\d{1,2})/(\d{4})$`)
)

// parseListedDate reads a date of birth as lists write it: "1961-02-12",
// "12 Feb 1961", "Feb 1961", "1961", "circa 1961", "1958 to 1963",
// "between 1958 and 1963", "12/02/1961" (day first). ok is false for
// anything else (a Hijri date, an age), which callers count as dropped.
func parseListedDate(s string, approx int) (watchlist.BirthDate, bool) {
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "."))
	ls := strings.ToLower(s)
	var b watchlist.BirthDate
	switch {
	case reISODate.MatchString(s):
		b.Date = s
	case reDMY.MatchString(s):
		m := reDMY.FindStringSubmatch(s)
		mon, ok := months[strings.ToLower(m[2])]
		d, _ := strconv.Atoi(m[1])
		if !ok {
			return b, false
		}
		b.Date = fmt.Sprintf("%s-%02d-%02d", m[3], mon, d)
	case reYear.MatchString(s):
		b.Date = s
	case reCirca.MatchString(ls):
		b.Date, b.Approx = reCirca.FindStringSubmatch(ls)[1], approx
	case reCircaSpan.MatchString(ls):
		m := reCircaSpan.FindStringSubmatch(ls)
		b.From, _ = strconv.Atoi(m[1])
		b.To, _ = strconv.Atoi(m[2])
	case reMY.MatchString(s):
		m := reMY.FindStringSubmatch(s)
		mon, ok := months[strings.ToLower(m[1])]
		if !ok {
			return b, false
		}
		b.Date = fmt.Sprintf("%s-%02d", m[2], mon)
	case reRange.MatchString(ls):
		m := reRange.FindStringSubmatch(ls)
		b.From, _ = strconv.Atoi(m[1])
		b.To, _ = strconv.Atoi(m[2])
	case reSlashDMY.MatchString(s):
		m := reSlashDMY.FindStringSubmatch(s)
		d, _ := strconv.Atoi(m[1])
		mon, _ := strconv.Atoi(m[2])
		b.Date = fmt.Sprintf("%s-%02d-%02d", m[3], mon, d)
	default:
		return b, false
	}
	if _, err := watchlist.ParseBirthDate(b.String()); err != nil {
		return b, false
	}
	return b, true
}

// latestDate returns the latest of YYYY-MM-DD dates (invalid ones ignored).
func latestDate(ds ...string) string {
	best := ""
	for _, d := range ds {
		d = strings.TrimSpace(d)
		if _, err := time.Parse("2006-01-02", d); err == nil && d > best {
			best = d
		}
	}
	return best
}

// docType maps a listed document type to an ICAO document family: P
// passport, I identity card; ok is false for documents that are not
// travel or identity documents (tax numbers, driving licences).
func docType(t string) (string, bool) {
	t = strings.ToLower(t)
	switch {
	case strings.Contains(t, "passport") || strings.Contains(t, "passeport") || strings.Contains(t, "pasaporte"):
		return "P", true
	case strings.Contains(t, "national id") || strings.Contains(t, "national identification") || strings.Contains(t, "identity card") ||
		strings.Contains(t, "id card") || strings.Contains(t, "identification number") || strings.Contains(t, "cedula") ||
		strings.Contains(t, "personal id") || strings.Contains(t, "identity number") || strings.Contains(t, "national identity"):
		return "I", true
	}
	return "", false
}

// inferIssuer fills the issuing state of listed documents that have none
// from the person's nationality when there is exactly one: the document
// check needs a state, and a wrong guess can only miss, never make a
// false hit (state and number must both agree). The note says so.
func inferIssuer(p *watchlist.PersonAlert) {
	if p.Nationality == "" || len(p.Nationalities) > 0 {
		return
	}
	for i := range p.Documents {
		if p.Documents[i].IssuingState == "" {
			p.Documents[i].IssuingState = p.Nationality
			note := "issuing state taken from the nationality"
			if p.Documents[i].Note != "" {
				note = p.Documents[i].Note + "; " + note
			}
			p.Documents[i].Note = note
		}
	}
}
