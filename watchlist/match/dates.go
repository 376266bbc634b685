package match

import (
	"fmt"
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
	dobYearDigit  = 0.5  // partial dates, years differ in one digit
	dobUnknown    = 0.5  // neutral
	// dobCorroborates is the agreement that counts as independent support
	// for a name match; a shared birth year alone does not.
	dobCorroborates = 0.75
)

// dobResult compares two dates of birth. known is false when either year
// is unknown; conflict is true when they cannot be the same date even
// allowing for the errors above.
type dobResult struct {
	score    float64
	known    bool
	conflict bool
	detail   string
}

func compareDates(q, r Date) dobResult {
	if !q.Known() || !r.Known() {
		return dobResult{score: dobUnknown, detail: "DOB " + q.String() + " vs " + r.String() + ": unknown on one side"}
	}
	res := dobResult{known: true}
	say := func(score float64, why string) dobResult {
		res.score = score
		res.detail = "DOB " + q.String() + " vs " + r.String() + ": " + why
		return res
	}
	full := q.Month != 0 && q.Day != 0 && r.Month != 0 && r.Day != 0
	if full {
		switch {
		case q == r:
			return say(dobExact, "exact")
		case q.Year == r.Year && q.Month == r.Day && q.Day == r.Month:
			return say(dobSwapped, "day/month swapped")
		}
		a, b := q.digits(), r.digits()
		var diff []int
		for i := range a {
			if a[i] != b[i] {
				diff = append(diff, i)
			}
		}
		switch {
		case len(diff) == 1:
			return say(dobOneDigit, "one digit differs")
		case len(diff) == 2 && diff[1] == diff[0]+1 && a[diff[0]] == b[diff[1]] && a[diff[1]] == b[diff[0]]:
			return say(dobTransposed, "adjacent digits transposed")
		}
		res.conflict = true
		return say(0, "conflict")
	}
	// Partial on at least one side: compare the parts both sides know.
	month := q.Month != 0 && r.Month != 0
	day := month && q.Day != 0 && r.Day != 0
	rest := (!month || q.Month == r.Month) && (!day || q.Day == r.Day)
	switch {
	case q.Year == r.Year && rest && month:
		return say(dobYearMonth, "year and month agree (partial date)")
	case q.Year == r.Year && rest:
		return say(dobYearOnly, "birth year agrees (partial date)")
	case rest && oneDigitApart(q.Year, r.Year):
		return say(dobYearDigit, "birth years differ in one digit (partial date)")
	}
	res.conflict = true
	return say(0, "conflict")
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

func oneDigitApart(a, b int) bool {
	x, y := Date{Year: a}.digits(), Date{Year: b}.digits()
	n := 0
	for i := 0; i < 4; i++ {
		if x[i] != y[i] {
			n++
		}
	}
	return n == 1
}

// BirthYearKey is the plaintext blind-index key of a birth year ("y:1980"),
// or "" when the year is unknown.
func BirthYearKey(d Date) string {
	if d.Year == 0 {
		return ""
	}
	return "y:" + strconv.Itoa(d.Year)
}
