package watchlist

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// format2Person is a listed person using every format-2 field: several
// dates of birth of each kind, two nationalities, a weak alias, an
// original-script name, listed documents and list references.
func format2Person() PersonAlert {
	return PersonAlert{
		ID:   "UN-CFi.001",
		Name: Name{Surname: "BOZIZÉ", GivenNames: "FRANÇOIS YANGOUVONDA"},
		Aliases: []Name{
			{Surname: "MUDDE", GivenNames: "Samuel Peter", Quality: QualityStrong},
			{Surname: "LE GÉNÉRAL", Quality: QualityWeak},
			{Surname: "Иванов Сергей", Script: "Cyrl"},
		},
		Births:        []BirthDate{{Date: "1946-10-14"}, {Date: "1948-12-16"}, {From: 1950, To: 1953}, {Date: "1960", Approx: 2}},
		Nationality:   "CAF",
		Nationalities: []string{"SSD"},
		BirthPlaces:   []Place{{City: "Mouila", Country: "GAB"}},
		Documents: []IdentityDocument{{Type: "P", Number: "D00002264", IssuingState: "SSD", Note: "diplomatic passport"},
			{Type: "I", Number: "M4800002143743"}},
		Lists:     []ListReference{{List: "UN", Programme: "CAR", Reference: "CFi.001", Updated: "2020-07-28", ListedOn: "2014-05-09"}},
		CrossRefs: []string{"OFAC:17118"},
		Sex:       "M", Category: "sanctions", Action: ActionRefer, Source: "UN",
	}
}

func TestFormat2RoundTripAndFormat1Unchanged(t *testing.T) {
	p := format2Person()
	if p.Format() != 2 {
		t.Fatalf("format %d", p.Format())
	}
	old := PersonAlert{ID: "P1", Name: Name{Surname: "DOE"}, Birth: "1970", Category: "wanted", Action: ActionArrest, Source: "x"}
	if old.Format() != 1 {
		t.Fatalf("format-1 record reports %d", old.Format())
	}
	// A format-1 record digests exactly as the format-1 code did (the
	// struct as it was, below): the new fields are all omitted when empty,
	// so state hashes of old bundles and stores still check out.
	type name1 struct {
		Surname    string   `json:"surname"`
		GivenNames string   `json:"given_names,omitempty"`
		MRZ        []string `json:"mrz,omitempty"`
	}
	type person1 struct {
		ID          string         `json:"id"`
		Name        name1          `json:"name"`
		Aliases     []name1        `json:"aliases,omitempty"`
		Birth       string         `json:"birth,omitempty"`
		Nationality string         `json:"nationality,omitempty"`
		Sex         string         `json:"sex,omitempty"`
		Category    string         `json:"category"`
		Action      string         `json:"action"`
		Source      string         `json:"source"`
		Faces       []FaceTemplate `json:"faces,omitempty"`
		Photo       []byte         `json:"photo,omitempty"`
	}
	FillMRZ(&old)
	d2, err := RecordDigest(KindPerson, old.ID, &old)
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := RecordDigest(KindPerson, old.ID, &person1{ID: old.ID, Name: name1{Surname: "DOE", MRZ: old.Name.MRZ}, Birth: "1970", Category: "wanted", Action: ActionArrest, Source: "x"})
	if d1 != d2 {
		t.Fatal("a format-1 person digests differently than before format 2")
	}
	doc := DocumentAlert{ID: "D", IssuingState: "DEU", Number: "C01X00T47", Status: "stolen"}
	back, err := decodeDoc(encodeDoc(nil, &doc))
	if err != nil || back != doc || encodeDoc(nil, &doc)[0] != docCodecV1 {
		t.Fatalf("document without person: %+v %v", back, err)
	}
	doc.PersonID = "UN-X"
	if back, err := decodeDoc(encodeDoc(nil, &doc)); err != nil || back != doc {
		t.Fatalf("document with person: %+v %v", back, err)
	}

	s := MustOpen(t)
	docs := DocumentAlertsOf(&p)
	if len(docs) != 1 || docs[0].PersonID != p.ID || docs[0].IssuingState != "SSD" {
		t.Fatalf("document alerts %+v (the one without issuing state has none)", docs)
	}
	changes := []Change{personPut(p), personPut(old)}
	for _, a := range docs {
		changes = append(changes, docPut(a))
	}
	mustReplace(t, s.Store, 1, changes...)
	s.Reopen(t, Options{})
	// Every record authenticates and hashes to the announced state.
	rep, err := s.Verify(context.Background())
	if err != nil || !rep.Consistent {
		t.Fatalf("verify: %+v %v", rep, err)
	}
	// The person-linked document alert keeps its link through the binary
	// codec.
	hits, err := s.LookupDocument("SSD", "D00002264", "P")
	if err != nil || len(hits) != 1 || hits[0].Alert.PersonID != p.ID {
		t.Fatalf("lookup = %+v, %v", hits, err)
	}
}

func TestScreenPerson(t *testing.T) {
	s := MustOpen(t)
	p := format2Person()
	changes := append(fixtureChanges(), personPut(p))
	for _, a := range DocumentAlertsOf(&p) {
		changes = append(changes, docPut(a))
	}
	mustReplace(t, s.Store, 1, changes...)
	ctx := context.Background()

	cases := []struct {
		name      string
		q         PersonQuery
		level     string // "" = no hit on the listed person
		kind      string
		fieldHas  map[string]string // field -> substring of Listed or Agreement
		explained string
	}{
		{"second listed date of birth", PersonQuery{Name: "BOZIZE<<FRANCOIS<YANGOUVONDA", BirthDate: "1948-12-16", Nationality: "CAF", Sex: "M"},
			LevelHit, HitPerson, map[string]string{"dob": "1948-12-16", "name": NameKindPrimaryForTest}, "best of 4 listed dates"},
		{"year in a listed range", PersonQuery{Name: "BOZIZE<<FRANCOIS<YANGOUVONDA", BirthDate: "1952-03-03", Nationality: "SSD"},
			LevelHit, HitPerson, map[string]string{"dob": "in_range", "nationality": "SSD"}, "within the listed range"},
		{"approximate year", PersonQuery{Name: "BOZIZE<<FRANCOIS<YANGOUVONDA", BirthDate: "1961-01-01"},
			LevelHit, HitPerson, map[string]string{"dob": "approximate"}, "approximate"},
		{"alias used as travel name", PersonQuery{Surname: "MUDDE", GivenNames: []string{"SAMUEL", "PETER"}, BirthDate: "1948-12-16", Nationality: "SSD"},
			LevelHit, HitPerson, map[string]string{"name": "alias"}, "MUDDE = MUDDE"},
		{"original-script alias", PersonQuery{Name: "IVANOV<<SERGEI", BirthDate: "1946-10-14"},
			LevelHit, HitPerson, map[string]string{"name": "original script"}, ""},
		{"every date conflicts", PersonQuery{Name: "BOZIZE<<FRANCOIS<YANGOUVONDA", BirthDate: "1990-01-01"},
			"", "", nil, ""},
		{"own passport by number", PersonQuery{Name: "SMITH<<JOHN", DocumentNumber: "D00002264", DocumentIssuer: "SSD", DocumentType: "P"},
			LevelHit, HitDocument, nil, "own document of listed person UN-CFi.001"},
		{"own ID card number corroborates", PersonQuery{Name: "BOZIZE<<FRANCOIS", BirthDate: "1946-10-14", DocumentNumber: "M4800002143743", DocumentIssuer: "CAF"},
			LevelHit, HitPerson, map[string]string{"document": "M4800002143743"}, "listed as this person's"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hits, err := s.ScreenPerson(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			var got *Hit
			for i := range hits {
				if strings.HasPrefix(hits[i].RefID, p.ID) {
					got = &hits[i]
					break
				}
			}
			if tc.level == "" {
				if got != nil {
					t.Fatalf("unexpected hit %+v", *got)
				}
				return
			}
			if got == nil {
				t.Fatalf("no hit on %s among %+v", p.ID, hits)
			}
			if got.LevelOrHit() != tc.level || got.Kind != tc.kind {
				t.Fatalf("hit %s level %s, want %s %s: %s", got.Kind, got.LevelOrHit(), tc.kind, tc.level, got.Explanation)
			}
			if got.Person == nil || got.Person.Birth != "1946-10-14; 1948-12-16; 1950 to 1953; circa 1960" || len(got.Person.Lists) != 1 {
				t.Fatalf("summary %+v", got.Person)
			}
			if !strings.Contains(got.Explanation, tc.explained) {
				t.Fatalf("explanation lacks %q: %s", tc.explained, got.Explanation)
			}
			for field, want := range tc.fieldHas {
				ok := false
				for _, f := range got.Fields {
					if f.Field == field && (strings.Contains(f.Listed, want) || strings.Contains(f.Agreement, want)) {
						ok = true
					}
				}
				if !ok {
					t.Errorf("field %s lacks %q: %+v", field, want, got.Fields)
				}
			}
		})
	}

	if _, err := s.ScreenPerson(ctx, PersonQuery{BirthDate: "1950"}); !errors.Is(err, ErrBadQuery) {
		t.Fatalf("query without a name: %v", err)
	}
	if _, err := s.ScreenPerson(ctx, PersonQuery{Name: "DOE<<J", BirthDate: "19x0"}); !errors.Is(err, ErrBadQuery) {
		t.Fatalf("bad date: %v", err)
	}
	// A batch answers every query in order, a bad one with its error.
	var order []int
	err := s.ScreenPersons(ctx, []PersonQuery{{Name: "MUDDE<<SAMUEL"}, {}, {Name: "NOBODY<<KNOWN"}}, func(i int, _ []Hit, err error) error {
		order = append(order, i)
		if (i == 1) != (err != nil) {
			t.Errorf("query %d: err %v", i, err)
		}
		return nil
	})
	if err != nil || len(order) != 3 || order[2] != 2 {
		t.Fatalf("batch: %v %v", order, err)
	}
}

// NameKindPrimaryForTest is the name field's Agreement of a primary name.
const NameKindPrimaryForTest = "primary name"

func TestBirthDateForms(t *testing.T) {
	good := map[string]string{"1959-01-22": "1959-01-22", "1959": "1959", "1958..1963": "1958 to 1963", "~1971": "circa 1971", "~1971±5": "circa 1971"}
	for in, disp := range good {
		b, err := ParseBirthDate(in)
		if err != nil || b.Display() != disp {
			t.Errorf("ParseBirthDate(%q) = %+v %v", in, b, err)
			continue
		}
		if again, err := ParseBirthDate(b.String()); err != nil || again != b {
			t.Errorf("%q does not round-trip: %q %v", in, b.String(), err)
		}
	}
	for _, bad := range []string{"", "1963..1958", "1900..1990", "~1971-05", "~1971±20", "19590122", "1959-13", "abc..1960"} {
		if _, err := ParseBirthDate(bad); !errors.Is(err, ErrBadRecord) {
			t.Errorf("ParseBirthDate(%q) accepted", bad)
		}
	}
	p := PersonAlert{ID: "X", Name: Name{Surname: "X"}, Births: []BirthDate{{From: 1990, To: 1980}}}
	if err := validatePerson(&p, ""); !errors.Is(err, ErrBadRecord) {
		t.Fatalf("bad range accepted: %v", err)
	}
	p = PersonAlert{ID: "X", Name: Name{Surname: "X", Quality: "medium"}}
	if err := validatePerson(&p, ""); !errors.Is(err, ErrBadRecord) {
		t.Fatalf("bad quality accepted: %v", err)
	}
}
