// Package paxdata screens airline passenger data before a flight lands:
// Advance Passenger Information (UN/EDIFACT PAXLST, D02B and D05B, as the
// WCO/IATA/ICAO API guidelines use it) and Passenger Name Records (PNRGOV,
// the subset screening needs). Every passenger and crew member goes
// through the desk's checks (document against lost, stolen and revoked
// documents; person by name, date of birth, nationality and sex with the
// desk's matcher and thresholds), and a flight gives a pre-arrival list:
// who has a hit or a possible match, explained, with counts.
//
// Headquarters delivers each flight's alerts to the units at the arrival
// port as records of a "prearrival" channel bundle (FlightAlerts, one per
// flight, expiring a few hours after the arrival; see sync/channel). On a
// unit, Arrivals is that channel's consumer: it matches a scanned document
// to its pre-arrival entry (document number, or name and full date of
// birth) so that the lane shows "pre-arrival alert, flight XX123, screened
// at HQ at 14:05" even when the local lookup alone would not have raised
// it, and lists the expected arrivals for the officer's page.
//
// The syntax layer is paxdata/edifact. Everything here is personal data:
// Traveller and Manifest keep names, document numbers and booking
// references out of logs (LogValue), and the stores that keep them
// (paxdata/paxstore) are encrypted at rest with retention enforced.
package paxdata
