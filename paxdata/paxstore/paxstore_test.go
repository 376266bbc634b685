package paxstore

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/paxdata"
)

var t0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func open(t *testing.T, dir string) *Store {
	t.Helper()
	kek := filepath.Join(dir, "kek")
	if _, err := os.Stat(kek); err != nil {
		seal.GenerateKeyFile(kek)
	}
	s, err := Open(filepath.Join(dir, "pax.db"), seal.FileKey{Path: kek}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func entry(kind, flight, port string, arr, received time.Time) *Entry {
	m := &paxdata.Manifest{Message: kind, Reference: flight + "R", Sender: "XX",
		Flight: paxdata.Flight{Number: flight, Departure: "JFK", Arrival: port, DepartureAt: arr.Add(-7 * time.Hour), ArrivalAt: arr},
		Travellers: []paxdata.Traveller{{Role: paxdata.RolePassenger, Surname: "SECRETNAME", GivenNames: "ANNA", BirthDate: "1980-03-12",
			DocumentNumber: "SECRETDOC1", BookingRef: "SECRETPNR", Nationality: "POL"}}}
	r := &paxdata.Report{Message: kind, Flight: m.Flight, ScreenedAt: received, Counts: paxdata.Counts{Passengers: 1, Screened: 1, Hits: 1},
		Flagged: []paxdata.Screened{{Level: paxdata.LevelHit, Traveller: m.Travellers[0], Matches: []paxdata.Match{{Kind: "person", RefID: "P1"}}}}}
	return &Entry{Meta: Meta{ID: EntryID(m), Message: kind, Flight: flight, Departure: "JFK", Arrival: port, ArrivalAt: arr,
		ReceivedAt: received, Travellers: 1, Flagged: 1, Source: "inbox"}, Manifest: m, Report: r}
}

func TestStoreAndRetention(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	api1 := entry(paxdata.TypePAXLST, "BA0001", "LHR", t0.Add(2*time.Hour), t0)
	api2 := entry(paxdata.TypePAXLST, "BA0002", "LHR", t0.Add(30*time.Hour), t0)
	cdg := entry(paxdata.TypePAXLST, "AF0003", "CDG", t0.Add(3*time.Hour), t0)
	pnr := entry(paxdata.TypePNRGOV, "BA0001", "LHR", t0.Add(2*time.Hour), t0)
	for _, e := range []*Entry{api1, api2, cdg, pnr} {
		if err := s.Put(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Put(api1); err != nil { // the same message again: one entry
		t.Fatal(err)
	}
	list, _ := s.List()
	if len(list) != 4 {
		t.Fatalf("%d entries", len(list))
	}
	got, err := s.Get(api1.ID)
	if err != nil || got.Manifest.Travellers[0].Surname != "SECRETNAME" || got.Report.Counts.Hits != 1 {
		t.Fatalf("get: %v %+v", err, got)
	}
	arr, _ := s.Arriving("LHR", t0)
	if len(arr) != 3 || arr[0].Flight != "BA0001" || arr[2].Flight != "BA0002" {
		t.Fatalf("arriving LHR: %d", len(arr))
	}
	if arr, _ := s.Arriving("LHR", t0.Add(10*time.Hour)); len(arr) != 1 {
		t.Fatalf("arriving later: %d", len(arr))
	}
	s.Close()
	raw, _ := os.ReadFile(filepath.Join(dir, "pax.db"))
	for _, secret := range []string{"SECRETNAME", "SECRETDOC1", "SECRETPNR", "1980-03-12"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Fatalf("%s in clear in the store file", secret)
		}
	}
	s = open(t, dir)

	// A day after the arrival, the API entries of that flight go; the PNR
	// stays.
	rm, err := s.Enforce(t0.Add(27*time.Hour), Retention{})
	if err != nil || len(rm) != 2 {
		t.Fatalf("enforce at +27h: %+v %v", rm, err)
	}
	for _, r := range rm {
		if r.Action != "deleted" || r.Rule != "api_delete" || r.Meta.Message != paxdata.TypePAXLST {
			t.Errorf("removed %+v", r)
		}
	}
	if _, err := s.Get(api1.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted entry still there: %v", err)
	}
	// Six months on, the PNR is depersonalised, once.
	rm, _ = s.Enforce(t0.Add(184*24*time.Hour), Retention{})
	if len(rm) != 2 || rm[0].Action == rm[1].Action {
		t.Fatalf("at 6 months: %+v", rm)
	}
	p, err := s.Get(pnr.ID)
	if err != nil || p.Depersonalised.IsZero() {
		t.Fatalf("pnr %v %+v", err, p)
	}
	tr := p.Manifest.Travellers[0]
	if tr.Surname != "" || tr.DocumentNumber != "" || tr.BookingRef != "" || tr.BirthDate != "1980" || tr.Nationality != "POL" ||
		p.Report.Flagged[0].Traveller.Surname != "" {
		t.Fatalf("not depersonalised: %+v", tr)
	}
	if rm, _ := s.Enforce(t0.Add(185*24*time.Hour), Retention{}); len(rm) != 0 {
		t.Fatalf("second pass: %+v", rm)
	}
	rm, _ = s.Enforce(t0.Add(5*366*24*time.Hour), Retention{})
	if len(rm) != 1 || rm[0].Rule != "pnr_delete" {
		t.Fatalf("at 5 years: %+v", rm)
	}
	if l, _ := s.List(); len(l) != 0 {
		t.Fatalf("left %+v", l)
	}
	// Configured retention wins over the defaults.
	s.Put(entry(paxdata.TypePAXLST, "BA0009", "LHR", t0, t0))
	if rm, _ := s.Enforce(t0.Add(2*time.Hour), Retention{API: time.Hour}); len(rm) != 1 {
		t.Fatalf("1 h API retention: %+v", rm)
	}
}

func TestTamper(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	a, b := entry(paxdata.TypePAXLST, "BA0001", "LHR", t0, t0), entry(paxdata.TypePAXLST, "BA0002", "LHR", t0, t0)
	s.Put(a)
	s.Put(b)
	s.Close()
	db, _ := bolt.Open(filepath.Join(dir, "pax.db"), 0o600, nil)
	db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketSealed)
		va := bytes.Clone(bk.Get([]byte(a.ID)))
		return bk.Put([]byte(b.ID), va) // b's slot now holds a's sealed content
	})
	db.Close()
	s = open(t, dir)
	if _, err := s.Get(b.ID); !errors.Is(err, ErrIntegrity) {
		t.Fatalf("moved entry: %v", err)
	}
	if _, err := s.Get(a.ID); err != nil {
		t.Fatal(err)
	}
}
