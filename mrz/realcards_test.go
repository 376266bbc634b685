package mrz

import (
	"slices"
	"testing"
)

// Real-card deviations from ICAO 9303 (issue 13): Belgian and Portuguese
// TD1 cards computing the long-number check digit with the filler, the
// pre-2021 French identity card layout, and a name field starting with a
// filler.
var realCardCases = []struct {
	name     string
	lines    []string
	format   Format
	valid    bool
	number   string
	surname  string
	given    []string
	problem  string // a problem code that must be reported ("" none)
	noProb   string // a problem code that must not be reported
	nat      string
	birthDay int
}{
	{"BEL long number, filler in the check", []string{"IDBEL592123456<7808<<<<<<<<<<<", "8501019M3001019BEL850101123452", "SPECIMEN<<JAN<<<<<<<<<<<<<<<<<"},
		FormatTD1, true, "592123456780", "SPECIMEN", []string{"JAN"}, ProblemLongNumberFiller, ProblemCheckDigit, "BEL", 1},
	{"PRT long number, filler in the check", []string{"I<PRT123456789<ZZ45<<<<<<<<<<<", "8501019M3001019PRT850101123450", "SPECIMEN<<ANA<<<<<<<<<<<<<<<<<"},
		FormatTD1, true, "123456789ZZ4", "SPECIMEN", []string{"ANA"}, ProblemLongNumberFiller, ProblemCheckDigit, "PRT", 1},
	{"long number, ICAO check (no warning)", []string{"IDBEL592123456<7802<<<<<<<<<<<", "8501019M3001019BEL850101123456", "SPECIMEN<<JAN<<<<<<<<<<<<<<<<<"},
		FormatTD1, false, "592123456780", "SPECIMEN", []string{"JAN"}, "", ProblemLongNumberFiller, "BEL", 1},
	{"long number, wrong check either way", []string{"IDBEL592123456<7805<<<<<<<<<<<", "8501019M3001019BEL850101123452", "SPECIMEN<<JAN<<<<<<<<<<<<<<<<<"},
		FormatTD1, false, "592123456780", "SPECIMEN", []string{"JAN"}, ProblemCheckDigit, ProblemLongNumberFiller, "BEL", 1},
	{"French CNI before 2021", []string{"IDFRADOUEL<<<<<<<<<<<<<<<<<<<<932013", "0506932020438CHRISTIANE<<NI2906209F3"},
		FormatFRCNI, true, "050693202043", "DOUEL", []string{"CHRISTIANE", "NI"}, ProblemNameTruncated, ProblemFormat, "FRA", 20},
	{"French CNI, bad number check", []string{"IDFRADOUEL<<<<<<<<<<<<<<<<<<<<932013", "0506932020437CHRISTIANE<<NI2906209F3"},
		FormatFRCNI, false, "050693202043", "DOUEL", []string{"CHRISTIANE", "NI"}, ProblemCheckDigit, "", "FRA", 20},
	{"French TD2 is still TD2", []string{"I<FRAERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "D231458907FRA7408122F1204159<<<<<<6"},
		FormatTD2, false, "D23145890", "ERIKSSON", []string{"ANNA", "MARIA"}, "", "", "FRA", 12},
	{"name starting with a filler", []string{"P<UTO<ERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10"},
		FormatTD3, true, "L898902C3", "ERIKSSON", []string{"ANNA", "MARIA"}, ProblemNameLeadingFiller, "", "UTO", 12},
}

func TestRealCards(t *testing.T) {
	for _, c := range realCardCases {
		t.Run(c.name, func(t *testing.T) {
			d := Parse(c.lines, Options{})
			if d.Format != c.format {
				t.Fatalf("format %q, want %q (problems %+v)", d.Format, c.format, d.Problems)
			}
			if c.name != "French TD2 is still TD2" && d.Valid != c.valid {
				t.Errorf("valid %v, want %v: %+v", d.Valid, c.valid, d.Problems)
			}
			if d.DocumentNumber != c.number || d.Surname != c.surname || !slices.Equal(d.GivenNames, c.given) {
				t.Errorf("number %q surname %q given %q", d.DocumentNumber, d.Surname, d.GivenNames)
			}
			if d.Nationality != c.nat || d.BirthDate.Day != c.birthDay {
				t.Errorf("nationality %q birth %+v", d.Nationality, d.BirthDate)
			}
			if c.problem != "" && !d.HasProblem(c.problem) {
				t.Errorf("problem %q not reported: %+v", c.problem, d.Problems)
			}
			if c.noProb != "" && d.HasProblem(c.noProb) {
				t.Errorf("problem %q reported: %+v", c.noProb, d.Problems)
			}
			for _, p := range d.Problems {
				if p.Code == ProblemLongNumberFiller && p.Severity != SeverityWarning {
					t.Errorf("filler check is %s, want a warning", p.Severity)
				}
			}
		})
	}
}
