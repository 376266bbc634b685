package match

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Date is a possibly partial date of birth; 0 marks an unknown part.
type Date struct{ Year, Month, Day int }

// Known reports whether at least the year is known.
func (d Date) Known() bool { return d.Year != 0 }

// String renders the known parts: "1980", "1980-03", "1980-03-12", or "?"
// ("1980-00-12" when only the month is unknown).
func (d Date) String() string {
	if d.Year == 0 {
		return "?"
	}
	b := d.digits()
	switch {
	case d.Year < 0 || d.Year > 9999:
		return strconv.Itoa(d.Year)
	case d.Month == 0 && d.Day == 0:
		return string(b[:4])
	case d.Day == 0:
		return string(b[:4]) + "-" + string(b[4:6])
	}
	return string(b[:4]) + "-" + string(b[4:6]) + "-" + string(b[6:8])
}

// ParseDate parses a watchlist date of birth: "YYYY", "YYYY-MM" or
// "YYYY-MM-DD"; "00" (or "XX") marks an unknown month or day, and "" is an
// unknown date.
func ParseDate(s string) (Date, error) {
	var d Date
	if s = strings.TrimSpace(s); s == "" {
		return d, nil
	}
	parts := strings.Split(s, "-")
	if len(parts) > 3 || len(parts[0]) != 4 {
		return Date{}, fmt.Errorf("%w: %q", ErrBadDate, s)
	}
	var vals [3]int
	for i, p := range parts {
		if i > 0 && len(p) != 2 {
			return Date{}, fmt.Errorf("%w: %q", ErrBadDate, s)
		}
		if i > 0 && (p == "XX" || p == "xx") {
			continue
		}
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 || p[0] == '+' || p[0] == '-' {
			return Date{}, fmt.Errorf("%w: %q", ErrBadDate, s)
		}
		vals[i] = v
	}
	d = Date{Year: vals[0], Month: vals[1], Day: vals[2]}
	if d.Year < 1800 || d.Year > 2200 || d.Month > 12 || d.Day > daysIn(d.Year, d.Month) {
		return Date{}, fmt.Errorf("%w: %q", ErrBadDate, s)
	}
	return d, nil
}

func daysIn(year, month int) int {
	switch month {
	case 0:
		return 31
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// Agreement levels of two dates of birth.
const (
	dobExact      = 1.0
	dobYearMonth  = 0.85 // all parts known on both sides agree, day unknown
	dobSwapped    = 0.85 // day and month swapped
	dobOneDigit   = 0.8  // one digit differs (OCR or keying error)
	dobTransposed = 0.75 // two adjacent digits swapped
	dobYearOnly   = 0.7  // only the year is known on one side, and agrees
	dobInSpan     = 0.65 // the year falls in a listed range or approximate span
	dobUnknown    = 0.5  // neutral
	// dobCorroborates is the agreement that counts as independent support
	// for a name match; a shared birth year alone does not.
	dobCorroborates = 0.75
)

// Evidence a date of birth adds to a name match, in the unit names use
// (see weight): log10 of the odds against a chance agreement, divided by
// 5. A full date is one day in about 20,000 (0.86); a year and month one
// in 600 (0.56); a year one in 60 (0.36); a span of w years log10(60/w)/5;
// a near miss (one digit, swapped) is discounted.
const (
	evidenceExact     = 0.86
	evidenceNear      = 0.5
	evidenceYearMonth = 0.56
	evidenceYear      = 0.36
)

// spanEvidence is the evidence of a year inside a span of w years.
func spanEvidence(w int) float64 {
	if w <= 1 {
		return evidenceYear
	}
	return max(math.Log10(60/float64(w))/5, 0.05)
}

// dobResult compares two dates of birth. known is false when either year
// is unknown; conflict is true when they cannot be the same date even
// allowing for the errors above. The explanation is built only when asked
// for (detail): most candidates of a search are never shown.
type dobResult struct {
	score    float64
	evidence float64
	known    bool
	conflict bool
	why      string // a constant: what agreed and how
	// agreement is the code of how it agreed (exact, year, in_range, …);
	// q and spec are the traveller's date and the listed one compared,
	// n the number of listed dates.
	agreement string
	q         Date
	spec      BirthSpec
	n         int
}

// listed is the listed date compared, as the officer reads it.
func (d *dobResult) listed() string {
	if !d.spec.Known() {
		return ""
	}
	return d.spec.String()
}

// detail explains the comparison in one line.
func (d *dobResult) detail() string {
	s := "DOB " + d.q.String() + " vs " + d.spec.String() + ": " + d.why
	if d.n > 1 {
		s += " (best of " + strconv.Itoa(d.n) + " listed dates)"
	}
	return s
}

// Agreement codes of a date of birth (FieldScore.Agreement).
const (
	AgreeExact       = "exact"
	AgreeSwapped     = "day_month_swapped"
	AgreeOneDigit    = "one_digit"
	AgreeTransposed  = "transposed"
	AgreeYearMonth   = "year_month"
	AgreeYear        = "year"
	AgreeRange       = "in_range"
	AgreeApproximate = "approximate"
	AgreeUnknown     = "unknown"
	AgreeConflict    = "conflict"
)

func compareDates(q, r Date) dobResult {
	res := dobResult{q: q, spec: BirthSpec{Date: r}}
	if !q.Known() || !r.Known() {
		res.score, res.agreement, res.why = dobUnknown, AgreeUnknown, "unknown on one side"
		return res
	}
	res.known = true
	say := func(score, ev float64, code, why string) dobResult {
		res.score, res.evidence, res.agreement, res.why = score, ev, code, why
		res.conflict = code == AgreeConflict
		return res
	}
	full := q.Month != 0 && q.Day != 0 && r.Month != 0 && r.Day != 0
	if full {
		switch {
		case q == r:
			return say(dobExact, evidenceExact, AgreeExact, "exact")
		case q.Year == r.Year && q.Month == r.Day && q.Day == r.Month:
			return say(dobSwapped, evidenceNear, AgreeSwapped, "day/month swapped")
		}
		a, b := q.digits(), r.digits()
		var diff [8]int
		nd := 0
		for i := range a {
			if a[i] != b[i] {
				diff[nd] = i
				nd++
			}
		}
		switch {
		case nd == 1 && diff[0] >= 3:
			// A keying error in a day, a month or the last digit of a year;
			// 1946 for 1986 is forty years, not a typo.
			return say(dobOneDigit, evidenceNear, AgreeOneDigit, "one digit differs")
		case nd == 2 && diff[1] == diff[0]+1 && a[diff[0]] == b[diff[1]] && a[diff[1]] == b[diff[0]]:
			return say(dobTransposed, evidenceNear, AgreeTransposed, "adjacent digits transposed")
		}
		return say(0, 0, AgreeConflict, "conflict")
	}
	// Partial on at least one side: compare the parts both sides know. The
	// years must really agree: a year is all a partial date has, so a
	// one-digit difference (1961 vs 1971) is ten years, not a typo.
	month := q.Month != 0 && r.Month != 0
	day := month && q.Day != 0 && r.Day != 0
	rest := (!month || q.Month == r.Month) && (!day || q.Day == r.Day)
	switch {
	case q.Year == r.Year && rest && month:
		return say(dobYearMonth, evidenceYearMonth, AgreeYearMonth, "year and month agree (partial date)")
	case q.Year == r.Year && rest:
		return say(dobYearOnly, evidenceYear, AgreeYear, "birth year agrees (partial date)")
	}
	return say(0, 0, AgreeConflict, "conflict")
}

// BirthSpec is one listed date of birth: a Date (exact or partial), or a
// span of years From..To (inclusive) for a listed range ("1958 to 1963")
// or an approximate year ("circa 1971", Approx set).
type BirthSpec struct {
	Date     Date
	From, To int
	Approx   bool
}

// Known reports whether the spec says anything.
func (b BirthSpec) Known() bool { return b.Date.Known() || (b.From != 0 && b.To >= b.From) }

// String renders the spec as the officer reads it.
func (b BirthSpec) String() string {
	switch {
	case b.Date.Known():
		return b.Date.String()
	case b.Approx && b.From != 0:
		mid := (b.From + b.To) / 2
		return "circa " + strconv.Itoa(mid) + " (" + strconv.Itoa(b.From) + "-" + strconv.Itoa(b.To) + ")"
	case b.From != 0:
		return strconv.Itoa(b.From) + " to " + strconv.Itoa(b.To)
	}
	return "?"
}

func compareSpec(q Date, b BirthSpec) dobResult {
	if b.Date.Known() || !b.Known() {
		return compareDates(q, b.Date)
	}
	res := dobResult{q: q, spec: b}
	if !q.Known() {
		res.score, res.agreement, res.why = dobUnknown, AgreeUnknown, "unknown on one side"
		return res
	}
	res.known = true
	if q.Year >= b.From && q.Year <= b.To {
		res.score, res.evidence = dobInSpan, spanEvidence(b.To-b.From+1)
		res.agreement, res.why = AgreeRange, "birth year within the listed range"
		if b.Approx {
			res.agreement, res.why = AgreeApproximate, "birth year within the listed approximate year"
		}
		return res
	}
	res.conflict, res.agreement, res.why = true, AgreeConflict, "conflict (outside the listed range)"
	if b.Approx {
		res.why = "conflict (outside the listed approximate year)"
	}
	return res
}

// compareBirths compares the traveller's date of birth with every listed
// one and keeps the best agreement: a person listed with several dates is
// matched by any of them. It conflicts only when every listed date
// conflicts.
func compareBirths(q Date, listed []BirthSpec) dobResult {
	var best dobResult
	found, n := false, 0
	for _, b := range listed {
		if !b.Known() {
			continue
		}
		n++
		r := compareSpec(q, b)
		if !found || better3(r, best) {
			best, found = r, true
		}
	}
	if !found {
		return compareDates(q, Date{})
	}
	best.n = n
	return best
}

// better3 orders DOB results: no conflict first, then score, then evidence.
func better3(a, b dobResult) bool {
	if a.conflict != b.conflict {
		return !a.conflict
	}
	if a.score != b.score {
		return a.score > b.score
	}
	return a.evidence > b.evidence
}

// digits renders the date as YYYYMMDD digits (parts taken modulo their
// width, so out-of-range input cannot overflow).
func (d Date) digits() [8]byte {
	var b [8]byte
	put := func(at, width, v int) {
		if v < 0 {
			v = -v
		}
		for i := at + width - 1; i >= at; i-- {
			b[i] = byte('0' + v%10)
			v /= 10
		}
	}
	put(0, 4, d.Year)
	put(4, 2, d.Month)
	put(6, 2, d.Day)
	return b
}

// BirthYearKey is the plaintext blind-index key of a birth year ("y:1980"),
// or "" when the year is unknown.
func BirthYearKey(d Date) string {
	if d.Year == 0 {
		return ""
	}
	return "y:" + strconv.Itoa(d.Year)
}

// BirthYears lists the birth years a person's index keys should carry:
// every year of exact and partial dates, and of spans up to maxSpanYears
// long (wider spans say little and would multiply keys).
func BirthYears(listed []BirthSpec) []int {
	var out []int
	for _, b := range listed {
		switch {
		case b.Date.Known():
			out = append(out, b.Date.Year)
		case b.Known() && b.To-b.From < maxSpanYears:
			for y := b.From; y <= b.To; y++ {
				out = append(out, y)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// maxSpanYears bounds the years of a listed span that get index keys.
const maxSpanYears = 12
