package evalset

import (
	"context"
	"fmt"
	"testing"

	"github.com/checkpoint-edge/checkpoint/watchlist"
	"github.com/checkpoint-edge/checkpoint/watchlist/match"
)

func TestDebugFailures(t *testing.T) {
	s, snap := realStore(t, nil)
	byID := map[string]*watchlist.PersonAlert{}
	for i := range snap.Persons {
		byID[snap.Persons[i].ID] = &snap.Persons[i]
	}
	cases := Generate(snap.Persons, Options{Seed: 1})
	shown := map[string]int{}
	for _, c := range cases {
		hits, _ := s.ScreenPerson(context.Background(), c.Query)
		found := false
		for _, h := range hits {
			if h.Kind == watchlist.HitPerson && (!c.Positive || h.RefID == c.Want) {
				found = true
			}
		}
		if c.Positive == found || shown[c.Kind] >= 20 || (c.Kind != "translit") {
			continue
		}
		shown[c.Kind]++
		msg := fmt.Sprintf("%s %s q=%+v", c.Kind, c.Want, c.Query)
		if c.Positive {
			p := byID[c.Want]
			msg += fmt.Sprintf("\n   listed %q %q births %v nat %s", p.Name.Surname, p.Name.GivenNames, p.BirthDates(), p.Nationality)
			all, _ := s.SearchPerson(toMatch(c.Query), 50)
			for _, h := range all {
				if h.Alert.ID == c.Want {
					msg += "\n   " + h.Score.Explanation
				}
			}
		} else {
			for _, h := range hits {
				msg += "\n   " + h.RefID + " " + h.Explanation
			}
		}
		t.Log(msg)
	}
}

type matchQuery = match.PersonQuery

func toMatch(q watchlist.PersonQuery) matchQuery {
	m, _ := q.MatchQuery()
	return m
}
