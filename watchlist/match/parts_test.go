package match

import (
	"errors"
	"slices"
	"testing"
)

func TestTables(t *testing.T) {
	if tableErr != nil {
		t.Fatal(tableErr)
	}
	if len(classOf) < 300 {
		t.Errorf("only %d tokens in variant classes", len(classOf))
	}
	bad := []struct{ variants, common string }{
		{"ALI ALY\nALY ELI\n", ""},   // token in two classes
		{"ALI Aly\n", ""},            // not A-Z
		{"ALI ALY\n", "2 ALI\n"},     // frequency out of range
		{"ALI ALY\n", "x ALI\n"},     // not a number
		{"ALI ALY\n", "0.1 ALI-B\n"}, // not A-Z
	}
	for _, b := range bad {
		if _, _, err := parseTables(b.variants, b.common); err == nil {
			t.Errorf("parseTables(%q, %q) accepted bad input", b.variants, b.common)
		}
	}
	// Class members share the class's frequency.
	if commonFreq[classKey("MUHAMMAD")] < 0.01 {
		t.Error("MUHAMMAD not common through its class")
	}
}

var nameTokenCases = []struct {
	in   string
	want []string
}{
	{"GAGARIN", []string{"GAGARIN"}},
	{"gagarin  yuriy", []string{"GAGARIN", "YURIY"}},
	{"GAGARIN<<YURIY<ALEKSEYEVICH<<<<<", []string{"GAGARIN", "YURIY", "ALEKSEYEVICH"}},
	{"O'NEILL", []string{"ONEILL"}},
	{"SMITH-JONES", []string{"SMITH", "JONES"}},
	{"AL-RASHID, Mohammed.", []string{"AL", "RASHID", "MOHAMMED"}},
	{"", nil},
	{"<<<", nil},
	{"123 456", nil},
	{"MÜLLER", []string{"MUELLER"}},
	{"ГАГАРИН", []string{"GAGARIN"}},
	{"ЮРИЙ", []string{"IURII"}},
}

func TestNameTokens(t *testing.T) {
	for _, tc := range nameTokenCases {
		got := NameTokens(tc.in)
		if !slices.Equal(got, tc.want) {
			t.Errorf("NameTokens(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseMRZName(t *testing.T) {
	cases := []struct {
		in   string
		want FullName
	}{
		{"GAGARIN<<YURIY<ALEKSEYEVICH<<<", FullName{Surname: "GAGARIN", GivenNames: []string{"YURIY", "ALEKSEYEVICH"}}},
		{"VAN<DER<BERG<<ANNA", FullName{Surname: "VAN DER BERG", GivenNames: []string{"ANNA"}}},
		{"ONLYSURNAME", FullName{Surname: "ONLYSURNAME", GivenNames: nil}},
		{"", FullName{}},
	}
	for _, tc := range cases {
		got := ParseMRZName(tc.in)
		if got.Surname != tc.want.Surname || !slices.Equal(got.GivenNames, tc.want.GivenNames) {
			t.Errorf("ParseMRZName(%q) = %#v, want %#v", tc.in, got, tc.want)
		}
	}
}

var phoneticCases = []struct {
	group []string // all must give want
	want  string
}{
	{[]string{"MOHAMMED", "MUHAMMAD", "MOHAMED", "MEHMET"}, "MMT"},
	{[]string{"ALEXANDER", "ALEKSANDR", "OLEKSANDR"}, "ALKSNTR"},
	{[]string{"YURIY", "IURII", "YURI"}, "ARA"},
	{[]string{"MUELLER", "MULLER"}, "MLR"},
	{[]string{"SHEVCHENKO", "CHEVTCHENKO", "SCHEWTSCHENKO"}, "JFJNK"},
	{[]string{"KHALID", "HALID"}, "ALT"},
	{[]string{"LI", "LEE"}, "LA"},
	{[]string{"KIM", "GIM"}, "KAM"},
	{[]string{"ZHOU", "CHOU", "JOU"}, "JA"},
	{[]string{"TSOI", "TSOY"}, "SA"},
	{[]string{""}, ""},
}

func TestPhonetic(t *testing.T) {
	for _, tc := range phoneticCases {
		for _, w := range tc.group {
			if got := Phonetic(w); got != tc.want {
				t.Errorf("Phonetic(%q) = %q, want %q", w, got, tc.want)
			}
		}
	}
	if Phonetic("GAGARIN") == Phonetic("KOWALCZYK") {
		t.Error("unrelated names share a phonetic key")
	}
}

func TestSimilarity(t *testing.T) {
	cases := []struct {
		a, b   string
		jwMin  float64
		jwMax  float64
		edit   int
		reason string
	}{
		{"MARTHA", "MARHTA", 0.96, 0.962, 1, "classic JW example, transposition"},
		{"DWAYNE", "DUANE", 0.83, 0.85, 2, "classic JW example"},
		{"DIXON", "DICKSONX", 0.81, 0.82, 4, "classic JW example"},
		{"GAGARIN", "GAGARIN", 1, 1, 0, "equal"},
		{"", "ABC", 0, 0, 3, "empty"},
		{"ABC", "", 0, 0, 3, "empty"},
		{"ABC", "XYZ", 0, 0, 3, "disjoint"},
		{"CA", "ABC", 0, 1, 3, "OSA is not full Damerau"},
	}
	for _, tc := range cases {
		jw := JaroWinkler(tc.a, tc.b)
		if jw < tc.jwMin || jw > tc.jwMax {
			t.Errorf("JaroWinkler(%q,%q) = %.4f, want [%.3f,%.3f] (%s)", tc.a, tc.b, jw, tc.jwMin, tc.jwMax, tc.reason)
		}
		if got := EditDistance(tc.a, tc.b); got != tc.edit {
			t.Errorf("EditDistance(%q,%q) = %d, want %d (%s)", tc.a, tc.b, got, tc.edit, tc.reason)
		}
		if JaroWinkler(tc.a, tc.b) != JaroWinkler(tc.b, tc.a) || EditDistance(tc.a, tc.b) != EditDistance(tc.b, tc.a) {
			t.Errorf("not symmetric for %q,%q", tc.a, tc.b)
		}
	}
	long := string(make([]byte, 100))
	if d := EditDistance(long, "A"); d != 100 {
		t.Errorf("EditDistance on 100 bytes = %d", d)
	}
}

var parseDateCases = []struct {
	in   string
	want Date
	err  bool
}{
	{"1980-03-12", Date{1980, 3, 12}, false},
	{"1980-03", Date{1980, 3, 0}, false},
	{"1980", Date{1980, 0, 0}, false},
	{"1980-00-12", Date{1980, 0, 12}, false},
	{"1980-XX-XX", Date{1980, 0, 0}, false},
	{"", Date{}, false},
	{"2000-02-29", Date{2000, 2, 29}, false},
	{"1900-02-29", Date{}, true},
	{"1980-13-01", Date{}, true},
	{"1980-04-31", Date{}, true},
	{"80-03-12", Date{}, true},
	{"1980-3-12", Date{}, true},
	{"1980-03-12-01", Date{}, true},
	{"abcd", Date{}, true},
	{"1980-+3-01", Date{}, true},
	{"0000", Date{}, true},
}

func TestParseDate(t *testing.T) {
	for _, tc := range parseDateCases {
		got, err := ParseDate(tc.in)
		if tc.err {
			if !errors.Is(err, ErrBadDate) {
				t.Errorf("ParseDate(%q) err = %v, want ErrBadDate", tc.in, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseDate(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestCompareDates(t *testing.T) {
	cases := []struct {
		q, r     Date
		score    float64
		conflict bool
	}{
		{Date{1980, 3, 12}, Date{1980, 3, 12}, dobExact, false},
		{Date{1980, 12, 3}, Date{1980, 3, 12}, dobSwapped, false},
		{Date{1980, 3, 13}, Date{1980, 3, 12}, dobOneDigit, false},
		{Date{1908, 3, 12}, Date{1980, 3, 12}, dobTransposed, false},
		{Date{1980, 3, 12}, Date{1980, 3, 0}, dobYearMonth, false},
		{Date{1980, 0, 0}, Date{1980, 3, 12}, dobYearOnly, false},
		{Date{1980, 0, 12}, Date{1980, 3, 12}, dobYearOnly, false},
		{Date{1981, 0, 0}, Date{1980, 3, 12}, 0, true}, // partial years must really agree
		{Date{1971, 5, 5}, Date{1961, 0, 0}, 0, true},  // 1961 vs 1971 is ten years, not a typo
		{Date{1961, 5, 5}, Date{1961, 0, 0}, dobYearOnly, false},
		{Date{0, 0, 0}, Date{1980, 3, 12}, dobUnknown, false},
		{Date{1990, 4, 4}, Date{1975, 0, 0}, 0, true},
		{Date{1980, 4, 0}, Date{1980, 3, 12}, 0, true},
		{Date{1961, 4, 12}, Date{1934, 3, 9}, 0, true},
	}
	for _, tc := range cases {
		got := compareDates(tc.q, tc.r)
		if got.score != tc.score || got.conflict != tc.conflict {
			t.Errorf("compareDates(%v, %v) = %.2f conflict %v (%s), want %.2f conflict %v", tc.q, tc.r, got.score, got.conflict, got.detail(), tc.score, tc.conflict)
		}
	}
}

// TestTokenFrequencyHook: a surname the store sees on many of its records
// stops carrying a name match on its own.
func TestTokenFrequencyHook(t *testing.T) {
	q := query("OKONKWO<<CHINEDU<EMEKA", Date{1979, 1, 1}, "NGA", "M")
	r := PersonRecord{Names: names("OKONKWO<<CHINEDU<EMEKA"), Nationality: "NGA", Sex: "M"}
	cfg := DefaultConfig()
	if got := ScorePerson(q, r, cfg); !got.Hit {
		t.Fatalf("rare name without DOB should hit: %s", got.Explanation)
	}
	cfg.TokenFrequency = func(tok string) float64 {
		switch tok {
		case "OKONKWO", "CHINEDU", "EMEKA":
			return 0.05
		}
		return 0
	}
	if got := ScorePerson(q, r, cfg); got.Hit {
		t.Fatalf("names common in the store's data should need a DOB: %s", got.Explanation)
	}
}

func TestNationalitySex(t *testing.T) {
	if s, _, _, _ := compareNationalities("D<<", "DEU", nil); s != 1 {
		t.Error("D<< and DEU should agree")
	}
	if s, _, _, _ := compareNationalities("XXX", "FRA", nil); s != 0.5 {
		t.Error("XXX should be unknown")
	}
	if s, l, _, _ := compareNationalities("SDN", "CAF", []string{"SSD", "SDN"}); s != 1 || l != "SDN" {
		t.Error("any listed nationality should agree")
	}
	if _, c, _, _ := compareSex("<", "M"); c {
		t.Error("< is unspecified, not a conflict")
	}
	if _, c, _, _ := compareSex("f", "M"); !c {
		t.Error("F vs M should conflict")
	}
}

func TestZeroConfigIsSafe(t *testing.T) {
	q := query("HASSAN<<MOHAMMED", Date{1975, 4, 4}, "EGY", "M")
	r := PersonRecord{Names: names("ALI<<MOHAMMED"), Birth: Date{1975, 4, 4}}
	if got := ScorePerson(q, r, Config{}); got.Hit {
		t.Fatalf("zero Config made a hit: %s", got.Explanation)
	}
	if a, b := ScorePerson(q, r, Config{}), ScorePerson(q, r, DefaultConfig()); a.Score != b.Score {
		t.Fatalf("zero Config scores %.3f, default %.3f", a.Score, b.Score)
	}
}

// TestHugeInputBounded: a name of thousands of tokens is cut to maxTokens
// instead of making the alignment quadratic in it.
func TestHugeInputBounded(t *testing.T) {
	var b []byte
	for i := 0; i < 5000; i++ {
		b = append(b, byte('A'+i%26), byte('A'+i/26%26), byte('A'+i/676%26), ' ')
	}
	huge := string(b)
	q := PersonQuery{Surname: huge, GivenNames: []string{huge}}
	r := PersonRecord{Names: []FullName{{Surname: huge, GivenNames: []string{huge}}}}
	s := ScorePerson(q, r, DefaultConfig())
	if s.Score < 0 || s.Score > 1 {
		t.Fatalf("score %v", s.Score)
	}
	if n := len(QueryKeys(q)); n > maxTokens*20 {
		t.Fatalf("%d keys for a huge name", n)
	}
}
