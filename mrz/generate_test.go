package mrz

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func day(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }

func TestGenerateSpecimens(t *testing.T) {
	anna := Spec{IssuingState: "UTO", Surname: "Eriksson", GivenNames: []string{"Anna", "María"}, Nationality: "UTO",
		BirthDate: day(1974, 8, 12), ExpiryDate: day(2012, 4, 15), Sex: "F"}
	visa := anna
	visa.Nationality, visa.BirthDate, visa.ExpiryDate = "XXX", day(1940, 9, 7), day(1996, 12, 10)
	tests := []struct {
		name string
		spec Spec
		want []string
	}{
		{"TD3", with(anna, FormatTD3, "L898902C3", "ZE184226B"), specTD3},
		{"TD1", with(anna, FormatTD1, "D23145890", ""), specTD1},
		{"TD1 long", with(anna, FormatTD1, "D23145890734", ""), specTD1Long},
		{"TD2", with(anna, FormatTD2, "D23145890", ""), specTD2},
		{"MRV-A", with(visa, FormatMRVA, "L8988901C", "6ZE184226B"), specMRVA},
		{"MRV-B", with(visa, FormatMRVB, "L8988901C", ""), specMRVB},
	}
	for _, tt := range tests {
		got, err := Generate(tt.spec)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
}

func with(s Spec, f Format, number, opt string) Spec {
	s.Format, s.DocumentNumber, s.OptionalData = f, number, opt
	return s
}

func TestGenerateErrors(t *testing.T) {
	base := Spec{Format: FormatTD3, IssuingState: "UTO", Nationality: "UTO", Surname: "A", DocumentNumber: "X1", BirthDate: day(1980, 1, 1), ExpiryDate: day(2030, 1, 1)}
	tests := []struct {
		name   string
		mutate func(*Spec)
		err    error
	}{
		{"unknown format", func(s *Spec) { s.Format = "TD9" }, ErrFormat},
		{"long number in TD3", func(s *Spec) { s.DocumentNumber = "ABCDEFGHIJ" }, ErrFieldTooLong},
		{"bad number", func(s *Spec) { s.DocumentNumber = "AB-12" }, ErrInvalidValue},
		{"bad sex", func(s *Spec) { s.Sex = "Q" }, ErrInvalidValue},
		{"bad state", func(s *Spec) { s.IssuingState = "U1O" }, ErrInvalidValue},
		{"visa code in TD3", func(s *Spec) { s.DocumentCode = "V" }, ErrInvalidValue},
		{"optional data too long", func(s *Spec) { s.OptionalData = "123456789012345" }, ErrFieldTooLong},
		{"long number plus optional data too long for TD2", func(s *Spec) {
			s.Format, s.DocumentNumber, s.OptionalData = FormatTD2, "ABCDEFGHIJKL", "12345"
		}, ErrFieldTooLong},
	}
	for _, tt := range tests {
		s := base
		tt.mutate(&s)
		if _, err := Generate(s); !errors.Is(err, tt.err) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.err)
		}
	}
}

// Every generated document parses valid and gives back what went in.
func TestGenerateRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, f := range []Format{FormatTD1, FormatTD2, FormatTD3, FormatMRVA, FormatMRVB} {
		longs := 0
		for i := 0; i < 200; i++ {
			s := Random(r, f, now)
			lines, err := Generate(s)
			if err != nil {
				t.Fatalf("%s: %v (%+v)", f, err, s)
			}
			d := Parse(lines, Options{Now: now})
			if !d.Valid || d.Format != f {
				t.Fatalf("%s: generated MRZ invalid: %q %+v", f, lines, d.Problems)
			}
			if d.DocumentNumber != s.DocumentNumber {
				t.Fatalf("%s: number %q, want %q", f, d.DocumentNumber, s.DocumentNumber)
			}
			if d.BirthDate.String() != s.BirthDate.Format("2006-01-02") || d.ExpiryDate.String() != s.ExpiryDate.Format("2006-01-02") {
				t.Fatalf("%s: dates %v %v, want %v %v", f, d.BirthDate, d.ExpiryDate, s.BirthDate, s.ExpiryDate)
			}
			want, _ := NameField(s.Surname, s.GivenNames, 30)
			if d.Surname == "" || want[:len(trimFiller(want))] == "" {
				t.Fatalf("%s: empty surname", f)
			}
			if d.LongNumber {
				longs++
			}
		}
		if (f == FormatTD1 || f == FormatTD2) && longs == 0 {
			t.Errorf("%s: Random produced no long document numbers", f)
		}
	}
}
