package mrz

import (
	"strconv"
	"time"
)

// Format is the layout of a machine-readable zone.
type Format string

// The formats of ICAO Doc 9303 Parts 4–7.
const (
	FormatUnknown Format = ""
	FormatTD1     Format = "TD1"   // 3 lines of 30: identity cards
	FormatTD2     Format = "TD2"   // 2 lines of 36: identity cards, older cards
	FormatTD3     Format = "TD3"   // 2 lines of 44: passports
	FormatMRVA    Format = "MRV-A" // 2 lines of 44: full-size visas
	FormatMRVB    Format = "MRV-B" // 2 lines of 36: small visas
	// FormatFRCNI is the French national identity card issued until 2021:
	// 2 lines of 36 in a national layout, not ICAO TD2 (surname and given
	// names in separate fields, a 12-character number, no expiry date).
	FormatFRCNI Format = "FR-CNI"
)

// Options control Parse.
type Options struct {
	// Autocorrect enables OCR repair; every change is listed in
	// Document.Corrections. Off, nothing in the input is changed.
	Autocorrect bool
	// Now is the reference time for century inference and expiry; zero
	// means time.Now().
	Now time.Time
}

// Date is an MRZ date (YYMMDD) with its century inferred. Year, Month or
// Day is 0 when the MRZ marks that part unknown ('<<' or 'XX').
type Date struct {
	Year  int    `json:"year"`
	Month int    `json:"month"`
	Day   int    `json:"day"`
	Raw   string `json:"raw"`
	Valid bool   `json:"valid"`
}

// String formats the date as YYYY-MM-DD with '?' for unknown parts, or ""
// when nothing is known.
func (d Date) String() string {
	if d.Year == 0 && d.Month == 0 && d.Day == 0 {
		return ""
	}
	b := make([]byte, 0, 10)
	b = appendPart(b, d.Year, 4)
	b = append(b, '-')
	b = appendPart(b, d.Month, 2)
	b = append(b, '-')
	b = appendPart(b, d.Day, 2)
	return string(b)
}

func appendPart(b []byte, n, w int) []byte {
	if n == 0 {
		for i := 0; i < w; i++ {
			b = append(b, '?')
		}
		return b
	}
	s := strconv.Itoa(n)
	for i := len(s); i < w; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// CheckStatus is the state of a field's check digit.
type CheckStatus string

// Check digit states.
const (
	CheckNone    CheckStatus = "none"    // the field has no check digit
	CheckOK      CheckStatus = "ok"      // the check digit matches
	CheckFiller  CheckStatus = "filler"  // field and check digit are all '<', as ICAO allows
	CheckBad     CheckStatus = "bad"     // the check digit does not match
	CheckInvalid CheckStatus = "invalid" // the check digit position holds something other than a digit
	CheckMissing CheckStatus = "missing" // the line is too short to hold the check digit
)

// Field is one MRZ field as read.
type Field struct {
	Name   string      `json:"name"`
	Value  string      `json:"value"` // interpreted value (fillers removed; dates stay YYMMDD, see Document.BirthDate)
	Raw    string      `json:"raw"`   // characters as in the MRZ
	Line   int         `json:"line"`  // 1-based
	Column int         `json:"column"`
	Valid  bool        `json:"valid"`
	Check  CheckStatus `json:"check"`
}

// Field names, in the order they appear in Document.Fields.
const (
	FieldDocumentCode   = "document_code"
	FieldIssuingState   = "issuing_state"
	FieldName           = "name"
	FieldDocumentNumber = "document_number"
	FieldNationality    = "nationality"
	FieldBirthDate      = "birth_date"
	FieldSex            = "sex"
	FieldExpiryDate     = "expiry_date"
	FieldOptionalData   = "optional_data"
	FieldOptionalData2  = "optional_data_2"
	FieldComposite      = "composite"
	FieldGivenNames     = "given_names" // FR-CNI only: ICAO layouts carry them in "name"
	FieldAdminCode      = "admin_code"  // FR-CNI only: issuing department and office
)

// Severity tells whether a Problem makes the MRZ invalid.
type Severity string

// Severities.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Problem codes.
const (
	ProblemFormat          = "format"         // line count/lengths fit no format
	ProblemLineLength      = "line_length"    // a line is too short or too long
	ProblemCharacter       = "invalid_char"   // a character outside A–Z, 0–9, '<'
	ProblemCheckDigit      = "check_digit"    // a field's check digit does not match
	ProblemComposite       = "composite"      // the composite check digit does not match
	ProblemDate            = "date_invalid"   // impossible date (month 13, 30 February…)
	ProblemDateUnknown     = "date_unknown"   // day, month or the whole date marked unknown
	ProblemExpired         = "expired"        // the expiry date is before Options.Now
	ProblemSex             = "sex_invalid"    // sex other than M, F, X or '<'
	ProblemCountry         = "unknown_code"   // a state/nationality code not on the ICAO list
	ProblemCode            = "invalid_code"   // a code with characters other than letters
	ProblemDocumentCode    = "document_code"  // document code malformed or unusual for the format
	ProblemName            = "name_invalid"   // name field empty or malformed
	ProblemNameTruncated   = "name_truncated" // the name fills its field: it may be cut short
	ProblemField           = "field_invalid"  // characters not allowed in the field
	ProblemAmbiguous       = "autocorrect_ambiguous"
	ProblemLongNumber      = "long_number" // long document number continuation malformed
	ProblemExpiryBeforeDOB = "expiry_before_birth"
	// ProblemLongNumberFiller: a TD1/TD2 long document number whose check
	// digit was computed over the number with the filler that separates
	// its two parts (Belgian and Portuguese identity cards do this). The
	// number is accepted; the warning records the deviation.
	ProblemLongNumberFiller = "long_number_filler_check"
	// ProblemNameLeadingFiller: the name field starts with '<'.
	ProblemNameLeadingFiller = "name_leading_filler"
)

// Problem is one thing wrong with an MRZ.
type Problem struct {
	Field    string   `json:"field,omitempty"`
	Code     string   `json:"code"`
	Message  string   `json:"message"`
	Severity Severity `json:"severity"`
}

// Correction is one character changed by Autocorrect.
type Correction struct {
	Line   int    `json:"line"`   // 1-based
	Column int    `json:"column"` // 1-based
	From   string `json:"from"`
	To     string `json:"to"`
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// String describes the correction without the surrounding data.
func (c Correction) String() string {
	return "line " + strconv.Itoa(c.Line) + " col " + strconv.Itoa(c.Column) + ": " +
		strconv.Quote(c.From) + "→" + strconv.Quote(c.To) + " in " + c.Field + " (" + c.Reason + ")"
}

// Document is a parsed MRZ. Use it through its pointer: its slices share
// storage that lives inside the Document.
type Document struct {
	Format         Format   `json:"format"`
	DocumentCode   string   `json:"document_code"`
	IssuingState   string   `json:"issuing_state"`
	Surname        string   `json:"surname"`
	GivenNames     []string `json:"given_names"`
	NameTruncated  bool     `json:"name_truncated"`
	DocumentNumber string   `json:"document_number"`
	Nationality    string   `json:"nationality"`
	BirthDate      Date     `json:"birth_date"`
	Sex            string   `json:"sex"`
	ExpiryDate     Date     `json:"expiry_date"`
	OptionalData   string   `json:"optional_data"`
	OptionalData2  string   `json:"optional_data_2,omitempty"`
	// LongNumber is set when the document number continues in the
	// optional data (TD1, TD2).
	LongNumber  bool         `json:"long_number,omitempty"`
	Lines       []string     `json:"lines"`
	InputLines  []string     `json:"input_lines,omitempty"` // before Autocorrect, when it changed anything
	Fields      []Field      `json:"fields"`
	Valid       bool         `json:"valid"`
	Problems    []Problem    `json:"problems"`
	Corrections []Correction `json:"corrections"`

	// Fixed storage so a parse of a well-formed MRZ does not allocate.
	fieldBuf   [11]Field
	problemBuf [12]Problem
	givenBuf   [8]string
	lineBuf    [3]string
}

// FieldByName returns the field called name (see the Field… constants).
func (d *Document) FieldByName(name string) (Field, bool) {
	for _, f := range d.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// HasProblem reports whether a problem with the given code was found.
func (d *Document) HasProblem(code string) bool {
	for _, p := range d.Problems {
		if p.Code == code {
			return true
		}
	}
	return false
}
