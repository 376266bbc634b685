package mrz

import (
	"slices"
	"strings"
	"testing"
)

type corr struct {
	line, col int
	from, to  string
	field     string
}

var autocorrectTests = []struct {
	name      string
	lines     []string
	valid     bool   // after Autocorrect
	corrected []corr // exactly these corrections
	problems  []string
}{
	{"clean input is untouched", specTD3, true, nil, nil},
	{"O for 0 in dates", []string{specTD3[0], "L898902C36UTO74O8122F12O4159ZE184226B<<<<<10"}, true,
		[]corr{{2, 16, "O", "0", FieldBirthDate}, {2, 24, "O", "0", FieldExpiryDate}}, nil},
	{"letter as check digit", []string{specTD3[0], "L898902C36UTO740812ZF1204159ZE184226B<<<<<1O"}, true,
		[]corr{{2, 20, "Z", "2", FieldBirthDate}, {2, 44, "O", "0", FieldComposite}}, nil},
	{"0 for O in nationality", []string{specTD3[0], "L898902C36UT07408122F1204159ZE184226B<<<<<10"}, true,
		[]corr{{2, 13, "0", "O", FieldNationality}}, nil},
	{"digits in name and state", []string{"P<UT0ER1KSSON<<ANNA<MAR1A<<<<<<<<<<<<<<<<<<<", specTD3[1]}, true,
		[]corr{{1, 5, "0", "O", FieldIssuingState}, {1, 8, "1", "I", FieldName}, {1, 24, "1", "I", FieldName}}, nil},
	{"K for filler after the name", []string{"P<UTOERIKSSON<<ANNA<MARIA<<<<K<<<<<<<<<<<<<<", specTD3[1]}, true,
		[]corr{{1, 30, "K", "<", FieldName}}, nil},
	{"document number O for 0 resolved by check digits", []string{specTD3[0], "L8989O2C36UTO7408122F1204159ZE184226B<<<<<10"}, true,
		[]corr{{2, 6, "O", "0", FieldDocumentNumber}}, nil},
	{"document number B for 8", []string{specTD3[0], "LB98902C36UTO7408122F1204159ZE184226B<<<<<10"}, true,
		[]corr{{2, 2, "B", "8", FieldDocumentNumber}}, nil},
	{"optional data 5 for S", []string{specTD3[0], "L898902C36UTO7408122F1204159ZE184226B<<<<<10"}, true, nil, nil},
	{"optional data filler read as X", withChar(td3("ERIKSSON<<ANNA", "X12345678", "UTO", "800101", "M", "300101", ""), 1, 34, 'X'), true,
		[]corr{{2, 35, "X", "<", FieldOptionalData}}, nil},
	{"long TD1 number with I for 1", []string{"I<UTOD23I45890<7349<<<<<<<<<<<", specTD1Long[1], specTD1Long[2]}, true,
		[]corr{{1, 9, "I", "1", FieldDocumentNumber}}, nil},
	{"lowercase", []string{strings.ToLower(specTD2[0]), specTD2[1]}, true, nil, nil},
	{"unfixable check digit stays invalid", []string{specTD3[0], "L898902C37UTO7408122F1204159ZE184226B<<<<<10"}, false, nil, []string{ProblemCheckDigit}},
}

func TestAutocorrect(t *testing.T) {
	for _, tt := range autocorrectTests {
		t.Run(tt.name, func(t *testing.T) {
			plain := Parse(tt.lines, Options{Now: now})
			if len(plain.Corrections) != 0 || !slices.Equal(plain.Lines, tt.lines) {
				t.Fatalf("without Autocorrect the input changed: %+v", plain.Corrections)
			}
			d := Parse(tt.lines, Options{Now: now, Autocorrect: true})
			if d.Valid != tt.valid {
				t.Errorf("valid = %v, want %v; problems %+v; corrections %v", d.Valid, tt.valid, d.Problems, d.Corrections)
			}
			if tt.name == "lowercase" {
				if len(d.Corrections) == 0 || d.Corrections[0].Reason != reasonLowercase {
					t.Errorf("lowercase not corrected: %v", d.Corrections)
				}
				return
			}
			var got []corr
			for _, c := range d.Corrections {
				got = append(got, corr{c.Line, c.Column, c.From, c.To, c.Field})
				if c.Reason == "" {
					t.Errorf("correction without reason: %+v", c)
				}
				// Each correction must be visible in the line it names.
				if d.Lines[c.Line-1][c.Column-1:c.Column] != c.To || d.InputLines[c.Line-1][c.Column-1:c.Column] != c.From {
					t.Errorf("correction %v does not match the lines", c)
				}
			}
			if !slices.Equal(got, tt.corrected) {
				t.Errorf("corrections = %+v, want %+v", got, tt.corrected)
			}
			if len(tt.corrected) == 0 && d.InputLines != nil {
				t.Errorf("input lines recorded without corrections")
			}
			for _, p := range tt.problems {
				if !d.HasProblem(p) {
					t.Errorf("missing problem %q; got %+v", p, d.Problems)
				}
			}
		})
	}
}

// An ambiguous repair is reported and nothing is changed: two O's at
// positions with the same weight (7) give two equally plausible repairs.
func TestAutocorrectAmbiguous(t *testing.T) {
	ck := CheckDigit("012O45678")
	if ck != CheckDigit("O12045678") {
		t.Fatal("test premise: both repairs must give the same check digit")
	}
	lines := td3("ERIKSSON<<ANNA", "X12345678", "UTO", "800101", "M", "300101", "")
	lines[1] = "O12O45678" + string(ck) + lines[1][10:]
	d := Parse(lines, Options{Now: now, Autocorrect: true})
	if !d.HasProblem(ProblemAmbiguous) {
		t.Fatalf("no ambiguity reported: %+v %v", d.Problems, d.Corrections)
	}
	for _, c := range d.Corrections {
		if c.Field == FieldDocumentNumber {
			t.Errorf("ambiguous field was changed: %v", c)
		}
	}
	if d.DocumentNumber != "O12O45678" {
		t.Errorf("document number = %q", d.DocumentNumber)
	}
}

// withChar returns a copy of lines with one character replaced.
func withChar(lines []string, line, col int, c byte) []string {
	out := slices.Clone(lines)
	b := []byte(out[line])
	b[col] = c
	out[line] = string(b)
	return out
}
