package lane

import (
	"fmt"
	"time"
)

// HitKindPrearrival is the kind of a HitView that comes from a pre-arrival
// alert: the traveller was screened (at headquarters or on this unit)
// from the airline's API/PNR data before the flight landed, and the
// scanned document matched their entry. Its Level (hit or possible) makes
// the decision HIT or REFER like any other hit, even when the local
// lookup alone raised nothing.
const HitKindPrearrival = "prearrival"

// PrearrivalView is what the officer sees of a pre-arrival alert.
type PrearrivalView struct {
	Flight     string    `json:"flight"`
	Departure  string    `json:"departure,omitempty"`
	Arrival    string    `json:"arrival"`
	ArrivalAt  time.Time `json:"arrival_at"`
	ScreenedAt time.Time `json:"screened_at"`
	ScreenedBy string    `json:"screened_by"` // "HQ" or a unit id
	Message    string    `json:"message"`     // PAXLST, PNRGOV
	// MatchedBy says how the scanned document was found among the alerts:
	// "document" (its number) or "name_dob".
	MatchedBy string `json:"matched_by"`
	// Seat and Role as the airline sent them.
	Seat string `json:"seat,omitempty"`
	Role string `json:"role,omitempty"`
}

// Headline is the line the officer reads: "pre-arrival alert, flight
// XX123, screened at HQ at 14:05" (local time; the date when it was
// another day).
func (p *PrearrivalView) Headline(now time.Time) string {
	at := p.ScreenedAt.In(now.Location())
	when := at.Format("15:04")
	if y, m, d := at.Date(); y != now.Year() || m != now.Month() || d != now.Day() {
		when = at.Format("2 Jan 15:04")
	}
	return fmt.Sprintf("pre-arrival alert, flight %s, screened at %s at %s", p.Flight, p.ScreenedBy, when)
}
