package mrz

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary line sets (joined with '\n') to Parse, with and
// without Autocorrect, and checks the invariants every caller relies on.
func FuzzParse(f *testing.F) {
	for _, tt := range parseTests {
		f.Add(strings.Join(tt.lines, "\n"), false)
	}
	for _, tt := range autocorrectTests {
		f.Add(strings.Join(tt.lines, "\n"), true)
	}
	for _, tt := range realCardCases {
		f.Add(strings.Join(tt.lines, "\n"), false)
		f.Add(strings.Join(tt.lines, "\n"), true)
	}
	f.Fuzz(func(t *testing.T, s string, auto bool) {
		lines := strings.Split(s, "\n")
		d := Parse(lines, Options{Now: now, Autocorrect: auto})
		hasErr := false
		for _, p := range d.Problems {
			hasErr = hasErr || p.Severity == SeverityError
			if p.Code == "" || p.Message == "" {
				t.Fatalf("empty problem %+v", p)
			}
		}
		if hasErr == d.Valid {
			t.Fatalf("valid=%v with error problems=%v", d.Valid, hasErr)
		}
		if _, err := json.Marshal(d); err != nil {
			t.Fatal(err)
		}
		if !auto && len(d.Corrections) != 0 {
			t.Fatal("corrections without Autocorrect")
		}
		if len(d.Corrections) > 0 {
			for _, c := range d.Corrections {
				if d.Lines[c.Line-1][c.Column-1:c.Column] != c.To || d.InputLines[c.Line-1][c.Column-1:c.Column] != c.From {
					t.Fatalf("correction %v does not match the lines", c)
				}
			}
			// The repaired lines parse the same without repair.
			again := Parse(d.Lines, Options{Now: now})
			if again.Valid != d.Valid || again.DocumentNumber != d.DocumentNumber {
				t.Fatalf("repaired lines reparse differently: %v vs %v", again.Valid, d.Valid)
			}
		} else if d.Format != FormatUnknown && len(lines) > 1 && !slices.Equal(d.Lines, lines) {
			t.Fatal("lines changed without corrections")
		}
		if d.Valid {
			// A valid MRZ regenerates to itself when it uses no fields
			// Generate cannot express; at least the number and dates
			// must be sane.
			// (The pre-2021 French card has no expiry date.)
			if d.DocumentNumber == "" || !d.BirthDate.Valid || (!d.ExpiryDate.Valid && d.Format != FormatFRCNI) {
				t.Fatalf("valid document with missing parts: %+v", d)
			}
		}
	})
}

func FuzzParseText(f *testing.F) {
	for _, tt := range parseTests {
		f.Add(strings.Join(tt.lines, "\r\n"))
	}
	f.Fuzz(func(t *testing.T, s string) {
		d := ParseText(s, Options{Autocorrect: true, Now: now})
		if d == nil {
			t.Fatal("nil document")
		}
	})
}

func FuzzTransliterate(f *testing.F) {
	f.Add("Müller-Lüdenscheidt")
	f.Add("Юрий Гагарин")
	f.Add("Ψυχή Χάος")
	f.Add("d'Artagnan, Charles")
	f.Fuzz(func(t *testing.T, s string) {
		for _, v := range TransliterateVariants(s) {
			if strings.HasPrefix(v, " ") || strings.HasSuffix(v, " ") || strings.Contains(v, "  ") {
				t.Fatalf("bad spacing in %q", v)
			}
			for i := 0; i < len(v); i++ {
				if (v[i] < 'A' || v[i] > 'Z') && v[i] != ' ' {
					t.Fatalf("non-MRZ character in %q", v)
				}
			}
		}
		if TransliterateVariants(s)[0] != Transliterate(s) {
			t.Fatal("first variant is not the recommended form")
		}
	})
}

// FuzzGenerate checks that whatever Generate accepts parses valid and
// gives back the document number.
func FuzzGenerate(f *testing.F) {
	f.Add(uint8(0), "Eriksson", "Anna Maria", "L898902C3", "UTO", "D", "ZE184226B", int64(143000000), int64(1334448000), "F")
	f.Add(uint8(1), "van der Berg", "", "D23145890734", "UTO", "XXA", "", int64(0), int64(0), "")
	f.Fuzz(func(t *testing.T, fi uint8, surname, given, number, state, nat, opt string, birth, expiry int64, sex string) {
		formats := []Format{FormatTD1, FormatTD2, FormatTD3, FormatMRVA, FormatMRVB}
		s := Spec{Format: formats[int(fi)%len(formats)], IssuingState: state, Nationality: nat, Surname: surname,
			GivenNames: strings.Fields(given), DocumentNumber: number, OptionalData: opt, Sex: sex}
		// Keep dates within a century of now so century inference can
		// recover them.
		if birth != 0 {
			s.BirthDate = now.AddDate(0, 0, -int(uint64(birth)%36000))
		}
		if expiry != 0 {
			s.ExpiryDate = now.AddDate(0, 0, int(uint64(expiry)%7000)-3000)
		}
		lines, err := Generate(s)
		if err != nil {
			return
		}
		d := Parse(lines, Options{Now: now})
		if !d.HasProblem(ProblemCheckDigit) && !d.HasProblem(ProblemComposite) && !d.HasProblem(ProblemLineLength) &&
			d.DocumentNumber == strings.ToUpper(strings.ReplaceAll(number, " ", "")) {
			return
		}
		t.Fatalf("generated %q parses with problems %+v (number %q)", lines, d.Problems, d.DocumentNumber)
	})
}
