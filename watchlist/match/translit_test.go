package match

import (
	"slices"
	"testing"
)

// TestTransliteratedRecords: watchlist names in their original script
// meet travellers whose MRZ carries one of several transliterations.
func TestTransliteratedRecords(t *testing.T) {
	gagarin := PersonRecord{
		Names: Variants(FullName{Surname: "ГАГАРИН", GivenNames: []string{"ЮРИЙ"}}),
		Birth: Date{1934, 3, 9}, Nationality: "RUS", Sex: "M",
	}
	mueller := PersonRecord{
		Names: Variants(FullName{Surname: "MÜLLER", GivenNames: []string{"JÜRGEN"}}),
		Birth: Date{1970, 1, 2}, Nationality: "DEU", Sex: "M",
	}
	cases := []struct {
		name string
		q    PersonQuery
		r    PersonRecord
	}{
		{"Cyrillic vs recommended IURII", query("GAGARIN<<IURII", Date{1934, 3, 9}, "RUS", "M"), gagarin},
		{"Cyrillic vs common YURIY", query("GAGARIN<<YURIY", Date{1934, 3, 9}, "RUS", "M"), gagarin},
		{"Cyrillic vs swapped YURIY", query("YURIY<<GAGARIN", Date{1934, 3, 9}, "RUS", "M"), gagarin},
		{"umlaut vs MUELLER", query("MUELLER<<JUERGEN", Date{1970, 1, 2}, "D", "M"), mueller},
		{"umlaut vs MULLER", query("MULLER<<JURGEN", Date{1970, 1, 2}, "D", "M"), mueller},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := ScorePerson(tc.q, tc.r, DefaultConfig())
			t.Log(s.Explanation)
			if !s.Hit || s.Score < 0.85 {
				t.Errorf("want a hit with score >= 0.85, got hit=%v score=%.2f", s.Hit, s.Score)
			}
			var keys []string
			for _, n := range tc.r.Names {
				keys = append(keys, IndexKeys(n)...)
			}
			if len(shared(keys, QueryKeys(tc.q))) == 0 {
				t.Errorf("no shared candidate key")
			}
		})
	}
}

func TestVariants(t *testing.T) {
	ascii := FullName{Surname: "GAGARIN", GivenNames: []string{"YURIY"}}
	if got := Variants(ascii); len(got) != 1 || got[0].String() != ascii.String() {
		t.Errorf("Variants(%v) = %v", ascii, got)
	}
	got := Variants(FullName{Surname: "MÜLLER", GivenNames: []string{"JÜRGEN"}})
	var s []string
	for _, v := range got {
		s = append(s, v.String())
	}
	if len(got) == 0 || len(got) > maxVariants || s[0] != "MUELLER, JUERGEN" {
		t.Errorf("Variants(MÜLLER JÜRGEN) = %q, want MUELLER, JUERGEN first", s)
	}
	if !slices.Contains(s, "MULLER, JURGEN") {
		t.Errorf("Variants(MÜLLER JÜRGEN) = %q lacks the alternative MULLER, JURGEN", s)
	}
}
