package mrz

import (
	"os"
	"strings"
	"testing"
)

// TestSpecimenFile parses every specimen in testdata: each must be valid,
// of the stated format, and regenerate byte for byte from its own fields.
func TestSpecimenFile(t *testing.T) {
	b, err := os.ReadFile("testdata/icao_specimens.txt")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, block := range strings.Split(string(b), "\n\n") {
		var lines []string
		for _, l := range strings.Split(block, "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				lines = append(lines, l)
			}
		}
		if len(lines) == 0 {
			continue
		}
		n++
		format, mrzLines := Format(lines[0]), lines[1:]
		d := Parse(mrzLines, Options{Now: now})
		if !d.Valid || d.Format != format {
			t.Errorf("%s specimen: format %q valid %v problems %+v", format, d.Format, d.Valid, d.Problems)
			continue
		}
		for _, f := range d.Fields {
			if !f.Valid || f.Check == CheckBad || f.Check == CheckInvalid {
				t.Errorf("%s specimen: field %+v", format, f)
			}
		}
		spec := Spec{Format: d.Format, DocumentCode: d.DocumentCode, IssuingState: d.IssuingState, Surname: d.Surname,
			GivenNames: d.GivenNames, DocumentNumber: d.DocumentNumber, Nationality: d.Nationality, Sex: d.Sex,
			BirthDate: day(d.BirthDate.Year, d.BirthDate.Month, d.BirthDate.Day), ExpiryDate: day(d.ExpiryDate.Year, d.ExpiryDate.Month, d.ExpiryDate.Day),
			OptionalData: d.OptionalData}
		got, err := Generate(spec)
		if err != nil {
			t.Errorf("%s specimen: regenerate: %v", format, err)
			continue
		}
		if strings.Join(got, "\n") != strings.Join(mrzLines, "\n") {
			t.Errorf("%s specimen regenerates as\n%s\nwant\n%s", format, strings.Join(got, "\n"), strings.Join(mrzLines, "\n"))
		}
	}
	if n != 6 {
		t.Fatalf("%d specimens read, want 6", n)
	}
}
