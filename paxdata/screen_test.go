package paxdata_test

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/paxdata"
	"github.com/checkpoint-edge/checkpoint/paxdata/paxdatatest"
	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// listStore is a real encrypted watchlist with a stolen passport and two
// wanted persons.
func listStore(t testing.TB, extra ...watchlist.Change) *watchlist.Store {
	t.Helper()
	dir := t.TempDir()
	kek := filepath.Join(dir, "kek")
	if err := seal.GenerateKeyFile(kek); err != nil {
		t.Fatal(err)
	}
	s, err := watchlist.Open(filepath.Join(dir, "w.db"), seal.FileKey{Path: kek}, watchlist.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	p1 := &watchlist.PersonAlert{ID: "P-1", Name: watchlist.Name{Surname: "Al-Rashid", GivenNames: "Mohammed Abdulrahman"}, Birth: "1980-12-03",
		Nationality: "SYR", Sex: "M", Category: "foreign_terrorist_fighter", Action: watchlist.ActionDiscreetCheck, Source: "national"}
	p2 := &watchlist.PersonAlert{ID: "P-2", Name: watchlist.Name{Surname: "Kowalczyk", GivenNames: "Anna"}, Birth: "1975-06-01",
		Nationality: "POL", Sex: "F", Category: "wanted", Action: watchlist.ActionArrest, Source: "interpol_red"}
	watchlist.FillMRZ(p1)
	watchlist.FillMRZ(p2)
	cs := append([]watchlist.Change{
		{Op: watchlist.OpPut, Kind: watchlist.KindDocument, ID: "D-1", Document: &watchlist.DocumentAlert{ID: "D-1", IssuingState: "UTO",
			DocumentType: "P", Number: "L898902C3", Status: "stolen", Source: "SLTD", Action: watchlist.ActionRefer}},
		{Op: watchlist.OpPut, Kind: watchlist.KindDocument, ID: "D-2", Document: &watchlist.DocumentAlert{ID: "D-2", IssuingState: "NLD",
			DocumentType: "V", Number: "V0099887", Status: "revoked", Source: "national", Action: watchlist.ActionRefer}},
		{Op: watchlist.OpPut, Kind: watchlist.KindPerson, ID: "P-1", Person: p1},
		{Op: watchlist.OpPut, Kind: watchlist.KindPerson, ID: "P-2", Person: p2},
	}, extra...)
	if err := s.ReplaceAll(context.Background(), watchlist.Meta{WatchlistID: "national", Sequence: 7, IssuedAt: time.Now(),
		ExpiresAt: time.Now().Add(48 * time.Hour)}, &watchlist.SliceSource{Changes: cs}); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestScreen(t *testing.T) {
	s := listStore(t)
	pax := paxdatatest.Travellers(40, 1)
	// Listed travellers among them: a stolen passport, a wanted person
	// under another spelling, a wanted person exactly, and a revoked visa
	// as a second document.
	pax[3].DocumentNumber, pax[3].IssuingState = "L898902C3", "UTO"
	pax[10].Surname, pax[10].GivenNames, pax[10].BirthDate, pax[10].Nationality, pax[10].Sex = "ALRASHID", "MUHAMMAD ABDUL RAHMAN", "1980-12-03", "SYR", "M"
	pax[20].Surname, pax[20].GivenNames, pax[20].BirthDate, pax[20].Nationality, pax[20].Sex = "KOWALCZYK", "ANNA", "1975-06-01", "POL", "F"
	pax[30].OtherDocuments = []paxdata.Document{{Type: "V", Number: "V0099887", IssuingState: "NLD"}}
	m := &paxdata.Manifest{Message: paxdata.TypePAXLST, Reference: "X", Travellers: pax, Declared: 40,
		Flight: paxdata.Flight{Number: "BA0123", Departure: "JFK", Arrival: "LHR", ArrivalAt: time.Now().Add(5 * time.Hour)}}
	sc := &paxdata.Screener{Watchlist: s, ScreenedBy: "HQ"}
	r, err := sc.Screen(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	if r.Counts.Passengers+r.Counts.Crew != 40 || r.Counts.Screened != 40 || r.Counts.Hits != 4 || r.Failed != 0 || r.WatchlistSequence != 7 {
		t.Fatalf("counts %+v failed %d: %+v", r.Counts, r.Failed, r.Flagged)
	}
	got := map[int]paxdata.Screened{}
	for _, f := range r.Flagged {
		got[f.Index] = f
	}
	want := map[int]string{3: "document/D-1", 10: "person/P-1", 20: "person/P-2", 30: "document/D-2"}
	for i, ref := range want {
		f, ok := got[i]
		if !ok || f.Level != paxdata.LevelHit || f.Matches[0].Kind+"/"+f.Matches[0].RefID != ref || f.Matches[0].Explanation == "" {
			t.Errorf("traveller %d: %+v, want %s", i, f, ref)
		}
	}
	if p := got[10].Matches[0]; len(p.Fields) == 0 || !strings.Contains(p.Person, "1980-12-03") || p.Category != "foreign_terrorist_fighter" {
		t.Errorf("person match not explained: %+v", p)
	}
	// The alerts for the port carry no booking reference.
	pax[3].BookingRef = "ABC123"
	r, _ = sc.Screen(context.Background(), m)
	a := r.Alerts()
	if err := a.Validate("LHR"); err != nil {
		t.Fatal(err)
	}
	for _, al := range a.Alerts {
		if al.Traveller.BookingRef != "" {
			t.Fatal("booking reference in an alert")
		}
	}
	if _, err := (&paxdata.Screener{Watchlist: emptyList{}}).Screen(context.Background(), m); err != paxdata.ErrNoWatchlist {
		t.Fatalf("empty list: %v", err)
	}
}

type emptyList struct{}

func (emptyList) Check(context.Context, watchlist.Query) (*watchlist.Result, error) {
	return &watchlist.Result{}, nil
}
func (emptyList) Meta() watchlist.Meta { return watchlist.Meta{} }

// TestScreenGeneratedFlight parses and screens a generated 400-passenger
// PAXLST with five listed travellers: one under a spelling variant, one
// with a stolen passport.
func TestScreenGeneratedFlight(t *testing.T) {
	s := listStore(t)
	pax := paxdatatest.Travellers(400, 3)
	r := rand.New(rand.NewPCG(1, 2))
	p1 := paxdatatest.FromPerson(&watchlist.PersonAlert{Name: watchlist.Name{Surname: "Al-Rashid", GivenNames: "Mohammed Abdulrahman"},
		Birth: "1980-12-03", Nationality: "SYR", Sex: "M"}, r)
	p1.GivenNames = paxdatatest.Misspell(p1.GivenNames)
	p2 := paxdatatest.FromPerson(&watchlist.PersonAlert{Name: watchlist.Name{Surname: "Kowalczyk", GivenNames: "Anna"},
		Birth: "1975-06-01", Nationality: "POL", Sex: "F"}, r)
	pax[17], pax[211] = p1, p2
	pax[333].DocumentNumber, pax[333].IssuingState = "L898902C3", "UTO"
	arr := time.Date(2026, 11, 25, 14, 5, 0, 0, time.UTC)
	b := paxdatatest.PAXLST(paxdatatest.Flight{Carrier: "XX", Number: "123", Departure: "JFK", Arrival: "LHR",
		DepartureAt: arr.Add(-7 * time.Hour), ArrivalAt: arr}, pax, "GEN1")
	res, err := paxdata.Parse(b, paxdata.ParseOptions{})
	if err != nil || len(res.Errors) != 0 || len(res.Manifests) != 1 {
		t.Fatalf("parse: %v %q", err, res.ErrorStrings())
	}
	m := res.Manifests[0]
	if len(m.Travellers) != 400 || len(m.Warnings) != 0 || m.Flight.Number != "XX0123" {
		t.Fatalf("%d travellers, warnings %q", len(m.Travellers), m.Warnings)
	}
	rep, err := (&paxdata.Screener{Watchlist: s, ScreenedBy: "HQ"}).Screen(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	flagged := map[int]bool{}
	for _, f := range rep.Flagged {
		flagged[f.Index] = true
	}
	if !flagged[17] || !flagged[211] || !flagged[333] || rep.Counts.Screened != 400 {
		t.Fatalf("flagged %v, counts %+v", flagged, rep.Counts)
	}
	// Several workers give the same list.
	par, err := (&paxdata.Screener{Watchlist: s, ScreenedBy: "HQ", Workers: 4}).Screen(context.Background(), m)
	if err != nil || par.Counts != rep.Counts || len(par.Flagged) != len(rep.Flagged) {
		t.Fatalf("4 workers: %+v vs %+v (%v)", par.Counts, rep.Counts, err)
	}
	for i := range par.Flagged {
		if par.Flagged[i].Index != rep.Flagged[i].Index {
			t.Fatalf("flagged order differs at %d", i)
		}
	}
	t.Logf("counts %+v; misspelled as %q", rep.Counts, p1.GivenNames)
}
