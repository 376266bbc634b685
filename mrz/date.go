package mrz

import "time"

// civil is a calendar day, computed once per parse.
type civil struct{ y, m, d int }

func civilOf(t time.Time) civil {
	y, m, d := t.Date()
	return civil{y, int(m), d}
}

// date interprets a YYMMDD field. Unknown month or day ('<<' or 'XX') and
// an entirely unknown date (all '<' or 'X') are accepted and reported as
// warnings; impossible dates are errors whatever their check digit says.
//
// Century: a birth date is never in the future, so it is the latest
// century that keeps it at or before now. An expiry date is taken in the
// current century unless that puts it more than expiryWindow years ahead.
func (d *Document) date(f *Field, birth bool, now civil) Date {
	raw := f.Raw
	out := Date{Raw: raw}
	f.Value = raw
	if len(raw) != 6 {
		f.Valid = false
		return out
	}
	if unknownPart(raw[0:6]) {
		out.Valid = true
		f.Value = ""
		d.problem(SeverityWarning, f.Name, ProblemDateUnknown, msgDate(f.Name, msgKindUnknownAll))
		return out
	}
	yy, okY := twoDigits(raw[0:2])
	mm, okM := twoDigits(raw[2:4])
	dd, okD := twoDigits(raw[4:6])
	unkM, unkD := unknownPart(raw[2:4]), unknownPart(raw[4:6])
	if !okY || (!okM && !unkM) || (!okD && !unkD) {
		f.Valid = false
		d.problem(SeverityError, f.Name, ProblemDate, msgDate(f.Name, msgKindChars))
		return out
	}
	if unkM {
		mm = 0
	}
	if unkD {
		dd = 0
	}
	ny, nm, nd := now.y, now.m, now.d
	year := ny/100*100 + yy
	if birth {
		if year > ny || (year == ny && (mm > nm || (mm == nm && dd > nd))) {
			year -= 100
		}
	} else {
		if year > ny+expiryWindow {
			year -= 100
		} else if year < ny+expiryWindow-100 {
			year += 100
		}
	}
	out.Year, out.Month, out.Day = year, mm, dd
	if mm > 12 || (!unkM && mm == 0) || (!unkD && dd == 0) || dd > daysIn(mm, year) {
		f.Valid = false
		d.problem(SeverityError, f.Name, ProblemDate, msgDate(f.Name, msgKindImpossible))
		return out
	}
	out.Valid = true
	if unkM || unkD {
		d.problem(SeverityWarning, f.Name, ProblemDateUnknown, msgDate(f.Name, msgKindUnknownPart))
	}
	if !birth && dateBeforeTime(out, ny, nm, nd) {
		d.problem(SeverityWarning, f.Name, ProblemExpired, "document has expired")
	}
	return out
}

// expiryWindow is how many years ahead an expiry date may lie; documents
// are issued for at most ten years, twenty leaves room for long-validity
// cards while still placing "75" in the past century.
const expiryWindow = 20

const (
	msgKindUnknownAll = iota
	msgKindUnknownPart
	msgKindChars
	msgKindImpossible
)

func msgDate(field string, k int) string {
	if field == FieldBirthDate {
		switch k {
		case msgKindUnknownAll:
			return "date of birth is unknown (all fillers)"
		case msgKindUnknownPart:
			return "date of birth has an unknown day or month"
		case msgKindChars:
			return "date of birth must be YYMMDD digits"
		}
		return "date of birth is not a real date"
	}
	switch k {
	case msgKindUnknownAll:
		return "expiry date is unknown (all fillers)"
	case msgKindUnknownPart:
		return "expiry date has an unknown day or month"
	case msgKindChars:
		return "expiry date must be YYMMDD digits"
	}
	return "expiry date is not a real date"
}

func twoDigits(s string) (int, bool) {
	if s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' {
		return 0, false
	}
	return int(s[0]-'0')*10 + int(s[1]-'0'), true
}

// unknownPart reports whether s is all '<' or all 'X', the ICAO markers
// for an unknown date part.
func unknownPart(s string) bool {
	if s == "" {
		return false
	}
	c := s[0]
	if c != '<' && c != 'X' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] != c {
			return false
		}
	}
	return true
}

// daysIn returns the days in month m of year y; 31 when m is unknown (0).
func daysIn(m, y int) int {
	switch m {
	case 0:
		return 31
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// dateBefore compares what is known of two dates (unknown parts compare
// equal).
func dateBefore(a, b Date) bool {
	return dateBeforeTime(a, b.Year, b.Month, b.Day)
}

func dateBeforeTime(a Date, y, m, d int) bool {
	if a.Year != y {
		return a.Year < y
	}
	if a.Month == 0 || m == 0 {
		return false
	}
	if a.Month != m {
		return a.Month < m
	}
	if a.Day == 0 || d == 0 {
		return false
	}
	return a.Day < d
}
