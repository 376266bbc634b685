package match

import (
	"strings"
	"testing"
)

func d(y, m, dd int) Date { return Date{y, m, dd} }

func names(ns ...string) []FullName {
	var out []FullName
	for _, n := range ns {
		out = append(out, ParseMRZName(n))
	}
	return out
}

func query(mrzName string, birth Date, nat, sex string) PersonQuery {
	n := ParseMRZName(mrzName)
	return PersonQuery{Surname: n.Surname, GivenNames: n.GivenNames, Birth: birth, Nationality: nat, Sex: sex}
}

// scoreCases are the hard cases of person screening. wantHit is the
// decision; contains lists fragments the explanation must hold, so the
// reason is asserted, not only the outcome.
var scoreCases = []struct {
	name     string
	q        PersonQuery
	r        PersonRecord
	wantHit  bool    // the HIT level
	level    string  // "" = not checked beyond wantHit; "none" = below both levels
	minScore float64 // 0 = not checked
	maxScore float64 // 0 = not checked
	contains []string
}{
	{
		name:     "exact match",
		q:        query("GAGARIN<<YURIY<ALEKSEYEVICH", d(1934, 3, 9), "RUS", "M"),
		r:        PersonRecord{Names: names("GAGARIN<<YURIY<ALEKSEYEVICH"), Birth: d(1934, 3, 9), Nationality: "RUS", Sex: "M"},
		wantHit:  true,
		minScore: 0.95,
		contains: []string{"surname GAGARIN = GAGARIN", "DOB 1934-03-09 vs 1934-03-09: exact", "strong hit"},
	},
	{
		name:     "transliteration IURII vs YURIY",
		q:        query("GAGARIN<<IURII", d(1934, 3, 9), "RUS", "M"),
		r:        PersonRecord{Names: names("GAGARIN<<YURIY"), Birth: d(1934, 3, 9), Nationality: "RUS", Sex: "M"},
		wantHit:  true,
		minScore: 0.9,
		contains: []string{"given name IURII ~ YURIY: name-variant class"},
	},
	{
		name:     "German MUELLER vs MULLER",
		q:        query("MULLER<<HANS<PETER", d(1970, 1, 2), "DEU", "M"),
		r:        PersonRecord{Names: names("MUELLER<<HANS<PETER"), Birth: d(1970, 1, 2), Nationality: "D", Sex: "M"},
		wantHit:  true,
		minScore: 0.9,
		contains: []string{"MULLER ~ MUELLER", "nationality DEU agrees"},
	},
	{
		name:     "name-variant class MOHAMED vs MUHAMMAD with DOB",
		q:        query("HADDAD<<MOHAMED<KARIM", d(1980, 3, 12), "LBN", "M"),
		r:        PersonRecord{Names: names("HADDAD<<MUHAMMAD<KARIM"), Birth: d(1980, 3, 12), Nationality: "LBN", Sex: "M"},
		wantHit:  true,
		minScore: 0.9,
		contains: []string{"given name MOHAMED ~ MUHAMMAD: name-variant class"},
	},
	{
		name:     "swapped surname and given name",
		q:        query("YURIY<<GAGARIN", d(1934, 3, 9), "RUS", "M"),
		r:        PersonRecord{Names: names("GAGARIN<<YURIY"), Birth: d(1934, 3, 9), Nationality: "RUS", Sex: "M"},
		wantHit:  true,
		minScore: 0.85,
		contains: []string{"surname and given names swapped"},
	},
	{
		name:     "merged token ABDULRAHMAN vs ABDUL RAHMAN",
		q:        query("ALFARSI<<ABDULRAHMAN", d(1985, 6, 1), "OMN", "M"),
		r:        PersonRecord{Names: names("ALFARSI<<ABDUL<RAHMAN"), Birth: d(1985, 6, 1), Nationality: "OMN", Sex: "M"},
		wantHit:  true,
		minScore: 0.85,
		contains: []string{"ABDULRAHMAN = ABDULRAHMAN"},
	},
	{
		name:     "attached particle ALFARSI vs AL FARSI",
		q:        query("AL<FARSI<<SAIF<NASSER", d(1985, 6, 1), "OMN", "M"),
		r:        PersonRecord{Names: names("ALFARSI<<SAIF<NASSER"), Birth: d(1985, 6, 1), Nationality: "OMN", Sex: "M"},
		wantHit:  true,
		minScore: 0.85,
	},
	{
		name:     "truncated MRZ name",
		q:        PersonQuery{Surname: "VANDENBERGHE", GivenNames: []string{"MAXIMILIAN", "ALEXA"}, NameTruncated: true, Birth: d(1990, 7, 7), Nationality: "BEL", Sex: "M"},
		r:        PersonRecord{Names: names("VANDENBERGHE<<MAXIMILIAN<ALEXANDER<FRANCOIS"), Birth: d(1990, 7, 7), Nationality: "BEL", Sex: "M"},
		wantHit:  true,
		minScore: 0.85,
		contains: []string{"ALEXA ~ ALEXANDER: truncated in MRZ"},
	},
	{
		name:     "partial DOB year only on record",
		q:        query("KOWALCZYK<<ZBIGNIEW", d(1962, 11, 23), "POL", "M"),
		r:        PersonRecord{Names: names("KOWALCZYK<<ZBIGNIEW"), Birth: d(1962, 0, 0), Nationality: "POL", Sex: "M"},
		wantHit:  true,
		contains: []string{"birth year agrees (partial date)"},
	},
	{
		name:     "partial DOB year and month on query",
		q:        query("KOWALCZYK<<ZBIGNIEW", d(1962, 11, 0), "POL", "M"),
		r:        PersonRecord{Names: names("KOWALCZYK<<ZBIGNIEW"), Birth: d(1962, 11, 23), Nationality: "POL", Sex: "M"},
		wantHit:  true,
		contains: []string{"year and month agree"},
	},
	{
		name:     "day and month swapped",
		q:        query("ODUYA<<CHIDINMA<GRACE", d(1980, 12, 3), "NGA", "F"),
		r:        PersonRecord{Names: names("ODUYA<<CHIDINMA<GRACE"), Birth: d(1980, 3, 12), Nationality: "NGA", Sex: "F"},
		wantHit:  true,
		contains: []string{"DOB 1980-12-03 vs 1980-03-12: day/month swapped"},
	},
	{
		name:     "one-digit DOB typo",
		q:        query("ODUYA<<CHIDINMA<GRACE", d(1986, 3, 12), "NGA", "F"),
		r:        PersonRecord{Names: names("ODUYA<<CHIDINMA<GRACE"), Birth: d(1980, 3, 12), Nationality: "NGA", Sex: "F"},
		wantHit:  true,
		contains: []string{"one digit differs"},
	},
	{
		name:     "one-letter typo in surname",
		q:        query("GAGARIM<<YURIY", d(1934, 3, 9), "RUS", "M"),
		r:        PersonRecord{Names: names("GAGARIN<<YURIY"), Birth: d(1934, 3, 9), Nationality: "RUS", Sex: "M"},
		wantHit:  true,
		contains: []string{"GAGARIM ~ GAGARIN"},
	},
	{
		name:     "alias matches",
		q:        query("DUBOIS<<JEAN<LUC", d(1975, 5, 5), "FRA", "M"),
		r:        PersonRecord{Names: names("RENARD<<PIERRE", "DUBOIS<<JEAN<LUC"), Birth: d(1975, 5, 5), Nationality: "FRA", Sex: "M"},
		wantHit:  true,
		contains: []string{"surname DUBOIS = DUBOIS"},
	},
	// False-positive traps.
	{
		name:     "common name, conflicting DOB",
		q:        query("ALI<<MOHAMMED", d(1990, 4, 4), "PAK", "M"),
		r:        PersonRecord{Names: names("ALI<<MOHAMMED"), Birth: d(1975, 0, 0), Nationality: "PAK", Sex: "M"},
		wantHit:  false,
		contains: []string{"DOB conflicts"},
	},
	{
		name:     "common name, no DOB on record",
		q:        query("ALI<<MOHAMMED", d(1990, 4, 4), "PAK", "M"),
		r:        PersonRecord{Names: names("ALI<<MOHAMMED"), Nationality: "PAK", Sex: "M"},
		wantHit:  false,
		level:    "none",
		contains: []string{"name carries little information"},
	},
	{
		name:     "common name, matching DOB is a hit",
		q:        query("ALI<<MOHAMMED", d(1975, 4, 4), "PAK", "M"),
		r:        PersonRecord{Names: names("ALI<<MOHAMMED"), Birth: d(1975, 4, 4), Nationality: "PAK", Sex: "M"},
		wantHit:  true,
		contains: []string{"DOB 1975-04-04 vs 1975-04-04: exact"},
	},
	{
		name:     "only MOHAMMED shared",
		q:        query("HASSAN<<MOHAMMED", d(1975, 4, 4), "EGY", "M"),
		r:        PersonRecord{Names: names("ALI<<MOHAMMED"), Birth: d(1975, 4, 4), Nationality: "EGY", Sex: "M"},
		wantHit:  false,
		maxScore: 0.75,
	},
	{
		name:    "only a common given name shared",
		q:       query("SANTOS<<MARIA", d(1960, 1, 1), "PRT", "F"),
		r:       PersonRecord{Names: names("FERREIRA<<MARIA"), Birth: d(1960, 1, 1), Nationality: "PRT", Sex: "F"},
		wantHit: false,
	},
	{
		name:     "short Chinese name without DOB",
		q:        query("WANG<<LI", d(1980, 1, 1), "CHN", "F"),
		r:        PersonRecord{Names: names("WANG<<LI"), Nationality: "CHN", Sex: "F"},
		wantHit:  false,
		contains: []string{"little information"},
	},
	{
		name:     "short Korean name without DOB, romanisation variant",
		q:        query("LEE<<MIN<JUN", d(1988, 8, 8), "KOR", "M"),
		r:        PersonRecord{Names: names("RHEE<<MIN<JUN"), Nationality: "KOR", Sex: "M"},
		wantHit:  false,
		level:    LevelPossible,
		contains: []string{"LEE ~ RHEE: name-variant class"},
	},
	{
		name:     "short Chinese name with exact DOB is a hit",
		q:        query("ZHOU<<WEI", d(1979, 2, 14), "CHN", "M"),
		r:        PersonRecord{Names: names("CHOU<<WEI"), Birth: d(1979, 2, 14), Nationality: "CHN", Sex: "M"},
		wantHit:  true,
		contains: []string{"ZHOU ~ CHOU"},
	},
	{
		name:     "rare name, conflicting DOB",
		q:        query("GAGARIN<<YURIY", d(1961, 4, 12), "RUS", "M"),
		r:        PersonRecord{Names: names("GAGARIN<<YURIY"), Birth: d(1934, 3, 9), Nationality: "RUS", Sex: "M"},
		wantHit:  false,
		contains: []string{"DOB conflicts"},
	},
	{
		name:    "rare name without DOB on record",
		q:       query("KOWALCZYK<<ZBIGNIEW<TADEUSZ", d(1962, 11, 23), "POL", "M"),
		r:       PersonRecord{Names: names("KOWALCZYK<<ZBIGNIEW<TADEUSZ"), Nationality: "POL", Sex: "M"},
		wantHit: true,
	},
	{
		name:     "sex conflict lowers the score",
		q:        query("KOWALCZYK<<ZBIGNIEW", d(1962, 11, 0), "POL", "F"),
		r:        PersonRecord{Names: names("KOWALCZYK<<ZBIGNIEW"), Birth: d(1962, 11, 23), Nationality: "POL", Sex: "M"},
		maxScore: 0.85,
		wantHit:  true,
		contains: []string{"sex F vs M conflicts"},
	},
	{
		name:    "different people",
		q:       query("SMITH<<JOHN", d(1970, 1, 1), "GBR", "M"),
		r:       PersonRecord{Names: names("KOWALCZYK<<ZBIGNIEW"), Birth: d(1970, 1, 1), Nationality: "GBR", Sex: "M"},
		wantHit: false,
	},
	// Several listed dates, ranges and approximate years.
	{
		name:     "second listed DOB agrees",
		q:        query("NGARUYE<<BAUDOIN", d(1949, 1, 1), "COD", "M"),
		r:        PersonRecord{Names: names("NGARUYE<<BAUDOIN"), Births: []BirthSpec{{Date: d(1959, 1, 22)}, {Date: d(1949, 1, 1)}}, Nationality: "COD", Sex: "M"},
		wantHit:  true,
		contains: []string{"DOB 1949-01-01 vs 1949-01-01: exact (best of 2 listed dates)"},
	},
	{
		name:     "every listed DOB conflicts",
		q:        query("NGARUYE<<BAUDOIN", d(1990, 6, 6), "COD", "M"),
		r:        PersonRecord{Names: names("NGARUYE<<BAUDOIN"), Births: []BirthSpec{{Date: d(1959, 1, 22)}, {Date: d(1949, 1, 1)}}, Nationality: "COD", Sex: "M"},
		wantHit:  false,
		level:    "none",
		contains: []string{"DOB conflicts"},
	},
	{
		name:     "year inside a listed range",
		q:        query("BWAMBALE<<FRANK<KAKOLELE", d(1961, 7, 2), "COD", "M"),
		r:        PersonRecord{Names: names("BWAMBALE<<FRANK<KAKOLELE"), Births: []BirthSpec{{From: 1958, To: 1963}}, Nationality: "COD", Sex: "M"},
		wantHit:  true,
		contains: []string{"vs 1958 to 1963: birth year within the listed range"},
	},
	{
		name:     "year outside a listed range",
		q:        query("BWAMBALE<<FRANK<KAKOLELE", d(1970, 7, 2), "COD", "M"),
		r:        PersonRecord{Names: names("BWAMBALE<<FRANK<KAKOLELE"), Births: []BirthSpec{{From: 1958, To: 1963}}, Nationality: "COD", Sex: "M"},
		wantHit:  false,
		level:    "none",
		contains: []string{"outside the listed range"},
	},
	{
		name:     "approximate year",
		q:        query("BADEGE<<ERIC", d(1972, 3, 3), "COD", "M"),
		r:        PersonRecord{Names: names("BADEGE<<ERIC"), Births: []BirthSpec{{From: 1969, To: 1973, Approx: true}}, Nationality: "COD", Sex: "M"},
		wantHit:  true,
		contains: []string{"circa 1971 (1969-1973): birth year within the listed approximate year"},
	},
	{
		name:     "partial year one digit apart is no agreement",
		q:        query("KOWALCZYK<<ZBIGNIEW", d(1971, 11, 23), "POL", "M"),
		r:        PersonRecord{Names: names("KOWALCZYK<<ZBIGNIEW"), Birth: d(1961, 0, 0), Nationality: "POL", Sex: "M"},
		wantHit:  false,
		level:    "none",
		contains: []string{"DOB 1971-11-23 vs 1961: conflict"},
	},
	// Rare exact name plus an agreeing year: a HIT without any help from
	// the list's size (no TokenFrequency).
	{
		name:     "rare two-token name with agreeing year",
		q:        query("HANIYA<<ISMAIL", d(1962, 1, 29), "PSE", "M"),
		r:        PersonRecord{Names: names("HANIYA<<ISMAIL<ABDUL<SALAH"), Birth: d(1962, 0, 0)},
		wantHit:  true,
		contains: []string{"birth year agrees"},
	},
	// MRZ truncation to initials, suffixes, OCR confusions.
	{
		name:     "given name reduced to an initial",
		q:        query("GAYKOVICH<<BORIS<A", d(1961, 2, 2), "RUS", "M"),
		r:        PersonRecord{Names: names("GAYKOVICH<<BORIS<ALEKSANDROVICH"), Birth: d(1961, 2, 2), Nationality: "RUS", Sex: "M"},
		wantHit:  true,
		contains: []string{"given name A ~ ALEKSANDROVICH: initial"},
	},
	{
		name:    "initials alone make no match",
		q:       query("B<<A", d(1961, 2, 2), "RUS", "M"),
		r:       PersonRecord{Names: names("GAYKOVICH<<BORIS<ALEKSANDROVICH"), Birth: d(1961, 2, 2), Nationality: "RUS", Sex: "M"},
		wantHit: false,
		level:   "none",
	},
	{
		name:     "suffix dropped",
		q:        query("GONZALEZ<<GUSTAVO", d(1970, 1, 1), "USA", "M"),
		r:        PersonRecord{Names: names("GONZALEZ<<GUSTAVO<JR"), Birth: d(1970, 1, 1), Nationality: "USA", Sex: "M"},
		wantHit:  true,
		minScore: 0.95,
	},
	{
		name:     "OCR confusion on a short token",
		q:        query("NAO<<JLN<KUANG", d(1970, 5, 5), "CHN", "M"),
		r:        PersonRecord{Names: names("MAO<<JIN<KUANG"), Birth: d(1970, 5, 5), Nationality: "CHN", Sex: "M"},
		wantHit:  true,
		contains: []string{"NAO ~ MAO: OCR confusion", "JLN ~ JIN: OCR confusion"},
	},
	{
		name:    "two-letter OCR confusions make no match alone",
		q:       query("LJ<<NA", d(1970, 5, 5), "CHN", "F"),
		r:       PersonRecord{Names: names("LI<<MA"), Birth: d(1970, 5, 5), Nationality: "CHN", Sex: "F"},
		wantHit: false,
		level:   "none",
	},
	// Weak aliases and listed documents.
	{
		name:     "weak alias without DOB is at most possible",
		q:        query("ABU<<WAQAS", d(1980, 1, 1), "UGA", "M"),
		r:        PersonRecord{Names: []FullName{{Surname: "ABU WAQAS", Weak: true}}, Nationality: "TZA", Sex: "M"},
		wantHit:  false,
		contains: []string{"weak alias"},
	},
	{
		name:     "listed document corroborates",
		q:        PersonQuery{Surname: "HASSAN", GivenNames: []string{"AHMAD"}, Birth: d(1995, 1, 1), Nationality: "TZA", Sex: "M", Document: "AB850901"},
		r:        PersonRecord{Names: names("HASSAN<<AHMAD<MAHMOOD"), Births: []BirthSpec{{Date: d(1997, 7, 21)}, {Date: d(1993, 0, 0)}}, Nationality: "TZA", Documents: []string{"AB850901"}},
		level:    "none", // the listed dates conflict: a document does not override them
		contains: []string{"document: document number AB850901 is listed as this person's"},
	},
	{
		name:     "listed document and a common name",
		q:        PersonQuery{Surname: "HASSAN", GivenNames: []string{"AHMAD"}, Birth: d(1997, 7, 21), Nationality: "TZA", Sex: "M", Document: "AB850901"},
		r:        PersonRecord{Names: names("HASSAN<<AHMAD<MAHMOOD"), Births: []BirthSpec{{Date: d(1997, 7, 21)}, {Date: d(1993, 0, 0)}}, Nationality: "TZA", Documents: []string{"AB850901"}},
		wantHit:  true,
		contains: []string{"document number AB850901"},
	},
	{
		name:    "no names on record",
		q:       query("SMITH<<JOHN", d(1970, 1, 1), "GBR", "M"),
		r:       PersonRecord{Birth: d(1970, 1, 1)},
		wantHit: false,
	},
}

func TestScorePerson(t *testing.T) {
	cfg := DefaultConfig()
	for _, tc := range scoreCases {
		t.Run(tc.name, func(t *testing.T) {
			got := ScorePerson(tc.q, tc.r, cfg)
			t.Log(got.Explanation)
			if got.Hit != tc.wantHit {
				t.Errorf("Hit = %v, want %v", got.Hit, tc.wantHit)
			}
			if tc.minScore > 0 && got.Score < tc.minScore {
				t.Errorf("Score = %.3f, want >= %.2f", got.Score, tc.minScore)
			}
			if tc.maxScore > 0 && got.Score > tc.maxScore {
				t.Errorf("Score = %.3f, want <= %.2f", got.Score, tc.maxScore)
			}
			if got.Score < 0 || got.Score > 1 {
				t.Errorf("Score %.3f outside [0,1]", got.Score)
			}
			for _, c := range tc.contains {
				if !strings.Contains(got.Explanation, c) {
					t.Errorf("explanation lacks %q", c)
				}
			}
			if n := len(got.Fields); n != 4 && !(n == 5 && got.Fields[4].Field == "document") {
				t.Errorf("%d fields, want 4 (5 with a listed document)", len(got.Fields))
			}
			if tc.level != "" {
				want := tc.level
				if want == "none" {
					want = ""
				}
				if got.Level != want {
					t.Errorf("Level = %q, want %q", got.Level, want)
				}
			}
			if got.Hit != (got.Level == LevelHit) {
				t.Errorf("Hit %v with level %q", got.Hit, got.Level)
			}
			wantStrength := map[string]string{LevelHit: StrengthStrong, LevelPossible: StrengthPossible}[got.Level]
			if got.Level != "" && got.Strength != wantStrength || got.Level == "" && (got.Strength == StrengthStrong || got.Strength == StrengthPossible) {
				t.Errorf("level %q with strength %q", got.Level, got.Strength)
			}
		})
	}
}

// TestCompiledScoresAlike: a compiled record scores exactly as the record.
func TestCompiledScoresAlike(t *testing.T) {
	cfg := DefaultConfig()
	cfg.TokenFrequency = func(tok string) float64 {
		if tok == "ZBIGNIEW" || tok == "ALI" {
			return 0.01
		}
		return 0
	}
	for _, tc := range scoreCases {
		sc := NewScorer(tc.q, cfg)
		a, b := sc.Score(tc.r), sc.Score(Compile(tc.r))
		if a.Explanation != b.Explanation || a.Score != b.Score || a.Level != b.Level {
			t.Errorf("%s: compiled differs:\n%s\n%s", tc.name, a.Explanation, b.Explanation)
		}
	}
}
