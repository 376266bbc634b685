package demo

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/checkpoint-edge/checkpoint/internal/atomicfile"
	"github.com/checkpoint-edge/checkpoint/mrz"
	"github.com/checkpoint-edge/checkpoint/paxdata"
	"github.com/checkpoint-edge/checkpoint/paxdata/paxdatatest"
)

// Pre-arrival data for the demo: the airline passenger lists (API,
// UN/EDIFACT PAXLST) a post receives before flights land, dropped in the
// unit's paxdata inbox as a share or a USB stick would deliver them. The
// daemon screens them against its watchlist as soon as one is installed,
// deletes the files and keeps the results encrypted; the officer's page
// lists the flights under "Expected arrivals" (key A), and a demo
// traveller who was on a flagged list shows "pre-arrival alert, flight …"
// when their passport is scanned.

// Demo flights, relative to the time of the run so that they are always
// still to come.
var demoFlights = []struct {
	carrier, number, from string
	lands                 time.Duration
	fillers               int
	withCast              bool
}{
	// The demo's travellers are on the first flight, among other
	// passengers: the listed ones are flagged.
	{"DM", "0101", "JFK", 90 * time.Minute, 120, true},
	// A second flight with nobody listed on it.
	{"DM", "0207", "CDG", 4 * time.Hour, 80, false},
}

// writePrearrival writes one PAXLST file per demo flight into the inbox,
// with the travellers of travellers.mrz on the first.
func writePrearrival(p Paths, seed uint64, now time.Time) error {
	f, err := os.Open(p.Travellers)
	if err != nil {
		return err
	}
	file, err := ReadFile(f)
	f.Close()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(p.PaxInbox, 0o700); err != nil {
		return err
	}
	now = now.Truncate(time.Minute)
	for i, fl := range demoFlights {
		var pax []paxdata.Traveller
		if fl.withCast {
			for _, e := range file.Entries {
				if t, ok := castTraveller(e.Lines); ok {
					pax = append(pax, t)
				}
			}
		}
		// Passengers with made-up names: Travellers makes every fifth a
		// namesake from the background list's name cultures, which would
		// add possible matches nobody designed; those are left out.
		for j, t := range paxdatatest.Travellers(fl.fillers*5/4+1, seed+uint64(i)) {
			if j%5 != 0 && len(pax) < fl.fillers+len(file.Entries) {
				pax = append(pax, t)
			}
		}
		for j := range pax {
			pax[j].Seat = fmt.Sprintf("%d%c", 3+j/6, 'A'+j%6)
		}
		arr := now.Add(fl.lands)
		msg := paxdatatest.PAXLST(paxdatatest.Flight{Carrier: fl.carrier, Number: fl.number, Departure: fl.from, Arrival: "DMO",
			DepartureAt: arr.Add(-7 * time.Hour), ArrivalAt: arr}, pax, "DEMO"+fl.number)
		name := filepath.Join(p.PaxInbox, fmt.Sprintf("paxlst-%s%s.edi", fl.carrier, fl.number))
		if err := atomicfile.WriteFile(name, msg, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// castTraveller is a demo traveller as the airline's list gives them: the
// data of the passport they will present.
func castTraveller(lines []string) (paxdata.Traveller, bool) {
	d := mrz.Parse(lines, mrz.Options{})
	if !d.Valid {
		return paxdata.Traveller{}, false
	}
	return paxdata.Traveller{Role: paxdata.RolePassenger, Qualifier: "FL", Surname: d.Surname, GivenNames: strings.Join(d.GivenNames, " "),
		BirthDate: d.BirthDate.String(), Sex: d.Sex, Nationality: d.Nationality, DocumentType: d.DocumentCode[:1],
		DocumentNumber: d.DocumentNumber, IssuingState: d.IssuingState, DocumentExpiry: d.ExpiryDate.String()}, true
}
