package unit

import (
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/config"
	"github.com/checkpoint-edge/checkpoint/lane"
	"github.com/checkpoint-edge/checkpoint/mrz"
	"github.com/checkpoint-edge/checkpoint/watchlist"
	"github.com/checkpoint-edge/checkpoint/watchlist/match"
)

func TestCompareName(t *testing.T) {
	for _, tc := range []struct{ doc, listed, want string }{
		{"NOVAK", "Novák", lane.AgreeExact},
		{"TOMAS", "Tomáš", lane.AgreeExact},
		{"AL RASHID", "Alrashid", lane.AgreeVariant},
		{"MUHAMMAD", "Mohamed", lane.AgreeVariant},
		{"YI", "Lee", lane.AgreeVariant},
		{"JIWOO", "Ji-woo", lane.AgreeVariant},
		{"ANNA MARIA", "Anna", lane.AgreePartial},
		{"PARK", "Kim", lane.AgreeDiffers},
		{"", "Kim", lane.AgreeUnknown},
		{"KIM", "", lane.AgreeUnknown},
	} {
		if got := compareName(tc.doc, tc.listed); got != tc.want {
			t.Errorf("compareName(%q, %q) = %s, want %s", tc.doc, tc.listed, got, tc.want)
		}
	}
}

func TestCompareBirth(t *testing.T) {
	d := mrz.Date{Year: 1985, Month: 3, Day: 12}
	for _, tc := range []struct{ listed, want string }{
		{"1985-03-12", lane.AgreeSameDay},
		{"1985-03", lane.AgreeSameMonth},
		{"1985", lane.AgreeSameYear},
		{"1985-12-03", lane.AgreeClose}, // day and month swapped
		{"1986-03-12", lane.AgreeClose}, // one digit
		{"1979-07-01", lane.AgreeDiffers},
		{"", lane.AgreeUnknown},
		{"not a date", lane.AgreeUnknown},
	} {
		if got := compareBirth(d, tc.listed); got != tc.want {
			t.Errorf("compareBirth(1985-03-12, %q) = %s, want %s", tc.listed, got, tc.want)
		}
	}
	if got := compareBirth(mrz.Date{}, "1985"); got != lane.AgreeUnknown {
		t.Errorf("unknown document date: %s", got)
	}
}

// TestHitViewWords: the hit the officer's page words: the listed person
// as fields, the traveller's agreement with it, a name matched through an
// alias said as such.
func TestHitViewWords(t *testing.T) {
	lines, err := mrz.Generate(mrz.Spec{Format: mrz.FormatTD3, DocumentCode: "P", IssuingState: "CZE", Surname: "NOVÁK", GivenNames: []string{"TOMÁŠ"},
		DocumentNumber: "99009254", Nationality: "CZE", BirthDate: mustDate(1985, 3, 12), ExpiryDate: mustDate(2031, 1, 1), Sex: "M"})
	if err != nil {
		t.Fatal(err)
	}
	doc := mrz.Parse(lines, mrz.Options{})
	h := watchlist.Hit{Kind: watchlist.HitPerson, RefID: "P1", Action: "arrest", Score: .97, Strength: "strong",
		Fields: nil, Person: &watchlist.PersonSummary{DisplayName: "Novák, Tomáš", Surname: "Novák", GivenNames: "Tomáš", Birth: "1985-03-12", Nationality: "CZE", Sex: "M"}}
	v := hitView(h, doc)
	if v.Listed == nil || v.Listed.Surname != "Novák" || v.Listed.NationalityISO != "CZ" {
		t.Fatalf("listed %+v", v.Listed)
	}
	want := lane.Agreement{Surname: lane.AgreeExact, GivenNames: lane.AgreeExact, Birth: lane.AgreeSameDay, Nationality: lane.AgreeSame, Sex: lane.AgreeSame}
	if *v.Agreement != want {
		t.Fatalf("agreement %+v, want %+v", *v.Agreement, want)
	}
	// Matched under an alias: the main listed name differs.
	h.Person = &watchlist.PersonSummary{Surname: "Dvořák", GivenNames: "Jan", Birth: "1985", Nationality: "SVK", Aliases: 2}
	h.Fields = nil
	v = hitView(h, doc)
	if v.Agreement.Alias {
		t.Fatal("alias without a name score")
	}
	h.Fields = append(h.Fields, nameField(0.95))
	v = hitView(h, doc)
	if !v.Agreement.Alias || v.Agreement.Surname != lane.AgreeDiffers || v.Agreement.Birth != lane.AgreeSameYear || v.Agreement.Nationality != lane.AgreeDiffers {
		t.Fatalf("alias agreement %+v", *v.Agreement)
	}
}

func TestDiscreetPolicy(t *testing.T) {
	p := discreetPolicy(config.Discreet{Actions: []string{"discreet_check"}, Categories: []string{"foreign_terrorist_fighter"}})
	for _, tc := range []struct {
		h    lane.HitView
		want bool
	}{
		{lane.HitView{Action: "discreet_check", Category: "wanted"}, true},
		{lane.HitView{Action: "arrest", Category: "foreign_terrorist_fighter"}, true},
		{lane.HitView{Action: "arrest", Category: "wanted"}, false},
	} {
		if got := p(tc.h); got != tc.want {
			t.Errorf("discreet(%+v) = %v", tc.h, got)
		}
	}
}

func mustDate(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }

func nameField(score float64) match.FieldScore {
	return match.FieldScore{Field: "name", Score: score, Weight: 0.6}
}
