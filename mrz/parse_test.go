package mrz

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

// now is the reference time of the table tests.
var now = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// ICAO Doc 9303 specimens (Utopia), Parts 4–7.
var (
	specTD3  = []string{"P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10"}
	specTD1  = []string{"I<UTOD231458907<<<<<<<<<<<<<<<", "7408122F1204159UTO<<<<<<<<<<<6", "ERIKSSON<<ANNA<MARIA<<<<<<<<<<"}
	specTD2  = []string{"I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "D231458907UTO7408122F1204159<<<<<<<6"}
	specMRVA = []string{"V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L8988901C4XXX4009078F96121096ZE184226B<<<<<<"}
	specMRVB = []string{"V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "L8988901C4XXX4009078F9612109<<<<<<<<"}
	// Part 5's long document number example: D23145890734, check digit 9.
	specTD1Long = []string{"I<UTOD23145890<7349<<<<<<<<<<<", "7408122F1204159UTO<<<<<<<<<<<6", "ERIKSSON<<ANNA<MARIA<<<<<<<<<<"}
)

// td3 builds a TD3 MRZ from its parts, computing every check digit
// independently of the parser (plain string concatenation + CheckDigit).
func td3(name, number, nat, birth, sex, expiry, opt string) []string {
	l1 := "P<UTO" + padTo(name, 39)
	number = padTo(number, 9)
	opt = padTo(opt, 14)
	optCk := string(CheckDigit(opt))
	if allFiller(opt) {
		optCk = "<"
	}
	num := number + string(CheckDigit(number))
	b := birth + string(CheckDigit(birth))
	e := expiry + string(CheckDigit(expiry))
	comp := CheckDigit(num + b + e + opt + optCk)
	return []string{l1, num + nat + b + sex + e + opt + optCk + string(comp)}
}

func padTo(s string, n int) string {
	for len(s) < n {
		s += "<"
	}
	return s
}

type want struct {
	format    Format
	valid     bool
	code      string
	state     string
	surname   string
	given     []string
	number    string
	nat       string
	birth     string // Date.String()
	sex       string
	expiry    string
	opt       string
	opt2      string
	truncated bool
	long      bool
	problems  []string // problem codes that must be present
	absent    []string // problem codes that must not be present
}

var parseTests = []struct {
	name  string
	lines []string
	want  want
}{
	{"TD3 specimen", specTD3, want{format: FormatTD3, valid: true, code: "P", state: "UTO", surname: "ERIKSSON", given: []string{"ANNA", "MARIA"},
		number: "L898902C3", nat: "UTO", birth: "1974-08-12", sex: "F", expiry: "2012-04-15", opt: "ZE184226B", problems: []string{ProblemExpired}}},
	{"TD1 specimen", specTD1, want{format: FormatTD1, valid: true, code: "I", state: "UTO", surname: "ERIKSSON", given: []string{"ANNA", "MARIA"},
		number: "D23145890", nat: "UTO", birth: "1974-08-12", sex: "F", expiry: "2012-04-15"}},
	{"TD1 long number", specTD1Long, want{format: FormatTD1, valid: true, code: "I", state: "UTO", surname: "ERIKSSON", given: []string{"ANNA", "MARIA"},
		number: "D23145890734", nat: "UTO", birth: "1974-08-12", sex: "F", expiry: "2012-04-15", long: true}},
	{"TD2 specimen", specTD2, want{format: FormatTD2, valid: true, code: "I", state: "UTO", surname: "ERIKSSON", given: []string{"ANNA", "MARIA"},
		number: "D23145890", nat: "UTO", birth: "1974-08-12", sex: "F", expiry: "2012-04-15"}},
	{"TD2 long number", []string{"I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "D23145890<UTO7408122F12041597349<<<2"}, want{format: FormatTD2, valid: true, code: "I", state: "UTO",
		surname: "ERIKSSON", given: []string{"ANNA", "MARIA"}, number: "D23145890734", nat: "UTO", birth: "1974-08-12", sex: "F", expiry: "2012-04-15", long: true}},
	{"MRV-A specimen", specMRVA, want{format: FormatMRVA, valid: true, code: "V", state: "UTO", surname: "ERIKSSON", given: []string{"ANNA", "MARIA"},
		number: "L8988901C", nat: "XXX", birth: "1940-09-07", sex: "F", expiry: "1996-12-10", opt: "6ZE184226B"}},
	{"MRV-B specimen", specMRVB, want{format: FormatMRVB, valid: true, code: "V", state: "UTO", surname: "ERIKSSON", given: []string{"ANNA", "MARIA"},
		number: "L8988901C", nat: "XXX", birth: "1940-09-07", sex: "F", expiry: "1996-12-10"}},
	{"single line of 88", []string{specTD3[0] + specTD3[1]}, want{format: FormatTD3, valid: true, code: "P", state: "UTO", surname: "ERIKSSON",
		given: []string{"ANNA", "MARIA"}, number: "L898902C3", nat: "UTO", birth: "1974-08-12", sex: "F", expiry: "2012-04-15", opt: "ZE184226B"}},

	// Check digits.
	{"bad number check digit", []string{specTD3[0], "L898902C37UTO7408122F1204159ZE184226B<<<<<10"}, want{format: FormatTD3, valid: false,
		number: "L898902C3", problems: []string{ProblemCheckDigit, ProblemComposite}}},
	{"bad composite only", []string{specTD3[0], "L898902C36UTO7408122F1204159ZE184226B<<<<<11"}, want{format: FormatTD3, valid: false,
		number: "L898902C3", problems: []string{ProblemComposite}, absent: []string{ProblemCheckDigit}}},
	{"filler check digit on empty optional data", td3("ERIKSSON<<ANNA", "X12345678", "UTO", "740812", "F", "320415", ""),
		want{format: FormatTD3, valid: true, number: "X12345678", surname: "ERIKSSON", given: []string{"ANNA"}, birth: "1974-08-12", expiry: "2032-04-15", sex: "F", nat: "UTO", state: "UTO", code: "P"}},
	{"letter as check digit", []string{specTD3[0], "L898902C3AUTO7408122F1204159ZE184226B<<<<<10"}, want{format: FormatTD3, valid: false,
		problems: []string{ProblemCheckDigit}}},

	// Names.
	{"multi-token surname", td3("VAN<DER<BERG<<JAN<PIETER<KEES", "X12345678", "NLD", "800101", "M", "300101", ""),
		want{format: FormatTD3, valid: true, surname: "VAN DER BERG", given: []string{"JAN", "PIETER", "KEES"}, nat: "NLD", sex: "M"}},
	{"primary identifier only", td3("ERIKSSON", "X12345678", "UTO", "800101", "M", "300101", ""),
		want{format: FormatTD3, valid: true, surname: "ERIKSSON", given: []string{}}},
	{"truncated name", td3("ABCDEFGHIJKLMNOPQRSTUVWXYZ<<ABCDEFGHIJK", "X12345678", "UTO", "800101", "M", "300101", ""),
		want{format: FormatTD3, valid: true, surname: "ABCDEFGHIJKLMNOPQRSTUVWXYZ", given: []string{"ABCDEFGHIJK"}, truncated: true, problems: []string{ProblemNameTruncated}}},
	{"digit in name", td3("ERIK5SON<<ANNA", "X12345678", "UTO", "800101", "M", "300101", ""),
		want{format: FormatTD3, valid: false, problems: []string{ProblemName}}},
	{"empty name", td3("", "X12345678", "UTO", "800101", "M", "300101", ""),
		want{format: FormatTD3, valid: false, problems: []string{ProblemName}}},

	// Dates.
	{"unknown day", td3("A<<B", "X12345678", "UTO", "8001<<", "M", "300101", ""),
		want{format: FormatTD3, valid: true, birth: "1980-01-??", problems: []string{ProblemDateUnknown}}},
	{"unknown month and day (XX)", td3("A<<B", "X12345678", "UTO", "80XXXX", "M", "300101", ""),
		want{format: FormatTD3, valid: true, birth: "1980-??-??", problems: []string{ProblemDateUnknown}}},
	{"unknown birth date", td3("A<<B", "X12345678", "UTO", "<<<<<<", "M", "300101", ""),
		want{format: FormatTD3, valid: true, birth: "", problems: []string{ProblemDateUnknown}}},
	{"month 13 with passing check digit", td3("A<<B", "X12345678", "UTO", "801301", "M", "300101", ""),
		want{format: FormatTD3, valid: false, problems: []string{ProblemDate}, absent: []string{ProblemCheckDigit}}},
	{"day 32", td3("A<<B", "X12345678", "UTO", "800132", "M", "300101", ""),
		want{format: FormatTD3, valid: false, problems: []string{ProblemDate}}},
	{"30 February", td3("A<<B", "X12345678", "UTO", "800230", "M", "300101", ""),
		want{format: FormatTD3, valid: false, problems: []string{ProblemDate}}},
	{"29 February 2000", td3("A<<B", "X12345678", "UTO", "000229", "M", "300101", ""),
		want{format: FormatTD3, valid: true, birth: "2000-02-29"}},
	{"29 February 2001", td3("A<<B", "X12345678", "UTO", "010229", "M", "300101", ""),
		want{format: FormatTD3, valid: false, problems: []string{ProblemDate}}},
	{"birth today is this century", td3("A<<B", "X12345678", "UTO", "261124", "M", "300101", ""),
		want{format: FormatTD3, valid: true, birth: "2026-11-24"}},
	{"birth tomorrow is last century", td3("A<<B", "X12345678", "UTO", "261125", "M", "300101", ""),
		want{format: FormatTD3, valid: true, birth: "1926-11-25"}},
	{"expiry 19 years ahead", td3("A<<B", "X12345678", "UTO", "800101", "M", "451231", ""),
		want{format: FormatTD3, valid: true, expiry: "2045-12-31", absent: []string{ProblemExpired}}},
	{"expiry beyond window is last century", td3("A<<B", "X12345678", "UTO", "400101", "M", "470101", ""),
		want{format: FormatTD3, valid: true, expiry: "1947-01-01", problems: []string{ProblemExpired}}},
	{"letters in date", td3("A<<B", "X12345678", "UTO", "8O0101", "M", "300101", ""),
		want{format: FormatTD3, valid: false, problems: []string{ProblemDate}}},

	// Codes and sex.
	{"Germany D<<", td3("MUSTERMANN<<ERIKA", "C01X00T47", "D<<", "640812", "F", "310101", ""),
		want{format: FormatTD3, valid: true, nat: "D", absent: []string{ProblemCountry}}},
	{"stateless XXA", td3("A<<B", "X12345678", "XXA", "800101", "<", "300101", ""),
		want{format: FormatTD3, valid: true, nat: "XXA", sex: "X", absent: []string{ProblemCountry}}},
	{"unknown code is a warning", td3("A<<B", "X12345678", "ZZZ", "800101", "X", "300101", ""),
		want{format: FormatTD3, valid: true, nat: "ZZZ", sex: "X", problems: []string{ProblemCountry}}},
	{"digit in nationality", td3("A<<B", "X12345678", "UT0", "800101", "M", "300101", ""),
		want{format: FormatTD3, valid: false, problems: []string{ProblemCode}}},
	{"bad sex", td3("A<<B", "X12345678", "UTO", "800101", "Q", "300101", ""),
		want{format: FormatTD3, valid: false, problems: []string{ProblemSex}}},

	// Garbage.
	{"empty", nil, want{format: FormatUnknown, valid: false, problems: []string{ProblemFormat}}},
	{"one short line", []string{"P<UTO"}, want{format: FormatUnknown, valid: false, problems: []string{ProblemFormat}}},
	{"short second line", []string{specTD3[0], specTD3[1][:30]}, want{format: FormatTD3, valid: false, surname: "ERIKSSON",
		number: "L898902C3", problems: []string{ProblemLineLength, ProblemField}}},
	{"lowercase", []string{strings.ToLower(specTD3[0]), specTD3[1]}, want{format: FormatTD3, valid: false, problems: []string{ProblemCharacter}}},
	{"non-ASCII", []string{"P<UTOÉRIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<", specTD3[1]}, want{format: FormatTD3, valid: false, problems: []string{ProblemCharacter}}},
}

func TestParse(t *testing.T) {
	for _, tt := range parseTests {
		t.Run(tt.name, func(t *testing.T) {
			d := Parse(tt.lines, Options{Now: now})
			w := tt.want
			if d.Format != w.format {
				t.Fatalf("format = %q, want %q", d.Format, w.format)
			}
			if d.Valid != w.valid {
				t.Errorf("valid = %v, want %v; problems %+v", d.Valid, w.valid, d.Problems)
			}
			str := func(name, got, want string) {
				t.Helper()
				if want != "" && got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			str("document code", d.DocumentCode, w.code)
			str("issuing state", d.IssuingState, w.state)
			str("surname", d.Surname, w.surname)
			str("number", d.DocumentNumber, w.number)
			str("nationality", d.Nationality, w.nat)
			str("birth", d.BirthDate.String(), w.birth)
			str("sex", d.Sex, w.sex)
			str("expiry", d.ExpiryDate.String(), w.expiry)
			str("optional data", d.OptionalData, w.opt)
			str("optional data 2", d.OptionalData2, w.opt2)
			if w.given != nil && !slices.Equal(d.GivenNames, w.given) {
				t.Errorf("given names = %q, want %q", d.GivenNames, w.given)
			}
			if d.NameTruncated != w.truncated {
				t.Errorf("name truncated = %v, want %v", d.NameTruncated, w.truncated)
			}
			if d.LongNumber != w.long {
				t.Errorf("long number = %v, want %v", d.LongNumber, w.long)
			}
			for _, p := range w.problems {
				if !d.HasProblem(p) {
					t.Errorf("missing problem %q; got %+v", p, d.Problems)
				}
			}
			for _, p := range w.absent {
				if d.HasProblem(p) {
					t.Errorf("unexpected problem %q; got %+v", p, d.Problems)
				}
			}
			if len(d.Corrections) != 0 {
				t.Errorf("corrections without Autocorrect: %+v", d.Corrections)
			}
			if d.Format != FormatUnknown && !slices.Equal(d.Lines, tt.lines) && len(tt.lines) != 1 {
				t.Errorf("lines changed without Autocorrect: %q", d.Lines)
			}
			// Valid must agree with the severities.
			hasErr := false
			for _, p := range d.Problems {
				hasErr = hasErr || p.Severity == SeverityError
				if p.Message == "" || p.Code == "" {
					t.Errorf("problem without code or message: %+v", p)
				}
			}
			if hasErr == d.Valid {
				t.Errorf("valid = %v but error problems = %v", d.Valid, hasErr)
			}
			if _, err := json.Marshal(d); err != nil {
				t.Errorf("marshal: %v", err)
			}
		})
	}
}

func TestFields(t *testing.T) {
	d := Parse(specTD3, Options{Now: now})
	wantNames := []string{FieldDocumentCode, FieldIssuingState, FieldName, FieldDocumentNumber, FieldNationality,
		FieldBirthDate, FieldSex, FieldExpiryDate, FieldOptionalData, FieldComposite}
	var got []string
	for _, f := range d.Fields {
		got = append(got, f.Name)
		if !f.Valid {
			t.Errorf("field %s invalid", f.Name)
		}
	}
	if !slices.Equal(got, wantNames) {
		t.Fatalf("fields = %v, want %v", got, wantNames)
	}
	f, ok := d.FieldByName(FieldDocumentNumber)
	if !ok || f.Raw != "L898902C<" && f.Raw != "L898902C3" || f.Check != CheckOK || f.Line != 2 || f.Column != 1 {
		t.Errorf("document number field = %+v", f)
	}
	f, _ = d.FieldByName(FieldOptionalData)
	if f.Check != CheckOK || f.Value != "ZE184226B" {
		t.Errorf("optional data field = %+v", f)
	}
	if _, ok := d.FieldByName("nope"); ok {
		t.Error("FieldByName found a field that does not exist")
	}

	// A bad check digit marks exactly that field invalid; the rest stays.
	d = Parse([]string{specTD3[0], "L898902C36UTO7408123F1204159ZE184226B<<<<<10"}, Options{Now: now})
	for _, f := range d.Fields {
		bad := f.Name == FieldBirthDate || f.Name == FieldComposite
		if f.Valid == bad {
			t.Errorf("field %s valid = %v", f.Name, f.Valid)
		}
	}
	if d.Surname != "ERIKSSON" || d.DocumentNumber != "L898902C3" {
		t.Error("partial result lost valid fields")
	}
	f, _ = d.FieldByName(FieldBirthDate)
	if f.Check != CheckBad {
		t.Errorf("birth date check = %q, want bad", f.Check)
	}

	// Filler check digit over an all-filler optional data field.
	d = Parse(td3("A<<B", "X12345678", "UTO", "800101", "M", "300101", ""), Options{Now: now})
	f, _ = d.FieldByName(FieldOptionalData)
	if f.Check != CheckFiller || !f.Valid {
		t.Errorf("empty optional data field = %+v", f)
	}
}

func TestParseText(t *testing.T) {
	d := ParseText("\r\n  "+specTD3[0]+"  \r\n\r\n"+specTD3[1]+"\n", Options{Now: now})
	if !d.Valid || d.Format != FormatTD3 {
		t.Fatalf("ParseText: valid=%v format=%q problems=%+v", d.Valid, d.Format, d.Problems)
	}
}

func TestJSON(t *testing.T) {
	d := Parse(specTD1Long, Options{Now: now})
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"format", "document_code", "issuing_state", "surname", "given_names", "document_number", "nationality",
		"birth_date", "sex", "expiry_date", "optional_data", "lines", "fields", "valid", "problems", "corrections", "long_number"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, b)
		}
	}
	if m["document_number"] != "D23145890734" || m["valid"] != true {
		t.Errorf("JSON = %s", b)
	}
}

func TestParseIntoReuse(t *testing.T) {
	var d Document
	ParseInto(&d, specTD2, Options{Now: now})
	ParseInto(&d, specTD3, Options{Now: now})
	if d.Format != FormatTD3 || !d.Valid || len(d.Fields) != 10 || d.LongNumber {
		t.Fatalf("reuse left stale state: %+v", d)
	}
}

func TestCountryName(t *testing.T) {
	tests := []struct {
		code, name string
		ok         bool
	}{
		{"D", "Germany", true}, {"D<<", "Germany", true}, {"DEU", "Germany", true}, {"UTO", "Utopia", true},
		{"XPO", "International Criminal Police Organization (INTERPOL)", true}, {"XXA", "Stateless person", true},
		{"GBD", "British Overseas Territories Citizen", true}, {"EUE", "European Union", true}, {"RKS", "Kosovo", true},
		{"ZZZ", "", false}, {"", "", false}, {"DEUT", "", false}, {"d", "", false}, {"1AB", "", false},
	}
	for _, tt := range tests {
		name, ok := CountryName(tt.code)
		if ok != tt.ok || name != tt.name {
			t.Errorf("CountryName(%q) = %q, %v; want %q, %v", tt.code, name, ok, tt.name, tt.ok)
		}
	}
	for _, c := range []string{"GBN", "GBO", "GBP", "GBS", "UNO", "UNA", "UNK", "XBA", "XIM", "XCC", "XCE", "XCO", "XEC", "XES", "XMP", "XOM", "XXB", "XXC", "XXX", "ZIM"} {
		if _, ok := CountryName(c); !ok {
			t.Errorf("ICAO special code %s missing", c)
		}
	}
	codes := Codes()
	iso := codes[:isoCodeCount]
	if !slices.IsSorted(iso) || len(slices.Compact(slices.Clone(iso))) != isoCodeCount {
		t.Error("ISO part of the code table must be sorted and unique")
	}
	for _, c := range iso {
		if len(c) != 3 {
			t.Errorf("ISO code %q", c)
		}
	}
	if codes[isoCodeCount] != "D" {
		t.Errorf("ISO table does not have %d entries", isoCodeCount)
	}
}

func TestCheckDigit(t *testing.T) {
	tests := []struct {
		in   string
		want byte
	}{
		{"L898902C3", '6'}, {"740812", '2'}, {"120415", '9'}, {"ZE184226B<<<<<", '1'},
		{"D23145890", '7'}, {"D23145890734", '9'}, {"<<<<<<", '0'}, {"", '0'}, {"l898902c3", '6'},
		{"L898902C36" + "7408122" + "1204159" + "ZE184226B<<<<<1", '0'},
	}
	for _, tt := range tests {
		if got := CheckDigit(tt.in); got != tt.want {
			t.Errorf("CheckDigit(%q) = %c, want %c", tt.in, got, tt.want)
		}
	}
}
