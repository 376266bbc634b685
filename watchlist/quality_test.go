package watchlist_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/mrz"
	"github.com/checkpoint-edge/checkpoint/watchlist"
	"github.com/checkpoint-edge/checkpoint/watchlist/synth"
)

// openStore is a new store on a temporary file, closed with the test.
func openStore(tb testing.TB, opts watchlist.Options) *watchlist.Store {
	tb.Helper()
	dir := tb.TempDir()
	kp := seal.FileKey{Path: filepath.Join(dir, "kek")}
	if err := seal.GenerateKeyFile(kp.Path); err != nil {
		tb.Fatal(err)
	}
	s, err := watchlist.Open(filepath.Join(dir, "watchlist.db"), kp, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// listed are the hard cases' listed persons.
var listed = []watchlist.PersonAlert{
	{ID: "RED-1", Name: watchlist.Name{Surname: "Иванов", GivenNames: "Сергей"}, Birth: "1975-04-12", Nationality: "RUS", Sex: "M", Category: "wanted", Action: watchlist.ActionArrest, Source: "interpol_red"},
	{ID: "FTF-7", Name: watchlist.Name{Surname: "AL-HASSAN", GivenNames: "MOHAMMED ABDUL RAHMAN"}, Birth: "1988", Nationality: "SYR", Sex: "M", Category: "foreign_terrorist_fighter", Action: watchlist.ActionDiscreetCheck, Source: "national"},
	{ID: "MIS-3", Name: watchlist.Name{Surname: "Müller", GivenNames: "Jürgen Friedrich"}, Birth: "1961-11", Nationality: "DEU", Sex: "M", Category: "missing", Action: watchlist.ActionAlertOnly, Source: "interpol_yellow"},
	{ID: "REF-9", Name: watchlist.Name{Surname: "Παπαδόπουλος", GivenNames: "Ελένη"}, Birth: "1990-02-28", Nationality: "GRC", Sex: "F", Category: "refused_entry", Action: watchlist.ActionRefer, Source: "eu_sis"},
	{ID: "WNT-4", Name: watchlist.Name{Surname: "ZHOU", GivenNames: "JIANGUO"}, Aliases: []watchlist.Name{{Surname: "CHOU", GivenNames: "CHIEN KUO"}}, Birth: "1969-07-01", Nationality: "CHN", Sex: "M", Category: "wanted", Action: watchlist.ActionArrest, Source: "interpol_red"},
	{ID: "POI-2", Name: watchlist.Name{Surname: "García López", GivenNames: "José María"}, Birth: "1983-05-17", Nationality: "ESP", Sex: "M", Category: "person_of_interest", Action: watchlist.ActionDiscreetCheck, Source: "national"},
}

func TestPersonMatchingHardCases(t *testing.T) {
	s := openStore(t, watchlist.Options{})
	var cs []watchlist.Change
	// Background population: common names from every culture, so token
	// frequencies are realistic and traps have company.
	g := synth.New(synth.Config{Persons: 3000, Seed: 7})
	for {
		c, err := g.Next()
		if err != nil {
			break
		}
		cs = append(cs, c)
	}
	for _, p := range listed {
		p := p
		watchlist.FillMRZ(&p)
		cs = append(cs, watchlist.Change{Op: watchlist.OpPut, Kind: watchlist.KindPerson, ID: p.ID, Person: &p})
	}
	if err := s.ReplaceAll(context.Background(), watchlist.Meta{WatchlistID: "t", Sequence: 1, IssuedAt: time.Now()}, &watchlist.SliceSource{Changes: cs}); err != nil {
		t.Fatal(err)
	}
	d := func(y, m, dd int) mrz.Date { return mrz.Date{Year: y, Month: m, Day: dd, Valid: true} }
	tests := []struct {
		name   string
		doc    mrz.Document
		wantID string // "" = none of the listed persons may hit
	}{
		{"cyrillic listed, ICAO transliteration read", mrz.Document{Surname: "IVANOV", GivenNames: []string{"SERGEI"}, BirthDate: d(1975, 4, 12), Nationality: "RUS", Sex: "M"}, "RED-1"},
		{"cyrillic, alternative spelling", mrz.Document{Surname: "IVANOV", GivenNames: []string{"SERGEY"}, BirthDate: d(1975, 4, 12), Nationality: "RUS", Sex: "M"}, "RED-1"},
		{"day and month swapped", mrz.Document{Surname: "IVANOV", GivenNames: []string{"SERGEI"}, BirthDate: d(1975, 12, 4), Nationality: "RUS", Sex: "M"}, "RED-1"},
		{"conflicting date of birth vetoes", mrz.Document{Surname: "IVANOV", GivenNames: []string{"SERGEI"}, BirthDate: d(1992, 1, 30), Nationality: "RUS", Sex: "M"}, ""},
		{"arabic variant spellings, year-only DOB", mrz.Document{Surname: "ALHASSAN", GivenNames: []string{"MUHAMMAD", "ABDULRAHMAN"}, BirthDate: d(1988, 3, 9), Nationality: "SYR", Sex: "M"}, "FTF-7"},
		{"umlaut listed, truncated MRZ", mrz.Document{Surname: "MUELLER", GivenNames: []string{"JUERGEN", "FRIED"}, NameTruncated: true, BirthDate: d(1961, 11, 2), Nationality: "D", Sex: "M"}, "MIS-3"},
		{"umlaut without E", mrz.Document{Surname: "MULLER", GivenNames: []string{"JURGEN", "FRIEDRICH"}, BirthDate: d(1961, 11, 2), Nationality: "DEU", Sex: "M"}, "MIS-3"},
		{"greek script listed", mrz.Document{Surname: "PAPADOPOULOS", GivenNames: []string{"ELENI"}, BirthDate: d(1990, 2, 28), Nationality: "GRC", Sex: "F"}, "REF-9"},
		{"wade-giles alias", mrz.Document{Surname: "CHOU", GivenNames: []string{"CHIEN", "KUO"}, BirthDate: d(1969, 7, 1), Nationality: "TWN", Sex: "M"}, "WNT-4"},
		{"double surname, accents, order", mrz.Document{Surname: "GARCIA LOPEZ", GivenNames: []string{"JOSE", "MARIA"}, BirthDate: d(1983, 5, 17), Nationality: "ESP", Sex: "M"}, "POI-2"},
		{"common-token trap: shares only MOHAMMED and HASSAN", mrz.Document{Surname: "HASSAN", GivenNames: []string{"MOHAMMED"}, BirthDate: d(1971, 6, 6), Nationality: "EGY", Sex: "M"}, ""},
		{"common-token trap: JOSE MARIA another surname", mrz.Document{Surname: "FERNANDEZ", GivenNames: []string{"JOSE", "MARIA"}, BirthDate: d(1983, 5, 17), Nationality: "ESP", Sex: "M"}, ""},
		{"unrelated traveller", mrz.Document{Surname: "SMITH", GivenNames: []string{"ANNA"}, BirthDate: d(1990, 1, 1), Nationality: "GBR", Sex: "F"}, ""},
	}
	listedIDs := map[string]bool{}
	for _, p := range listed {
		listedIDs[p.ID] = true
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := s.Check(context.Background(), watchlist.Query{Document: &tc.doc})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, h := range res.Hits {
				if h.Kind == watchlist.HitPerson && listedIDs[h.RefID] {
					got = append(got, h.RefID)
					if h.Explanation == "" || len(h.Fields) == 0 || h.Person == nil {
						t.Errorf("hit without explanation: %+v", h)
					}
				}
			}
			if tc.wantID == "" {
				if len(got) != 0 {
					t.Fatalf("false hit %v: %s", got, explain(res))
				}
				return
			}
			if len(got) == 0 || got[0] != tc.wantID {
				t.Fatalf("hits %v, want %s first: %s", got, tc.wantID, explain(res))
			}
		})
	}
}

func explain(r *watchlist.Result) string {
	s := ""
	for _, h := range r.Hits {
		s += fmt.Sprintf("\n  %s %s %.2f %s: %s", h.Kind, h.RefID, h.Score, h.Strength, h.Explanation)
	}
	return s
}

func TestCheckDocumentAndFace(t *testing.T) {
	s := openStore(t, watchlist.Options{})
	g := synth.New(synth.Config{Docs: 500, Persons: 50, Faces: 50, Seed: 3, FaceModelID: "dlib-resnet-v1"})
	if err := s.ReplaceAll(context.Background(), watchlist.Meta{Sequence: 1, FaceModelID: "dlib-resnet-v1", IssuedAt: time.Now()}, g); err != nil {
		t.Fatal(err)
	}
	doc := g.Document(123)
	p := g.Person(7)
	face := g.FaceVector(7)
	face[0] += 0.05 // a new capture is never identical
	res, err := s.Check(context.Background(), watchlist.Query{
		Document:    &mrz.Document{IssuingState: doc.IssuingState, DocumentNumber: doc.Number, DocumentCode: doc.DocumentType + "<", Surname: "NOBODY", GivenNames: []string{"KNOWN"}},
		Face:        face,
		FaceModelID: "dlib-resnet-v1",
	})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for _, h := range res.Hits {
		kinds[h.Kind] = h.RefID
	}
	if kinds[watchlist.HitDocument] != doc.ID || kinds[watchlist.HitFace] != p.ID || kinds[watchlist.HitPerson] != "" {
		t.Fatalf("hits = %s", explain(res))
	}
	if res.Meta.Sequence != 1 {
		t.Fatalf("meta = %+v", res.Meta)
	}
}

// TestEvidenceBarIndependentOfListSize: a rare exact name with an agreeing
// birth year is a HIT on a list of 12 persons as on one of 5,000, and a
// common name with an agreeing year is not a HIT on either (the token
// frequencies the store learns from its own counts never lower the bar
// for a small list).
func TestEvidenceBarIndependentOfListSize(t *testing.T) {
	rare := watchlist.PersonAlert{ID: "OFAC-9639", Name: watchlist.Name{Surname: "HANIYA", GivenNames: "Ismail Abdul Salah"},
		Births: []watchlist.BirthDate{{Date: "1962"}}, Category: "sanctions", Action: watchlist.ActionRefer, Source: "OFAC"}
	common := watchlist.PersonAlert{ID: "X-1", Name: watchlist.Name{Surname: "ALI", GivenNames: "Mohammed"},
		Births: []watchlist.BirthDate{{Date: "1975"}}, Category: "sanctions", Action: watchlist.ActionRefer, Source: "X"}
	for _, n := range []int64{10, 5000} {
		t.Run(fmt.Sprint(n+2, " persons"), func(t *testing.T) {
			s := openStore(t, watchlist.Options{})
			var cs []watchlist.Change
			g := synth.New(synth.Config{Persons: n, Seed: 11})
			for {
				c, err := g.Next()
				if err != nil {
					break
				}
				cs = append(cs, c)
			}
			for _, p := range []watchlist.PersonAlert{rare, common} {
				p := p
				watchlist.FillMRZ(&p)
				cs = append(cs, watchlist.Change{Op: watchlist.OpPut, Kind: watchlist.KindPerson, ID: p.ID, Person: &p})
			}
			if err := s.ReplaceAll(context.Background(), watchlist.Meta{WatchlistID: "t", Sequence: 1, IssuedAt: time.Now()}, &watchlist.SliceSource{Changes: cs}); err != nil {
				t.Fatal(err)
			}
			level := func(q watchlist.PersonQuery, id string) string {
				hits, err := s.ScreenPerson(context.Background(), q)
				if err != nil {
					t.Fatal(err)
				}
				for _, h := range hits {
					if h.RefID == id {
						return h.LevelOrHit()
					}
				}
				return ""
			}
			if l := level(watchlist.PersonQuery{Name: "HANIYA<<ISMAIL", BirthDate: "1962-05-02", Sex: "M"}, rare.ID); l != watchlist.LevelHit {
				t.Errorf("rare name and year: level %q, want hit", l)
			}
			if l := level(watchlist.PersonQuery{Name: "ALI<<MOHAMMED", BirthDate: "1975-05-02", Sex: "M"}, common.ID); l == watchlist.LevelHit {
				t.Errorf("common name and year: a HIT")
			}
		})
	}
}
