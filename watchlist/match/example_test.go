package match_test

import (
	"fmt"

	"github.com/checkpoint-edge/checkpoint/watchlist/match"
)

func ExampleScorePerson() {
	listed := match.PersonRecord{
		Names: []match.FullName{
			match.ParseMRZName("HADDAD<<MUHAMMAD<KARIM"),
		},
		Birth:       match.Date{Year: 1980, Month: 3, Day: 12},
		Nationality: "LBN",
		Sex:         "M",
	}
	traveller := match.PersonQuery{
		Surname:     "HADDAD",
		GivenNames:  []string{"MOHAMED", "KARIM"},
		Birth:       match.Date{Year: 1980, Month: 12, Day: 3},
		Nationality: "LBN",
		Sex:         "M",
	}
	s := match.ScorePerson(traveller, listed, match.DefaultConfig())
	fmt.Printf("hit=%v strength=%s score=%.2f\n", s.Hit, s.Strength, s.Score)
	for _, f := range s.Fields {
		fmt.Printf("%s %.2f: %s\n", f.Field, f.Score, f.Detail)
	}
	// Output:
	// hit=true strength=strong score=0.96
	// name 0.99: surname HADDAD = HADDAD; given name MOHAMED ~ MUHAMMAD: name-variant class; given name KARIM = KARIM
	// dob 0.85: DOB 1980-12-03 vs 1980-03-12: day/month swapped
	// nationality 1.00: nationality LBN agrees
	// sex 1.00: sex agrees
}
