package paxdata

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/checkpoint-edge/checkpoint/paxdata/edifact"
)

// Message types this package reads.
const (
	TypePAXLST = "PAXLST"
	TypePNRGOV = "PNRGOV"
)

// ParseOptions tune Parse.
type ParseOptions struct {
	// Zone gives the time zone of an airport (IATA code): API and PNR
	// times are local to the airport. nil, or a nil answer, is UTC.
	Zone func(airport string) *time.Location
	// Now is the clock for two-digit years (nil = time.Now).
	Now func() time.Time
}

func (o *ParseOptions) zone(airport string) *time.Location {
	if o.Zone != nil {
		if l := o.Zone(airport); l != nil {
			return l
		}
	}
	return time.UTC
}

func (o *ParseOptions) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// Result is what one file gave: every message that parsed, and an error
// for every one that did not and for the envelope.
type Result struct {
	Sender    string      `json:"sender"`
	Reference string      `json:"reference"`
	Manifests []*Manifest `json:"manifests"`
	// Errors name the message (UNH reference), the segment number within
	// it and the reason.
	Errors []*edifact.Error `json:"-"`
}

// ErrorStrings renders Errors for JSON output.
func (r *Result) ErrorStrings() []string {
	out := make([]string, len(r.Errors))
	for i, e := range r.Errors {
		out[i] = e.Error()
	}
	return out
}

// Parse reads an interchange of PAXLST and/or PNRGOV messages. It fails
// only when the data is not an interchange at all; a bad message is
// reported in Result.Errors and does not stop the others.
func Parse(data []byte, o ParseOptions) (*Result, error) {
	ics, err := edifact.ParseAll(data)
	if err != nil {
		return nil, err
	}
	res := &Result{Sender: ics[0].Sender, Reference: ics[0].Reference}
	for _, ic := range ics {
		res.parse(ic, &o)
	}
	return res, nil
}

func (res *Result) parse(ic *edifact.Interchange, o *ParseOptions) {
	res.Errors = append(res.Errors, ic.Errors...)
	for _, m := range ic.Messages {
		if m.Err != nil {
			res.Errors = append(res.Errors, m.Err)
			continue
		}
		var man *Manifest
		var perr *edifact.Error
		switch m.Type {
		case TypePAXLST:
			man, perr = parsePAXLST(m, o)
		case TypePNRGOV:
			man, perr = parsePNRGOV(m, o)
		default:
			perr = m.Errorf(1, "message type %q is neither PAXLST nor PNRGOV", m.Type)
		}
		if perr != nil {
			res.Errors = append(res.Errors, perr)
			continue
		}
		man.Sender = ic.Sender
		res.Manifests = append(res.Manifests, man)
	}
}

// dateKind says how to read a two-digit year.
type dateKind int

const (
	pastDate   dateKind = iota // birth: not in the future
	futureDate                 // document expiry: 19xx only from 70 on
	travelDate                 // flights: 20xx
)

func century(yy int, kind dateKind, now time.Time) int {
	switch kind {
	case pastDate:
		if 2000+yy > now.Year() {
			return 1900 + yy
		}
		return 2000 + yy
	case futureDate:
		if yy >= 70 {
			return 1900 + yy
		}
	}
	return 2000 + yy
}

// parseDTM reads an EDIFACT date or date/time value. format is the DTM
// format code (2379): 101 YYMMDD, 102 CCYYMMDD, 201 YYMMDDHHMM,
// 203 CCYYMMDDHHMM, 204 CCYYMMDDHHMMSS; empty infers it from the length.
func parseDTM(v, format string, kind dateKind, loc *time.Location, now time.Time) (time.Time, error) {
	if format == "" {
		switch len(v) {
		case 6:
			format = "101"
		case 8:
			format = "102"
		case 10:
			format = "201"
		case 12:
			format = "203"
		case 14:
			format = "204"
		default:
			return time.Time{}, fmt.Errorf("date %q has %d digits", redactDate(v), len(v))
		}
	}
	var want int
	switch format {
	case "101":
		want = 6
	case "102":
		want = 8
	case "201":
		want = 10
	case "203":
		want = 12
	case "204":
		want = 14
	default:
		return time.Time{}, fmt.Errorf("date format %q not supported", format)
	}
	if len(v) != want || !allDigits(v) {
		return time.Time{}, fmt.Errorf("date %q does not match format %s", redactDate(v), format)
	}
	num := func(i, n int) int { x, _ := strconv.Atoi(v[i : i+n]); return x }
	var y, rest int
	if format == "101" || format == "201" {
		y, rest = century(num(0, 2), kind, now), 2
	} else {
		y, rest = num(0, 4), 4
	}
	mo, d := num(rest, 2), num(rest+2, 2)
	h, mi, s := 0, 0, 0
	if want > rest+4 {
		h, mi = num(rest+4, 2), num(rest+6, 2)
	}
	if want == 14 {
		s = num(12, 2)
	}
	return makeDate(y, mo, d, h, mi, s, loc, v)
}

func makeDate(y, mo, d, h, mi, s int, loc *time.Location, raw string) (time.Time, error) {
	t := time.Date(y, time.Month(mo), d, h, mi, s, 0, loc)
	if mo < 1 || mo > 12 || d < 1 || t.Day() != d || h > 23 || mi > 59 || s > 59 {
		return time.Time{}, fmt.Errorf("date %q is not a calendar date/time", redactDate(raw))
	}
	return t, nil
}

// redactDate keeps dates out of error messages when they might be a birth
// date: only the shape is shown.
func redactDate(v string) string {
	b := []byte(v)
	for i, c := range b {
		if c >= '0' && c <= '9' {
			b[i] = 'n'
		}
	}
	if len(b) > 16 {
		b = append(b[:16], "…"...)
	}
	return string(b)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// normFlight makes "BA0123" from a carrier and a flight designator
// ("BA123", "123", "BA 123A").
func normFlight(carrier, number string) (string, string, error) {
	carrier = strings.ToUpper(strings.TrimSpace(carrier))
	number = strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(number), " ", ""))
	if carrier == "" && len(number) > 2 {
		// "BA123": a two-character designator, unless the third is a letter
		// (three-letter ICAO code).
		n := 2
		if len(number) > 3 && number[2] >= 'A' && number[2] <= 'Z' {
			n = 3
		}
		carrier = number[:n]
	}
	number = strings.TrimPrefix(number, carrier)
	i := 0
	for i < len(number) && number[i] >= '0' && number[i] <= '9' {
		i++
	}
	digits, suffix := number[:i], number[i:]
	if len(carrier) < 2 || len(carrier) > 3 || digits == "" || len(digits) > 4 || len(suffix) > 1 || (suffix != "" && (suffix[0] < 'A' || suffix[0] > 'Z')) {
		return "", "", fmt.Errorf("flight %q of carrier %q is not a flight designator", number, carrier)
	}
	n, _ := strconv.Atoi(digits)
	return fmt.Sprintf("%s%04d%s", carrier, n, suffix), carrier, nil
}

func isoDate(t time.Time) string { return t.Format("2006-01-02") }

func airportOK(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// normSex maps the codes of API and PNR to M, F, X or "".
func normSex(s string) string {
	switch strings.ToUpper(s) {
	case "M", "MI":
		return "M"
	case "F", "FI":
		return "F"
	case "X":
		return "X"
	}
	return ""
}
