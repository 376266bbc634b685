package demo

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/mrz"
	"github.com/checkpoint-edge/checkpoint/vision"
	"github.com/checkpoint-edge/checkpoint/watchlist/match"
)

// eastAsian are the nationalities that fit the faces of the photo set.
var eastAsian = []string{"KOR", "CHN", "JPN", "TWN"}

// TestIdentitiesFitTheFaces: every person of the shared photo set travels
// on a made-up document that fits their face: an East Asian name and
// nationality, their sex (the set's two men are jimin and eunwoo, see
// labels.csv), an age in the twenties.
func TestIdentitiesFitTheFaces(t *testing.T) {
	people := slices.Sorted(func(yield func(string) bool) {
		for p := range subjectIdentities {
			if !yield(p) {
				return
			}
		}
	})
	if dir, err := vision.FindFaces(); err == nil {
		labels, err := vision.ReadLabels(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range labels {
			if l.Person != "group" && !slices.Contains(people, l.Person) {
				t.Errorf("%s of labels.csv has no identity", l.Person)
			}
		}
	}
	men := map[string]bool{"jimin": true, "eunwoo": true}
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	r := rand.New(rand.NewPCG(1, 2))
	for _, p := range people {
		id := subjectIdentities[p]
		if want := map[bool]string{true: "M", false: "F"}[men[p]]; id.Sex != want {
			t.Errorf("%s travels as sex %s, the photos show %s", p, id.Sex, want)
		}
		if !slices.Contains(eastAsian, id.Nationality) {
			t.Errorf("%s travels as a national of %s", p, id.Nationality)
		}
		if strings.EqualFold(id.Given, p) {
			t.Errorf("%s travels under their own name", p)
		}
		for range 200 {
			d := newDocument(r, id, now)
			age := now.Year() - d.Birth.Year()
			if now.YearDay() < d.Birth.YearDay() {
				age--
			}
			if age < 21 || age > 29 {
				t.Fatalf("%s is %d on %s (born %s)", p, age, now.Format("2006-01-02"), d.Birth.Format("2006-01-02"))
			}
			lines, err := d.lines()
			if err != nil || !mrz.Parse(lines, mrz.Options{Now: now}).Valid {
				t.Fatalf("%s: MRZ %v %v", p, lines, err)
			}
		}
	}
	for _, id := range names {
		if !slices.Contains(eastAsian, id.Nationality) || (id.Sex != "M" && id.Sex != "F") {
			t.Errorf("pool identity %+v does not fit the photo set", id)
		}
	}
	ids := pickIdentities(r, 3, func(i int) string { return []string{"jimin", "someone-new", "tzuyu"}[i] })
	if ids[0] != subjectIdentities["jimin"] || ids[2] != subjectIdentities["tzuyu"] || !slices.Contains(names, ids[1]) {
		t.Errorf("pickIdentities %+v", ids)
	}
}

// TestAliasIsAHit: the traveller listed under another spelling is a
// person hit for the real matcher (same given name and date of birth,
// the surname in a variant spelling), whatever their nationality.
func TestAliasIsAHit(t *testing.T) {
	birth := match.Date{Year: 2001, Month: 4, Day: 9}
	for _, p := range []string{"bona", "elkie", "nana", "tzuyu", "eunwoo"} {
		passport, listed := aliasOf(subjectIdentities[p])
		if passport.Surname == listed.Surname || passport.Given != listed.Given || passport.Sex != listed.Sex {
			t.Fatalf("%s: alias %+v / %+v", p, passport, listed)
		}
		c := match.VariantClass(strings.ToUpper(passport.Surname))
		if c == "" || c != match.VariantClass(strings.ToUpper(listed.Surname)) {
			t.Errorf("%s: %s and %s are not spellings of one name", p, passport.Surname, listed.Surname)
		}
		q := match.PersonQuery{Surname: strings.ToUpper(passport.Surname), GivenNames: []string{strings.ToUpper(passport.Given)},
			Birth: birth, Nationality: passport.Nationality, Sex: passport.Sex}
		rec := match.PersonRecord{Names: []match.FullName{{Surname: listed.Surname, GivenNames: strings.Fields(listed.Given)}},
			Birth: birth, Nationality: listed.Nationality, Sex: listed.Sex}
		if s := match.ScorePerson(q, rec, match.DefaultConfig()); !s.Hit {
			t.Errorf("%s: %s %s listed as %s: no hit (%s)", p, passport.Surname, passport.Given, listed.Surname, s.Explanation)
		}
	}
}

func TestOtherIdentity(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for p, id := range subjectIdentities {
		for range 20 {
			o := otherIdentity(r, id)
			if o.Sex != id.Sex || o.Nationality == id.Nationality {
				t.Fatalf("%s (%+v) listed as %+v", p, id, o)
			}
		}
	}
}
