package match

import (
	"slices"
	"strings"
	"testing"
)

func shared(a, b []string) []string {
	var out []string
	for _, k := range a {
		if slices.Contains(b, k) {
			out = append(out, k)
		}
	}
	return out
}

// TestCandidateRecall checks that a query meets the listed name in the
// blind index: at least one key in common, for every kind of difference the
// scorer tolerates.
func TestCandidateRecall(t *testing.T) {
	cases := []struct {
		name   string
		record FullName
		q      PersonQuery
	}{
		{"exact", FullName{Surname: "GAGARIN", GivenNames: []string{"YURIY"}}, PersonQuery{Surname: "GAGARIN", GivenNames: []string{"YURIY"}}},
		{"typo in only token", FullName{Surname: "KOWALCZYK", GivenNames: nil}, PersonQuery{Surname: "KOWALCZIK"}},
		{"transposition in only token", FullName{Surname: "KOWALCZYK", GivenNames: nil}, PersonQuery{Surname: "KOWLACZYK"}},
		{"transliteration YURIY/IURII only", FullName{Surname: "", GivenNames: []string{"YURIY"}}, PersonQuery{GivenNames: []string{"IURII"}}},
		{"transliteration MUELLER/MULLER", FullName{Surname: "MUELLER", GivenNames: nil}, PersonQuery{Surname: "MULLER"}},
		{"transliteration SHEVCHENKO/CHEVTCHENKO", FullName{Surname: "SHEVCHENKO", GivenNames: nil}, PersonQuery{Surname: "CHEVTCHENKO"}},
		{"transliteration KHALIL/HALIL", FullName{Surname: "KHALIL", GivenNames: nil}, PersonQuery{Surname: "HALIL"}},
		{"variant class MEHMET/MOHAMMED", FullName{Surname: "", GivenNames: []string{"MOHAMMED"}}, PersonQuery{GivenNames: []string{"MEHMET"}}},
		{"variant class OLEKSANDR/ALEXANDER", FullName{Surname: "", GivenNames: []string{"OLEKSANDR"}}, PersonQuery{GivenNames: []string{"ALEXANDER"}}},
		{"variant class ZHOU/CHOW", FullName{Surname: "ZHOU", GivenNames: nil}, PersonQuery{Surname: "CHOW"}},
		{"variant class LEE/RHEE", FullName{Surname: "LEE", GivenNames: nil}, PersonQuery{Surname: "RHEE"}},
		{"swapped order", FullName{Surname: "GAGARIN", GivenNames: []string{"YURIY"}}, PersonQuery{Surname: "YURIY", GivenNames: []string{"GAGARIN"}}},
		{"truncated token", FullName{Surname: "", GivenNames: []string{"MAXIMILIAN"}}, PersonQuery{GivenNames: []string{"MAXIM"}, NameTruncated: true}},
		{"merged tokens", FullName{Surname: "", GivenNames: []string{"ABDUL", "RAHMAN"}}, PersonQuery{GivenNames: []string{"ABDULRAHMAN"}}},
		{"split token", FullName{Surname: "", GivenNames: []string{"ABDULRAHMAN"}}, PersonQuery{GivenNames: []string{"ABDUL", "RAHMAN"}}},
		{"attached particle", FullName{Surname: "ALRASHID", GivenNames: nil}, PersonQuery{Surname: "RASHID"}},
		{"separate particle", FullName{Surname: "AL RASHID", GivenNames: nil}, PersonQuery{Surname: "ELRASHID"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ik, qk := IndexKeys(tc.record), QueryKeys(tc.q)
			if s := shared(ik, qk); len(s) == 0 {
				t.Fatalf("no shared key:\n index %v\n query %v", ik, qk)
			}
		})
	}
}

// TestCandidateRecallAllEdits applies every single-letter edit
// (substitution, insertion, deletion, transposition) to tokens of 4 letters
// or more: each edited token alone must still share a key with the original.
func TestCandidateRecallAllEdits(t *testing.T) {
	words := []string{"GAGARIN", "KOWALCZYK", "MOHAMMED", "ALEXANDER", "SCHMIDT", "VANDENBERGHE",
		"ODUYA", "HADDAD", "KARIM", "ZHOU", "NGUYEN", "ABDULRAHMAN", "SHEVCHENKO", "OKONKWO", "XAVIER", "AAAA"}
	edits := 0
	for _, w := range words {
		idx := IndexKeys(FullName{Surname: w})
		for _, e := range singleEdits(w) {
			edits++
			if len(shared(idx, QueryKeys(PersonQuery{Surname: e}))) == 0 {
				t.Errorf("%s -> %s: no shared key", w, e)
			}
		}
	}
	t.Logf("%d edits checked", edits)
}

func singleEdits(w string) []string {
	var out []string
	for i := 0; i <= len(w); i++ {
		for c := byte('A'); c <= 'Z'; c++ {
			out = append(out, w[:i]+string(c)+w[i:])
			if i < len(w) {
				out = append(out, w[:i]+string(c)+w[i+1:])
			}
		}
		if i < len(w) {
			out = append(out, w[:i]+w[i+1:])
		}
		if i+1 < len(w) {
			out = append(out, w[:i]+string(w[i+1])+string(w[i])+w[i+2:])
		}
	}
	return out
}

func TestKeysShape(t *testing.T) {
	keys := IndexKeys(FullName{Surname: "AL RASHID", GivenNames: []string{"MUHAMMAD", "A"}})
	if !slices.IsSorted(keys) || len(slices.Compact(slices.Clone(keys))) != len(keys) {
		t.Fatalf("keys not sorted and unique: %v", keys)
	}
	for _, want := range []string{"t:RASHID", "t:ALRASHID", "v:MOHAMMED", "p:MMT", "f:MUHAM", "f:RASHI"} {
		if !slices.Contains(keys, want) {
			t.Errorf("missing %s in %v", want, keys)
		}
	}
	for _, k := range keys {
		if k == "t:AL" || k == "t:A" || strings.HasPrefix(k, "p:A") && len(k) <= 3 {
			t.Errorf("particle or initial produced key %s", k)
		}
	}
	if got := QueryKeys(PersonQuery{}); len(got) != 0 {
		t.Errorf("empty query gave keys %v", got)
	}
	if got := BirthYearKey(Date{1980, 3, 0}); got != "y:1980" {
		t.Errorf("BirthYearKey = %q", got)
	}
	if got := BirthYearKey(Date{}); got != "" {
		t.Errorf("BirthYearKey(unknown) = %q", got)
	}
}

// TestCommonNamesStaySelective guards the index against keys that would
// make every record a candidate: two unrelated names share no key.
func TestCommonNamesStaySelective(t *testing.T) {
	pairs := [][2]FullName{
		{{Surname: "GAGARIN", GivenNames: []string{"YURIY"}}, {Surname: "KOWALCZYK", GivenNames: []string{"ZBIGNIEW"}}},
		{{Surname: "SMITH", GivenNames: []string{"JOHN"}}, {Surname: "ODUYA", GivenNames: []string{"CHIDINMA"}}},
		{{Surname: "WANG", GivenNames: []string{"LI"}}, {Surname: "NGUYEN", GivenNames: []string{"VAN", "AN"}}},
	}
	for _, p := range pairs {
		q := PersonQuery{Surname: p[1].Surname, GivenNames: p[1].GivenNames}
		if s := shared(IndexKeys(p[0]), QueryKeys(q)); len(s) > 0 {
			t.Errorf("%v and %v share %v", p[0], p[1], s)
		}
	}
}
