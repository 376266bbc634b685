package lists

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/checkpoint-edge/checkpoint/watchlist"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.json from the real lists")

func byID(t *testing.T, p *Parsed) map[string]*watchlist.PersonAlert {
	t.Helper()
	m := map[string]*watchlist.PersonAlert{}
	for _, e := range p.Entries {
		if err := watchlist.ValidatePerson(&e.Person); err != nil {
			t.Fatalf("%s: %v", e.Person.ID, err)
		}
		m[e.Person.ID] = &e.Person
	}
	return m
}

func parseFile(t *testing.T, sp Spec) *Parsed {
	t.Helper()
	p, err := Parse(sp, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func names(p *watchlist.PersonAlert) []string {
	var out []string
	for _, n := range append([]watchlist.Name{p.Name}, p.Aliases...) {
		s := n.Surname + "|" + n.GivenNames
		if n.Quality != "" {
			s += "|" + n.Quality
		}
		if n.Script != "" {
			s += "|" + n.Script
		}
		out = append(out, s)
	}
	return out
}

func TestUNExcerpt(t *testing.T) {
	p := parseFile(t, Spec{Kind: "un", Path: "testdata/un_excerpt.xml"})
	if p.List != "UN" || p.Version != "2026-02-27" || len(p.Entries) != 5 || p.Skipped != 1 {
		t.Fatalf("parsed %s %s: %d persons, %d skipped", p.List, p.Version, len(p.Entries), p.Skipped)
	}
	m := byID(t, p)
	g := m["UN-QDi.277"]
	if g == nil || g.Name.Surname != "AL-MAZIDIH" || g.Name.GivenNames != "GHAZY FEZZA HISHAN" {
		t.Fatalf("QDi.277: %+v", g)
	}
	if got := g.BirthDates(); len(got) != 2 || got[0].Date != "1974" || got[1].Date != "1975" {
		t.Errorf("QDi.277 births %v", got)
	}
	ns := names(g)
	for _, want := range []string{"Hishan|Ghazy Fezzaa|strong", "Faysal|Abu|weak", "المزيده|غازي فيزا هاشم|strong|Arab"} {
		if !slices.Contains(ns, want) {
			t.Errorf("QDi.277 lacks name %q: %q", want, ns)
		}
	}
	if l := g.Lists; len(l) != 1 || l[0].List != "UN" || l[0].Reference != "QDi.277" || l[0].Programme != "Al-Qaida" || l[0].Updated != "2022-11-08" {
		t.Errorf("QDi.277 list reference %+v", l)
	}
	b := m["UN-CFi.001"]
	if b == nil || b.Nationality != "CAF" || !slices.Equal(b.Nationalities, []string{"SSD"}) || b.Sex != "" {
		t.Fatalf("CFi.001: %+v", b)
	}
	if got := b.BirthDates(); len(got) != 2 || got[0].Date != "1946-10-14" || got[1].Date != "1948-12-16" {
		t.Errorf("CFi.001 births %v", got)
	}
	if len(b.BirthPlaces) != 2 || b.BirthPlaces[0].Country != "GAB" || b.BirthPlaces[1].Country != "SSD" {
		t.Errorf("CFi.001 places %+v", b.BirthPlaces)
	}
	if len(b.Documents) != 2 || b.Documents[0].Type != "P" || b.Documents[0].Number != "D00002264" || b.Documents[0].IssuingState != "" || b.Documents[1].Type != "I" {
		// Two nationalities: no issuing state is inferred.
		t.Errorf("CFi.001 documents %+v", b.Documents)
	}
	a := m["UN-CDi.040"]
	if a == nil || len(a.Documents) != 2 || a.Documents[0].IssuingState != "TZA" || len(watchlist.DocumentAlertsOf(a)) != 2 {
		t.Fatalf("CDi.040 documents: %+v", a)
	}
	if got := a.BirthDates(); len(got) != 2 || got[1].Date != "1993" {
		t.Errorf("CDi.040 births %v", got)
	}
	weak := 0
	for _, n := range a.Aliases {
		if n.Quality == watchlist.QualityWeak {
			weak++
		}
	}
	if weak != 9 {
		t.Errorf("CDi.040: %d weak aliases, want 9 (quality Low)", weak)
	}
	if h := m["UN-IQi.028"]; h == nil || h.Name.Surname != "AL-AZZAWI" || len(h.Name.MRZ) == 0 {
		t.Fatalf("IQi.028: %+v", h)
	}
}

func TestOFACExcerpt(t *testing.T) {
	p := parseFile(t, Spec{Kind: "ofac", Path: "testdata/ofac"})
	if p.List != "OFAC-CONS" || len(p.Entries) != 3 || p.Skipped != 1 {
		t.Fatalf("parsed %s: %d persons, %d skipped", p.List, len(p.Entries), p.Skipped)
	}
	m := byID(t, p)
	mt := m["OFAC-50476"]
	if mt == nil || mt.Name.Surname != "MARTELLY" || mt.Name.GivenNames != "Michel Joseph" || mt.Nationality != "HTI" || mt.Sex != "M" {
		t.Fatalf("50476: %+v", mt)
	}
	if got := mt.BirthDates(); len(got) != 1 || got[0].Date != "1961-02-12" {
		t.Errorf("50476 births %v", got)
	}
	if len(mt.BirthPlaces) != 1 || mt.BirthPlaces[0].Country != "HTI" || mt.BirthPlaces[0].Text != "Port-au-Prince, Haiti" {
		t.Errorf("50476 place %+v", mt.BirthPlaces)
	}
	// The national ID is a document, the driver's licence is not.
	if len(mt.Documents) != 1 || mt.Documents[0].Number != "0032768386" || mt.Documents[0].Type != "I" || mt.Documents[0].IssuingState != "HTI" {
		t.Errorf("50476 documents %+v", mt.Documents)
	}
	ns := names(mt)
	if !slices.Contains(ns, "MARTELLY|Michael|strong") || !slices.Contains(ns, "Sweet Micky||weak") && !slices.Contains(ns, "Micky|Sweet|weak") {
		t.Errorf("50476 names %q", ns)
	}
	z := m["OFAC-9647"]
	if z == nil || z.Nationality != "PSE" || len(z.BirthPlaces) != 1 || z.BirthPlaces[0].Country != "PSE" || z.Lists[0].Programme != "SDGT; NS-PLC" {
		t.Fatalf("9647: %+v", z)
	}
	if ns := names(z); !slices.Contains(ns, "ZAHAR|Mahmoud|weak") || !slices.Contains(ns, "AL ZAHAR|Mahmoud Khaled|strong") {
		t.Errorf("9647 names %q", ns)
	}
	if m["OFAC-9639"].BirthDates()[0].Date != "1962" {
		t.Error("9639: year of birth")
	}
}

func TestCSLExcerpt(t *testing.T) {
	p := parseFile(t, Spec{Kind: "csl", Path: "testdata/csl_excerpt.csv"})
	m := byID(t, p)
	if len(p.Entries) != 4 || p.Skipped != 1 {
		ids := make([]string, 0, len(m))
		for id := range m {
			ids = append(ids, id)
		}
		t.Fatalf("%d persons %v, %d skipped", len(p.Entries), ids, p.Skipped)
	}
	a := m["CSL-SDN-10727"]
	if a == nil || a.Name.Surname != "AL MAZIDIH" || len(a.BirthDates()) != 2 || !slices.Contains(a.CrossRefs, "OFAC-10727") {
		t.Fatalf("SDN 10727: %+v", a)
	}
	k := m["CSL-SDN-27271"]
	if k == nil || len(k.Documents) != 1 || k.Documents[0].Number != "21795618" || k.Documents[0].Type != "P" {
		t.Fatalf("SDN 27271: %+v", k)
	}
	var gonzalez, migeotte *watchlist.PersonAlert
	for _, e := range p.Entries {
		switch e.Person.Name.Surname {
		case "Gonzalez":
			gonzalez = &e.Person
		case "Migeotte":
			migeotte = &e.Person
		}
	}
	if gonzalez == nil || gonzalez.Name.GivenNames != "Gustavo" {
		t.Fatalf("suffix: %+v", gonzalez)
	}
	if migeotte == nil || len(migeotte.Lists) != 1 {
		t.Fatalf("repeated entry not merged: %+v", migeotte)
	}
}

// summary is the golden record of an import of the real lists: counts,
// the records of a few persons, and a digest of everything (the lists are
// not copied into the repository).
type summary struct {
	Lists     []ListReport      `json:"lists"`
	Persons   int               `json:"persons"`
	Documents int               `json:"documents"`
	Births    map[string]int    `json:"births_by_kind"`
	Names     map[string]int    `json:"names_by_kind"`
	Links     map[string]int    `json:"links_by_rule"`
	Ambiguous int               `json:"ambiguous"`
	Unmapped  []Unmapped        `json:"unmapped"`
	Selected  map[string]string `json:"selected"`
	Digest    string            `json:"sha256_of_all_records"`
}

func realLists(t *testing.T) string {
	dir := filepath.Join("..", "..", "..", "shared", "testdata", "lists")
	if _, err := os.Stat(filepath.Join(dir, "UN_consolidated.xml")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("real lists missing in CI: %v", err)
		}
		t.Skipf("real lists not available: %v", err)
	}
	return dir
}

// TestGoldenRealLists imports the real UN, OFAC consolidated and CSL files
// and compares the result with testdata/golden.json (go test -update
// rewrites it; review the diff).
func TestGoldenRealLists(t *testing.T) {
	dir := realLists(t)
	snap, err := Build([]Spec{{Kind: "un", Path: filepath.Join(dir, "UN_consolidated.xml")}, {Kind: "ofac", Path: dir},
		{Kind: "csl", Path: filepath.Join(dir, "csl.csv")}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	sum := summary{Lists: snap.Report.Lists, Persons: snap.Report.Persons, Documents: snap.Report.Documents,
		Births: map[string]int{}, Names: map[string]int{}, Links: map[string]int{}, Ambiguous: len(snap.Report.Ambiguous),
		Unmapped: snap.Report.Unmapped, Selected: map[string]string{}}
	for i := range sum.Lists {
		sum.Lists[i].Source = filepath.Base(sum.Lists[i].Source)
	}
	h := sha256.New()
	for i := range snap.Persons {
		p := &snap.Persons[i]
		if err := watchlist.ValidatePerson(p); err != nil {
			t.Fatalf("%s: %v", p.ID, err)
		}
		for _, b := range p.BirthDates() {
			switch {
			case b.From != 0:
				sum.Births["range"]++
			case b.Approx != 0:
				sum.Births["approximate"]++
			case len(b.Date) == 10:
				sum.Births["full"]++
			case len(b.Date) == 7:
				sum.Births["year_month"]++
			default:
				sum.Births["year"]++
			}
		}
		for _, n := range p.Aliases {
			switch {
			case n.Script != "":
				sum.Names["original_script_"+n.Script]++
			case n.Quality == watchlist.QualityWeak:
				sum.Names["weak_alias"]++
			default:
				sum.Names["strong_alias"]++
			}
		}
		b, _ := json.Marshal(p)
		h.Write(b)
		switch p.ID {
		case "UN-QDi.277", "UN-CFi.001", "UN-CDi.040", "OFAC-50476", "OFAC-9696":
			sum.Selected[p.ID] = string(b)
		}
	}
	for _, d := range snap.Documents {
		b, _ := json.Marshal(d)
		h.Write(b)
	}
	for _, l := range snap.Report.Links {
		sum.Links[l.Rule]++
	}
	sum.Digest = hex.EncodeToString(h.Sum(nil))
	got, _ := json.MarshalIndent(sum, "", "  ")
	path := filepath.Join("testdata", "golden.json")
	if *update {
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if strings.TrimSpace(string(want)) != strings.TrimSpace(string(got)) {
		t.Errorf("import of the real lists differs from %s (go test -update to accept after review):\n%s", path, got)
	}
	// What must hold whatever the golden file says.
	if sum.Persons < 800 || sum.Links[RuleOFACNumber] < 10 || sum.Links[RuleNameAndBirth] < 1 || sum.Births["range"] == 0 || sum.Births["approximate"] == 0 {
		t.Errorf("summary %+v", sum)
	}
}

func TestCountry(t *testing.T) {
	if err := countryTableErr(); err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"Russian Federation": "RUS", "Iran (Islamic Republic of)": "IRN", "Democratic People's Republic of Korea": "PRK",
		"Korea, North": "PRK", "Republic of Korea": "KOR", "United Kingdom of Great Britain and Northern Ireland": "GBR",
		"Türkiye": "TUR", "Turkey": "TUR", "State of Palestine": "PSE", "Palestinian": "PSE", "Gaza Strip": "PSE",
		"Côte d'Ivoire": "CIV", "Cote d’Ivoire": "CIV", "Democratic Republic of the Congo": "COD", "Congo": "COG",
		"United Republic of Tanzania": "TZA", "Syrian Arab Republic": "SYR", "SY": "SYR", "DZ": "DZA", "DEU": "DEU",
		"  haiti ": "HTI", "Burma": "MMR", "Bosnia and Herzegovina": "BIH", "Guinea-Bissau": "GNB",
	}
	for in, want := range cases {
		if got, ok := Country(in); !ok || got != want {
			t.Errorf("Country(%q) = %q %v, want %s", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "na", "former Soviet Union", "Virgin Islands", "XX", "UTO", "Atlantis"} {
		if got, ok := Country(bad); ok {
			t.Errorf("Country(%q) = %s, want no mapping", bad, got)
		}
	}
}

func TestParseListedDate(t *testing.T) {
	cases := map[string]string{
		"1961-02-12": "1961-02-12", "12 Feb 1961": "1961-02-12", "Feb 1961": "1961-02", "1961": "1961",
		"circa 1971": "~1971±2", "approximately 1971": "~1971±2", "1958 to 1963": "1958..1963",
		"between 1958 and 1963": "1958..1963", "12/02/1961": "1961-02-12", "Sept. 1958": "1958-09",
	}
	for in, want := range cases {
		b, ok := parseListedDate(in, 2)
		if !ok || b.String() != want {
			t.Errorf("parseListedDate(%q) = %q %v, want %q", in, b.String(), ok, want)
		}
	}
	for _, bad := range []string{"", "30-35 years old", "1963 to 1958", "31 Feb 1961", "circa", "1961-13-01", "1900 to 1990"} {
		if b, ok := parseListedDate(bad, 2); ok {
			t.Errorf("parseListedDate(%q) = %q, want refused", bad, b.String())
		}
	}
}

// entry is a test entry of a list.
func entry(id, name, given, sex string, births []string, nats ...string) *Entry {
	p := watchlist.PersonAlert{ID: id, Name: watchlist.Name{Surname: name, GivenNames: given}, Sex: sex, Category: "c", Action: "refer", Source: "t"}
	for _, b := range births {
		bd, _ := watchlist.ParseBirthDate(b)
		p.Births = append(p.Births, bd)
	}
	for _, n := range nats {
		addNationality(&p, n)
	}
	watchlist.FillMRZ(&p)
	return &Entry{Person: p}
}

func parsed(list string, es ...*Entry) *Parsed {
	p := newParsed(list)
	p.Entries = es
	return p
}

// TestResolveSafeguards: the link rules and what must never link.
func TestResolveSafeguards(t *testing.T) {
	cases := []struct {
		name  string
		lists []*Parsed
		want  []string // resulting ids
		links int
		amb   int
	}{
		{"name and exact date of birth link", []*Parsed{
			parsed("UN", entry("UN-1", "KOWALCZYK", "Zbigniew Tadeusz", "M", []string{"1962-11-23"})),
			parsed("OFAC-SDN", entry("OFAC-9", "KOWALCZYK", "Zbigniew", "", []string{"1962-11-23", "1963"}))},
			[]string{"UN-1"}, 1, 0},
		{"name alone never links", []*Parsed{
			parsed("UN", entry("UN-1", "KOWALCZYK", "Zbigniew Tadeusz", "M", nil)),
			parsed("OFAC-SDN", entry("OFAC-9", "KOWALCZYK", "Zbigniew Tadeusz", "M", nil))},
			[]string{"OFAC-9", "UN-1"}, 0, 0},
		{"conflicting dates of birth veto", []*Parsed{
			parsed("UN", entry("UN-1", "KOWALCZYK", "Zbigniew Tadeusz", "M", []string{"1962-11-23"})),
			parsed("OFAC-SDN", entry("OFAC-9", "KOWALCZYK", "Zbigniew Tadeusz", "M", []string{"1980-01-01"}))},
			[]string{"OFAC-9", "UN-1"}, 0, 0},
		{"sex conflict vetoes", []*Parsed{
			parsed("UN", entry("UN-1", "KOWALCZYK", "Zbigniew Tadeusz", "M", []string{"1962-11-23"})),
			parsed("OFAC-SDN", entry("OFAC-9", "KOWALCZYK", "Zbigniew Tadeusz", "F", []string{"1962-11-23"}))},
			[]string{"OFAC-9", "UN-1"}, 0, 0},
		{"common name and a year need a shared nationality", []*Parsed{
			parsed("UN", entry("UN-1", "ALI", "Mohammed Hassan", "", []string{"1970"}, "SYR")),
			parsed("OFAC-SDN", entry("OFAC-9", "ALI", "Mohammed Hassan", "", []string{"1970"}, "EGY"))},
			[]string{"OFAC-9", "UN-1"}, 0, 0},
		{"never within one list", []*Parsed{
			parsed("UN", entry("UN-1", "KOWALCZYK", "Zbigniew Tadeusz", "M", []string{"1962-11-23"}),
				entry("UN-2", "KOWALCZYK", "Zbigniew Tadeusz", "M", []string{"1962-11-23"}))},
			[]string{"UN-1", "UN-2"}, 0, 0},
		{"two candidates on one list: ambiguous, no link", []*Parsed{
			parsed("UN", entry("UN-1", "KOWALCZYK", "Zbigniew Tadeusz", "M", []string{"1962-11-23"}),
				entry("UN-2", "KOWALCZYK", "Zbigniew Tadeusz", "M", []string{"1962-11-23"})),
			parsed("OFAC-SDN", entry("OFAC-9", "KOWALCZYK", "Zbigniew Tadeusz", "M", []string{"1962-11-23"}))},
			[]string{"OFAC-9", "UN-1", "UN-2"}, 0, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			persons, links, amb := Resolve(tc.lists)
			var ids []string
			for _, p := range persons {
				ids = append(ids, p.ID)
			}
			sort.Strings(ids)
			if !slices.Equal(ids, tc.want) || len(links) != tc.links || len(amb) < tc.amb || (tc.amb == 0 && len(amb) != 0) {
				t.Fatalf("ids %v links %+v ambiguous %+v", ids, links, amb)
			}
			if tc.links == 1 {
				p := persons[0]
				if len(p.Lists) != 0 && len(p.CrossRefs) != 1 || p.CrossRefs[0] != "OFAC-9" || len(p.BirthDates()) != 2 {
					t.Fatalf("merged %+v", p)
				}
			}
		})
	}
}
