package match

import (
	"slices"
	"testing"
)

func TestArabicRomanisation(t *testing.T) {
	cases := []struct {
		in    string
		forms []string // TransliterateVariants, in order
	}{
		{"محمد", []string{"MOHAMMED", "MHMD"}},
		{"صدام حسين التكريتي", []string{"SADDAM HUSSEIN ALTKRITI", "SDAM HSIN ALTKRITI"}},
		{"عبدالرحيم", []string{"ABDULRHIM", "ABDALRHIM"}},
		{"عواد", []string{"AWAD"}},
		{"الوليد", []string{"ALWALID", "ALULID"}},
		{"Иванов", []string{"IVANOV"}},
	}
	for _, tc := range cases {
		if got := TransliterateVariants(tc.in); !slices.Equal(got, tc.forms) {
			t.Errorf("TransliterateVariants(%q) = %q, want %q", tc.in, got, tc.forms)
		}
	}
	// A listed Arabic-script name is found from a Latin MRZ: through the
	// common romanisation, and through the consonant skeleton of an
	// unvocalised one.
	q := PersonQuery{Surname: "AL AZZAWI", GivenNames: []string{"HIKMAT", "MIZBAN", "IBRAHIM"}, Birth: Date{1934, 5, 5}}
	r := PersonRecord{Names: []FullName{{Surname: "العزاوي", GivenNames: []string{"حكمت", "مزبان", "إبراهيم"}, Kind: NameKindOriginal}}, Birth: Date{1934, 0, 0}}
	if got := ScorePerson(q, r, DefaultConfig()); got.Level == "" {
		t.Fatalf("Arabic-script listed name not matched: %s", got.Explanation)
	}
}

func TestPhoneticFrenchAndSkeletons(t *testing.T) {
	for _, p := range [][2]string{{"OUALID", "WALID"}, {"SABAOUI", "SABAWI"}, {"OUSSAMA", "USAMA"}, {"CHERIF", "SHERIF"}} {
		if Phonetic(p[0]) != Phonetic(p[1]) {
			t.Errorf("Phonetic %s %q vs %s %q", p[0], Phonetic(p[0]), p[1], Phonetic(p[1]))
		}
	}
	for _, p := range [][2]string{{"ELIACHI", "ALYASHI"}, {"BOUIHI", "BUYHI"}, {"HSN", "HASSAN"}, {"CHFIK", "SHAFIQ"}} {
		if looseSkeleton(p[0]) != looseSkeleton(p[1]) {
			t.Errorf("looseSkeleton %s %q vs %s %q", p[0], looseSkeleton(p[0]), p[1], looseSkeleton(p[1]))
		}
	}
	for _, w := range []string{"HSN", "MHMD", "FLIH", "MHMUD"} {
		if !vowelPoor(w) {
			t.Errorf("%s should read as unvocalised", w)
		}
	}
	for _, w := range []string{"CHUN", "JOHN", "MARK", "HAMD", "ALI"} {
		if vowelPoor(w) {
			t.Errorf("%s should not read as unvocalised", w)
		}
	}
	// Names the class table tells apart stay apart however they sound.
	cfg := DefaultConfig()
	for _, p := range [][2]string{{"HASSAN", "HUSSEIN"}, {"MOHAMMED", "MAHMOUD"}, {"ABDUL", "ABDULLAH"}, {"AMIR", "SAMIRA"}, {"MOHAMMADREZA", "MOHAMMED"}} {
		a, b := newTok(p[0], false, &cfg), newTok(p[1], false, &cfg)
		if s, why := tokenSim(&a, &b, false); s >= simMatched {
			t.Errorf("%s ~ %s: %.2f %s", p[0], p[1], s, why)
		}
	}
}
