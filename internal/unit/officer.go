package unit

import (
	"slices"
	"strings"

	"github.com/checkpoint-edge/checkpoint/config"
	"github.com/checkpoint-edge/checkpoint/lane"
	"github.com/checkpoint-edge/checkpoint/mrz"
	"github.com/checkpoint-edge/checkpoint/watchlist"
	"github.com/checkpoint-edge/checkpoint/watchlist/match"
)

// What the officer's page needs beyond the watchlist's hit: which hits are
// discreet, and how the traveller's document compares with the listed
// person field by field, so that the page can say it in words
// ("surname exact, given name exact, born same day") in the officer's
// language without parsing engineering text.

// discreetPolicy is config officer.discreet as the lane's predicate.
func discreetPolicy(d config.Discreet) func(lane.HitView) bool {
	actions, cats := slices.Clone(d.Actions), slices.Clone(d.Categories)
	return func(h lane.HitView) bool {
		return slices.Contains(actions, h.Action) || slices.Contains(cats, h.Category)
	}
}

// listedPerson is the structured listed person of a hit.
func listedPerson(p *watchlist.PersonSummary) *lane.ListedPerson {
	if p == nil {
		return nil
	}
	return &lane.ListedPerson{Surname: p.Surname, GivenNames: p.GivenNames, Birth: p.Birth, Nationality: p.Nationality,
		NationalityISO: lane.ISO2(p.Nationality), Sex: p.Sex, Aliases: p.Aliases}
}

// nameScoreHit is the name similarity a person hit needs
// (match.DefaultConfig().MinNameScore): a person hit whose main listed name
// differs from the document matched one of the person's other names.
const nameScoreHit = 0.8

// agreement compares the traveller's document with the listed person of a
// hit. nameScore is the watchlist's name field score (-1 when the hit has
// none, as for face hits).
func agreement(d *mrz.Document, l *lane.ListedPerson, nameScore float64) *lane.Agreement {
	if d == nil || l == nil {
		return nil
	}
	a := &lane.Agreement{
		Surname:     compareName(d.Surname, l.Surname),
		GivenNames:  compareName(strings.Join(d.GivenNames, " "), l.GivenNames),
		Birth:       compareBirth(d.BirthDate, l.Birth),
		Nationality: compareCode(match.NormalizeNationality(d.Nationality), match.NormalizeNationality(l.Nationality), "XXX"),
		Sex:         compareCode(strings.Trim(d.Sex, "<"), l.Sex, "X"),
	}
	if nameScore >= nameScoreHit && l.Aliases > 0 && (a.Surname == lane.AgreeDiffers || a.GivenNames == lane.AgreeDiffers) {
		a.Alias = true
	}
	return a
}

// compareName compares two names token by token after transliteration
// (match.NameTokens): the same tokens are exact; the same tokens up to
// spelling variants (LEE/YI, MOHAMED/MUHAMMAD) or merged particles
// (AL RASHID/ALRASHID) are a variant; some tokens in common is partial.
func compareName(doc, listed string) string {
	a, b := match.NameTokens(doc), match.NameTokens(listed)
	switch {
	case len(a) == 0 || len(b) == 0:
		return lane.AgreeUnknown
	case slices.Equal(a, b):
		return lane.AgreeExact
	case strings.Join(a, "") == strings.Join(b, ""):
		return lane.AgreeVariant
	}
	same := func(x, y string) bool {
		if x == y {
			return true
		}
		cx := match.VariantClass(x)
		return cx != "" && cx == match.VariantClass(y)
	}
	if len(a) == len(b) {
		all := true
		for i := range a {
			all = all && same(a[i], b[i])
		}
		if all {
			return lane.AgreeVariant
		}
	}
	for _, x := range a {
		for _, y := range b {
			if same(x, y) {
				return lane.AgreePartial
			}
		}
	}
	return lane.AgreeDiffers
}

// compareBirth compares the document's date of birth with the listed one
// ("1985", "1985-03" or "1985-03-12").
func compareBirth(d mrz.Date, listed string) string {
	l, err := match.ParseDate(listed)
	if err != nil || !l.Known() || d.Year == 0 {
		return lane.AgreeUnknown
	}
	switch {
	case d.Year == l.Year && l.Month == 0:
		return lane.AgreeSameYear
	case d.Year == l.Year && d.Month == l.Month && l.Day == 0:
		return lane.AgreeSameMonth
	case d.Year == l.Year && d.Month == l.Month && d.Day == l.Day:
		return lane.AgreeSameDay
	case d.Year == l.Year && d.Month == l.Day && d.Day == l.Month:
		return lane.AgreeClose
	}
	if digitsApart(d, l) == 1 {
		return lane.AgreeClose
	}
	return lane.AgreeDiffers
}

func digitsApart(d mrz.Date, l match.Date) int {
	a := []int{d.Year, d.Month, d.Day}
	b := []int{l.Year, l.Month, l.Day}
	widths := []int{4, 2, 2}
	n := 0
	for i := range a {
		x, y := a[i], b[i]
		for range widths[i] {
			if x%10 != y%10 {
				n++
			}
			x, y = x/10, y/10
		}
	}
	return n
}

func compareCode(a, b, unknown string) string {
	a, b = strings.ToUpper(strings.TrimSpace(a)), strings.ToUpper(strings.TrimSpace(b))
	switch {
	case a == "" || b == "" || a == unknown || b == unknown:
		return lane.AgreeUnknown
	case a == b:
		return lane.AgreeSame
	}
	return lane.AgreeDiffers
}
