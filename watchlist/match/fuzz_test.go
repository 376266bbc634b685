package match

import (
	"math"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzNameTokens: any input normalises to A–Z tokens without panicking,
// and normalising again changes nothing.
func FuzzNameTokens(f *testing.F) {
	for _, tc := range nameTokenCases {
		f.Add(tc.in)
	}
	f.Add("Ǆ\u0301ÿ\x00<\xff")
	f.Add("حكمت مزبان إبراهيم العزاوي")
	f.Add("عبدالرحيم ولد الوليد ـًّ")
	f.Add("OUALID<ELOUADI<<BCHIR")
	f.Fuzz(func(t *testing.T, s string) {
		toks := NameTokens(s)
		for _, tok := range toks {
			if !isMRZToken(tok) {
				t.Fatalf("NameTokens(%q) gave %q", s, tok)
			}
			_ = Phonetic(tok)
		}
		again := NameTokens(strings.Join(toks, " "))
		if strings.Join(again, " ") != strings.Join(toks, " ") {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, toks, again)
		}
	})
}

// FuzzParseDate: no panic; accepted dates print back to a form that parses
// to the same date.
func FuzzParseDate(f *testing.F) {
	for _, tc := range parseDateCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate(s)
		if err != nil || !d.Known() {
			return
		}
		if d.Month == 0 && d.Day != 0 {
			return // "1980-00-12" prints as such; covered by the table
		}
		back, err := ParseDate(d.String())
		if err != nil || back != d {
			t.Fatalf("ParseDate(%q) = %v, reparsed %v, %v", s, d, back, err)
		}
	})
}

// FuzzScorePerson: arbitrary names and dates never panic, scores stay in
// [0, 1], a hit is never declared on a conflicting DOB, and the key
// functions accept the same input.
func FuzzScorePerson(f *testing.F) {
	for _, tc := range scoreCases {
		var rs, rg string
		if len(tc.r.Names) > 0 {
			rs, rg = tc.r.Names[0].Surname, strings.Join(tc.r.Names[0].GivenNames, " ")
		}
		f.Add(tc.q.Surname, strings.Join(tc.q.GivenNames, " "), rs, rg,
			tc.q.Birth.Year, tc.q.Birth.Month, tc.q.Birth.Day, tc.r.Birth.Year, tc.r.Birth.Month, tc.r.Birth.Day,
			tc.q.NameTruncated, tc.q.Sex+tc.r.Sex)
	}
	f.Fuzz(func(t *testing.T, qs, qg, rs, rg string, qy, qm, qd, ry, rm, rd int, trunc bool, sex string) {
		if !utf8.ValidString(qs + qg + rs + rg) {
			return
		}
		q := PersonQuery{Surname: qs, GivenNames: strings.Fields(qg), NameTruncated: trunc,
			Birth: Date{qy, qm, qd}, Sex: sex}
		r := PersonRecord{Names: []FullName{{Surname: rs, GivenNames: strings.Fields(rg)}}, Birth: Date{ry, rm, rd}}
		got := ScorePerson(q, r, DefaultConfig())
		if math.IsNaN(got.Score) || got.Score < 0 || got.Score > 1.0000001 {
			t.Fatalf("score %v for %+v vs %+v", got.Score, q, r)
		}
		if got.Hit && compareDates(q.Birth, r.Birth).conflict {
			t.Fatalf("hit despite DOB conflict: %s", got.Explanation)
		}
		_ = QueryKeys(q)
		_ = IndexKeys(r.Names[0])
		_ = BirthYearKey(q.Birth)
	})
}

// FuzzScoreListed: several listed dates (spans included), weak aliases and
// documents never panic, keep the score in [0, 1], never make a level when
// every listed date conflicts, and score a compiled record alike.
func FuzzScoreListed(f *testing.F) {
	f.Add("GAYKOVICH<<BORIS<A", "GAYKOVICH, BORIS ALEKSANDROVICH", "ABU WAQAS", 1961, 2, 2, 1961, 1958, 1963, false, "AB850901")
	f.Add("HSN<<MHMD", "HASSAN, MOHAMMED", "", 1970, 0, 0, 0, 1969, 1971, true, "")
	f.Add("NAO<<JLN", "MAO, JIN", "X", 2001, 13, 40, 1900, 3000, 1000, true, "12")
	f.Fuzz(func(t *testing.T, qname, listed, weak string, y, m, d, ly, from, to int, approx bool, doc string) {
		if !utf8.ValidString(qname + listed + weak + doc) {
			return
		}
		q := PersonQuery{Birth: Date{y, m, d}, Document: doc}
		fn := ParseMRZName(qname)
		q.Surname, q.GivenNames = fn.Surname, fn.GivenNames
		sur, given, _ := strings.Cut(listed, ",")
		r := PersonRecord{
			Names:     []FullName{{Surname: sur, GivenNames: strings.Fields(given)}, {Surname: weak, Weak: true}, {MRZ: qname, Kind: NameKindAlias}},
			Births:    []BirthSpec{{Date: Date{Year: ly}}, {From: from, To: to, Approx: approx}},
			Documents: []string{doc},
		}
		got := ScorePerson(q, r, DefaultConfig())
		if math.IsNaN(got.Score) || got.Score < 0 || got.Score > 1.0000001 {
			t.Fatalf("score %v", got.Score)
		}
		if b := compareBirths(q.Birth, r.births()); b.conflict && got.Level != "" {
			t.Fatalf("level %s despite conflicting dates: %s", got.Level, got.Explanation)
		}
		if c := NewScorer(q, DefaultConfig()).Score(Compile(r)); c.Score != got.Score || c.Level != got.Level {
			t.Fatalf("compiled %v %s, plain %v %s", c.Score, c.Level, got.Score, got.Level)
		}
	})
}
