package paxdata

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/checkpoint-edge/checkpoint/sync/bundle"
)

// FlightAlerts is one record of a "prearrival" channel bundle: a flight
// screened at headquarters, its counts, and the travellers on it who have
// a hit or a possible match. The channel is the arrival port (IATA code);
// the record id is FlightKey; the record expires a few hours after the
// arrival. It is personal data (names, dates of birth, document numbers):
// it travels encrypted, is stored encrypted, and is never logged.
type FlightAlerts struct {
	Flight      string    `json:"flight"` // carrier + number, "BA0123"
	Departure   string    `json:"departure,omitempty"`
	Arrival     string    `json:"arrival"`
	DepartureAt time.Time `json:"departure_at,omitzero"`
	ArrivalAt   time.Time `json:"arrival_at"`
	// ScreenedAt is when headquarters screened the flight, against
	// watchlist WatchlistID at WatchlistSequence.
	ScreenedAt        time.Time `json:"screened_at"`
	ScreenedBy        string    `json:"screened_by,omitempty"` // "HQ" or a unit id
	WatchlistID       string    `json:"watchlist_id,omitempty"`
	WatchlistSequence uint64    `json:"watchlist_sequence"`
	// Message is the kind of message screened: "PAXLST" or "PNRGOV".
	Message string  `json:"message"`
	Counts  Counts  `json:"counts"`
	Alerts  []Alert `json:"alerts"`
}

// Counts summarise a screened flight.
type Counts struct {
	Passengers int `json:"passengers"`
	Crew       int `json:"crew"`
	Screened   int `json:"screened"`
	Hits       int `json:"hits"`
	Possible   int `json:"possible"`
	// Declared is the count the message itself announced (CNT), 0 if none.
	Declared int `json:"declared,omitempty"`
}

// Alert is one traveller with a hit or a possible match.
type Alert struct {
	// Level is LevelHit or LevelPossible: the strongest of the matches.
	Level     string    `json:"level"`
	Traveller Traveller `json:"traveller"`
	Matches   []Match   `json:"matches"`
}

// Alert levels.
const (
	LevelHit      = "hit"
	LevelPossible = "possible"
)

// Match is one explained watchlist match of a traveller.
type Match struct {
	Kind        string  `json:"kind"` // document, person
	RefID       string  `json:"ref_id"`
	Source      string  `json:"source,omitempty"`
	Category    string  `json:"category,omitempty"` // person category or document status
	Action      string  `json:"action"`
	Level       string  `json:"level"`
	Score       float64 `json:"score"`
	Strength    string  `json:"strength,omitempty"`
	Explanation string  `json:"explanation"`
	Fields      []Field `json:"fields,omitempty"`
	// Person is the listed person as the officer's screen shows it.
	Person string `json:"person,omitempty"`
}

// Field explains one field of a person score.
type Field struct {
	Field  string  `json:"field"`
	Score  float64 `json:"score"`
	Detail string  `json:"detail"`
}

var (
	flightRE  = regexp.MustCompile(`^[A-Z0-9]{2,3}[0-9]{1,4}[A-Z]?$`)
	airportRE = regexp.MustCompile(`^[A-Z]{3}$`)
)

// ErrBadAlert is returned when a prearrival record does not make sense.
var ErrBadAlert = errors.New("paxdata: bad pre-arrival record")

// FlightKey is the record id of a flight's alerts: flight, scheduled
// departure date (or arrival date) and arrival port.
func FlightKey(flight string, date time.Time, arrival string) string {
	return fmt.Sprintf("%s/%s/%s", flight, date.UTC().Format("2006-01-02"), arrival)
}

// Key is the flight's record id.
func (f *FlightAlerts) Key() string {
	d := f.DepartureAt
	if d.IsZero() {
		d = f.ArrivalAt
	}
	return FlightKey(f.Flight, d, f.Arrival)
}

// Validate checks a flight's alerts for the port channel.
func (f *FlightAlerts) Validate(channel string) error {
	switch {
	case !flightRE.MatchString(f.Flight):
		return fmt.Errorf("%w: flight %q", ErrBadAlert, f.Flight)
	case !airportRE.MatchString(f.Arrival):
		return fmt.Errorf("%w: arrival port %q", ErrBadAlert, f.Arrival)
	case channel != "" && f.Arrival != channel:
		return fmt.Errorf("%w: flight to %s in the %s channel", ErrBadAlert, f.Arrival, channel)
	case f.ArrivalAt.IsZero() || f.ScreenedAt.IsZero():
		return fmt.Errorf("%w: %s without arrival or screening time", ErrBadAlert, f.Flight)
	case f.Counts.Screened < 0 || f.Counts.Hits < 0 || f.Counts.Possible < 0 || f.Counts.Passengers < 0 || f.Counts.Crew < 0:
		return fmt.Errorf("%w: %s: negative count", ErrBadAlert, f.Flight)
	case f.Counts.Hits+f.Counts.Possible != len(f.Alerts):
		return fmt.Errorf("%w: %s: %d hits and %d possible, %d alerts", ErrBadAlert, f.Flight, f.Counts.Hits, f.Counts.Possible, len(f.Alerts))
	}
	for i, a := range f.Alerts {
		if a.Level != LevelHit && a.Level != LevelPossible {
			return fmt.Errorf("%w: %s alert %d: level %q", ErrBadAlert, f.Flight, i+1, a.Level)
		}
		if len(a.Matches) == 0 {
			return fmt.Errorf("%w: %s alert %d without a match", ErrBadAlert, f.Flight, i+1)
		}
		t := a.Traveller
		if t.DocumentNumber == "" && (t.Surname == "" || t.BirthDate == "") {
			return fmt.Errorf("%w: %s alert %d: neither a document number nor a name and birth date to match at the desk", ErrBadAlert, f.Flight, i+1)
		}
	}
	return nil
}

// DecodeFlightAlerts decodes and checks one channel record.
func DecodeFlightAlerts(r bundle.Record, channel string) (*FlightAlerts, error) {
	f := new(FlightAlerts)
	dec := json.NewDecoder(bytes.NewReader(r.Data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(f); err != nil {
		return nil, fmt.Errorf("%w: record %q: %v", ErrBadAlert, r.ID, err)
	}
	if err := f.Validate(channel); err != nil {
		return nil, err
	}
	if f.Key() != r.ID {
		return nil, fmt.Errorf("%w: record %q holds flight %s", ErrBadAlert, r.ID, f.Key())
	}
	return f, nil
}

// Record wraps the flight's alerts as a channel record expiring at
// expires.
func (f *FlightAlerts) Record(expires time.Time) (bundle.Record, error) {
	b, err := json.Marshal(f)
	if err != nil {
		return bundle.Record{}, err
	}
	return bundle.Record{ID: f.Key(), ExpiresAt: expires.UTC(), Data: b}, nil
}
