package unit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/checkpoint-edge/checkpoint/audit"
	"github.com/checkpoint-edge/checkpoint/config"
	"github.com/checkpoint-edge/checkpoint/hub/prearrival"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/internal/unit"
	"github.com/checkpoint-edge/checkpoint/internal/unit/unittest"
	"github.com/checkpoint-edge/checkpoint/lane"
	"github.com/checkpoint-edge/checkpoint/mrz"
	"github.com/checkpoint-edge/checkpoint/paxdata"
	"github.com/checkpoint-edge/checkpoint/paxdata/paxdatatest"
	"github.com/checkpoint-edge/checkpoint/sync/bundle"
	"github.com/checkpoint-edge/checkpoint/sync/trust"
	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// passport is the MRZ of a traveller's passport.
func passport(t *testing.T, tr paxdata.Traveller, number string) []string {
	t.Helper()
	birth, err := time.Parse("2006-01-02", tr.BirthDate)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := mrz.Generate(mrz.Spec{Format: mrz.FormatTD3, DocumentCode: "P", IssuingState: tr.IssuingState, Surname: tr.Surname,
		GivenNames: strings.Fields(tr.GivenNames), DocumentNumber: number, Nationality: tr.Nationality, BirthDate: birth,
		ExpiryDate: time.Now().AddDate(4, 0, 0), Sex: tr.Sex})
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

func prearrivalHits(tx *lane.Transaction) []lane.HitView {
	var out []lane.HitView
	for _, h := range tx.Hits {
		if h.Kind == lane.HitKindPrearrival {
			out = append(out, h)
		}
	}
	return out
}

// TestPrearrivalEndToEnd: a generated 400-passenger PAXLST with five
// listed travellers (one under another spelling, two with stolen
// passports) is screened at headquarters against the full list, the
// alerts reach the unit at the arrival port over mutual TLS, and when one
// of those travellers scans their passport on the PTY the lane shows the
// pre-arrival alert, though the unit's own list does not hold them.
func TestPrearrivalEndToEnd(t *testing.T) {
	f := unittest.New(t, unittest.Options{Hub: true, Channels: []config.ChannelPull{
		{Kind: bundle.KindPrearrival, Channel: "LHR", PollInterval: config.Duration(200 * time.Millisecond)}}})
	keys := filepath.Join(f.Dir, "keys")
	signer, err := trust.ReadPrivateKey(filepath.Join(keys, "signing.key"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(keys, "unit.age"))
	fleet, err := age.ParseX25519Identity(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	root, err := trust.Load(f.Config.Watchlist.Trust)
	if err != nil {
		t.Fatal(err)
	}

	// Headquarters' full list (the units carry a smaller one): three
	// persons and two stolen passports that the unit's list lacks.
	r := rand.New(rand.NewPCG(8, 8))
	persons := []*watchlist.PersonAlert{
		{ID: "HQ-P1", Name: watchlist.Name{Surname: "Al-Rashid", GivenNames: "Mohammed Abdulrahman"}, Birth: "1980-12-03", Nationality: "SYR", Sex: "M"},
		{ID: "HQ-P2", Name: watchlist.Name{Surname: "Haddad", GivenNames: "Khaled"}, Birth: "1985-04-17", Nationality: "JOR", Sex: "M"},
		{ID: "HQ-P3", Name: watchlist.Name{Surname: "Kowalczyk", GivenNames: "Anna"}, Birth: "1975-06-01", Nationality: "POL", Sex: "F"},
	}
	var cs []watchlist.Change
	for _, p := range persons {
		p.Category, p.Action, p.Source = "foreign_terrorist_fighter", watchlist.ActionDiscreetCheck, "national"
		watchlist.FillMRZ(p)
		cs = append(cs, watchlist.Change{Op: watchlist.OpPut, Kind: watchlist.KindPerson, ID: p.ID, Person: p})
	}
	for i, num := range []string{"XQ0000001", "XQ0000002"} {
		id := "HQ-D" + string(rune('1'+i))
		cs = append(cs, watchlist.Change{Op: watchlist.OpPut, Kind: watchlist.KindDocument, ID: id, Document: &watchlist.DocumentAlert{ID: id,
			IssuingState: "UTO", DocumentType: "P", Number: num, Status: "stolen", Source: "SLTD", Action: watchlist.ActionRefer}})
	}
	var wl bytes.Buffer
	now := time.Now()
	signed, err := bundle.Build(context.Background(), &wl, &watchlist.SliceSource{Changes: cs}, bundle.BuildOptions{WatchlistID: "hq-full",
		Sequence: 1, IssuedAt: now.Add(-time.Minute), ExpiresAt: now.Add(48 * time.Hour), Key: signer,
		Recipients: []age.Recipient{fleet.Recipient()}, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	wlPath := filepath.Join(t.TempDir(), "hq-full.cpwl")
	os.WriteFile(wlPath, wl.Bytes(), 0o600)
	if _, err := bundle.Publish(f.HubBundles, wlPath, signed, now, 0); err != nil {
		t.Fatal(err)
	}
	kek := filepath.Join(t.TempDir(), "hq.kek")
	seal.GenerateKeyFile(kek)
	svc, err := prearrival.Open(prearrival.Config{Dir: filepath.Join(t.TempDir(), "hq"), Key: seal.FileKey{Path: kek},
		BundleDir: f.HubBundles, WatchlistID: "hq-full", Trust: root, Identities: []age.Identity{fleet}, Sign: signer,
		Recipients: []age.Recipient{fleet.Recipient()}, Zones: map[string]*time.Location{"LHR": time.Local}})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	if _, err := svc.SyncWatchlist(context.Background()); err != nil {
		t.Fatal(err)
	}

	// The flight: 400 travellers, five of them listed at HQ.
	pax := paxdatatest.Travellers(400, 21)
	listedAt := []int{12, 150, 299}
	for i, at := range listedAt {
		pax[at] = paxdatatest.FromPerson(persons[i], r)
		pax[at].DocumentNumber = "ZP" + string(rune('0'+i)) + "123456"
	}
	pax[150].GivenNames = paxdatatest.Misspell(pax[150].GivenNames) // booked under another spelling
	pax[77].DocumentNumber, pax[77].IssuingState = "XQ0000001", "UTO"
	pax[333].DocumentNumber, pax[333].IssuingState = "XQ0000002", "UTO"
	arrival := time.Now().Add(2 * time.Hour).Truncate(time.Minute)
	msg := paxdatatest.PAXLST(paxdatatest.Flight{Carrier: "XX", Number: "123", Departure: "JFK", Arrival: "LHR",
		DepartureAt: arrival.Add(-7 * time.Hour), ArrivalAt: arrival}, pax, "E2E1")
	rc, err := svc.Submit(context.Background(), msg, "upload:airline-gw-1")
	if err != nil || len(rc.Messages) != 1 || !rc.Messages[0].Screened {
		t.Fatalf("hub: %+v %v", rc, err)
	}

	u := running(t, f)
	waitFor(t, "prearrival/LHR pulled", func() bool {
		fl := u.ExpectedArrivals(time.Now().Add(-time.Hour), 0)
		return len(fl) == 1 && len(fl[0].Flagged) >= 5
	})
	fl := u.ExpectedArrivals(time.Now().Add(-time.Hour), 0)[0]
	if fl.Flight != "XX0123" || fl.Counts.Passengers+fl.Counts.Crew != 400 || fl.Counts.Hits < 5 || fl.ScreenedBy != "HQ" {
		t.Fatalf("expected arrival %+v", fl)
	}

	// The traveller booked under another spelling scans their passport:
	// the unit's own list has nothing, the pre-arrival alert makes it a HIT.
	tx := decided(t, u, f, passport(t, pax[150], pax[150].DocumentNumber))
	ph := prearrivalHits(tx)
	if tx.Decision != lane.Hit || len(ph) != 1 || len(tx.Hits) != 1 {
		t.Fatalf("decision %s, hits [%s]", tx.Decision, kinds(tx))
	}
	h := ph[0]
	if !strings.HasPrefix(h.Explanation, "pre-arrival alert, flight XX0123, screened at HQ at ") || h.Prearrival == nil ||
		h.Prearrival.MatchedBy != "document" || h.RefID != "HQ-P2" || h.Level != lane.LevelHit || h.Action != watchlist.ActionDiscreetCheck {
		t.Fatalf("prearrival hit %+v", h)
	}
	// A passport with another number but the listed name and birth date is
	// found by name + DOB.
	tx = decided(t, u, f, passport(t, pax[12], "NEW999999"))
	if ph := prearrivalHits(tx); tx.Decision != lane.Hit || len(ph) != 1 || ph[0].Prearrival.MatchedBy != "name_dob" || ph[0].RefID != "HQ-P1" {
		t.Fatalf("name+DOB: %s [%s] %+v", tx.Decision, kinds(tx), ph)
	}
	// The stolen passport flagged at HQ.
	stolenTraveller := pax[77]
	stolenTraveller.Surname, stolenTraveller.GivenNames = "OTHER", "NAME" // the MRZ of a forged data page
	if stolenTraveller.BirthDate == "" {
		stolenTraveller.BirthDate = "1970-01-01"
	}
	tx = decided(t, u, f, passport(t, stolenTraveller, "XQ0000001"))
	if ph := prearrivalHits(tx); tx.Decision != lane.Hit || len(ph) != 1 || ph[0].RefID != "HQ-D1" {
		t.Fatalf("stolen passport: %s [%s]", tx.Decision, kinds(tx))
	}
	// Someone else on the flight stays clear.
	tx = decided(t, u, f, passport(t, pax[5], pax[5].DocumentNumber))
	if tx.Decision != lane.Clear || len(tx.Hits) != 0 {
		t.Fatalf("clear traveller: %s [%s]", tx.Decision, kinds(tx))
	}
	raw, _ := os.ReadFile(f.Config.Audit.Path)
	if !bytes.Contains(raw, []byte(`"action":"channel_installed"`)) || bytes.Contains(raw, []byte("KOWALCZYK")) {
		t.Fatalf("audit:\n%s", raw)
	}
}

// TestPaxdataOnTheUnit: files dropped in the inbox and handed over on the
// admin socket are screened against the unit's own list, the clear-text
// file goes, the run is audited, and the lane matches the travellers.
func TestPaxdataOnTheUnit(t *testing.T) {
	f := unittest.New(t, unittest.Options{})
	inbox := filepath.Join(f.Dir, "inbox")
	os.MkdirAll(inbox, 0o700)
	f.Config.Paxdata.Inbox = inbox
	f.Config.Paxdata.ScanInterval = config.Duration(100 * time.Millisecond)
	u := running(t, f)

	pax := paxdatatest.Travellers(50, 5)
	// The fixture's wanted person travels under their own name.
	pax[9].Surname, pax[9].GivenNames, pax[9].BirthDate, pax[9].Nationality, pax[9].Sex = "PARK", "JIMIN", "1995-10-13", "KOR", "M"
	pax[9].DocumentNumber, pax[9].IssuingState = "M12345678", "KOR"
	arrival := time.Now().Add(time.Hour).Truncate(time.Minute)
	msg := paxdatatest.PAXLST(paxdatatest.Flight{Carrier: "KE", Number: "907", Departure: "ICN", Arrival: "LHR",
		DepartureAt: arrival.Add(-12 * time.Hour), ArrivalAt: arrival}, pax, "IN1")
	path := filepath.Join(inbox, "ke907.edi")
	os.WriteFile(path, msg, 0o600)
	old := time.Now().Add(-time.Minute)
	os.Chtimes(path, old, old)
	waitFor(t, "inbox screened", func() bool {
		_, err := os.Stat(path)
		return os.IsNotExist(err) && len(u.ExpectedArrivals(time.Now().Add(-time.Hour), 0)) == 1
	})
	fl := u.ExpectedArrivals(time.Now().Add(-time.Hour), 0)[0]
	if fl.Flight != "KE0907" || fl.Counts.Hits != 1 || fl.ScreenedBy != unittest.UnitID {
		t.Fatalf("local flight %+v", fl)
	}
	tx := decided(t, u, f, f.Listed)
	if ph := prearrivalHits(tx); tx.Decision != lane.Hit || len(ph) != 1 || !strings.Contains(ph[0].Explanation, "screened at "+unittest.UnitID) {
		t.Fatalf("listed traveller: %s [%s]", tx.Decision, kinds(tx))
	}

	// The technician's tool hands a file over on the admin socket.
	msg2 := paxdatatest.PAXLST(paxdatatest.Flight{Carrier: "BA", Number: "1", Departure: "JFK", Arrival: "LHR",
		DepartureAt: arrival.Add(-8 * time.Hour), ArrivalAt: arrival.Add(time.Hour)}, paxdatatest.Travellers(20, 6), "ADM1")
	c := unixClient(filepath.Join(f.Config.StateDir, unit.AdminSocket))
	resp, err := c.Post("http://unit/v1/paxdata/screen?name=ba1.edi", "application/edifact", bytes.NewReader(msg2))
	if err != nil {
		t.Fatal(err)
	}
	var sr unit.PaxScreenResponse
	json.NewDecoder(resp.Body).Decode(&sr)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(sr.Reports) != 1 || sr.Reports[0].Counts.Screened != 20 {
		t.Fatalf("admin screen: %d %+v", resp.StatusCode, sr)
	}
	if n := len(u.ExpectedArrivals(time.Now().Add(-time.Hour), 0)); n != 2 {
		t.Fatalf("%d expected flights", n)
	}
	raw, _ := os.ReadFile(f.Config.Audit.Path)
	if _, err := audit.Verify(f.Config.Audit.Path); err != nil || bytes.Count(raw, []byte(`"action":"paxdata_screened"`)) != 2 ||
		bytes.Contains(raw, []byte("JIMIN")) || bytes.Contains(raw, []byte("M12345678")) {
		t.Fatalf("audit %v:\n%s", err, raw)
	}
	if st, _ := os.ReadFile(filepath.Join(f.Config.StateDir, "paxdata.db")); bytes.Contains(st, []byte("JIMIN")) {
		t.Fatal("paxdata store not encrypted")
	}
}
