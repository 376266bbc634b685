package paxdata

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/checkpoint-edge/checkpoint/mrz"
	"github.com/checkpoint-edge/checkpoint/sync/bundle"
	"github.com/checkpoint-edge/checkpoint/sync/channel"
	"github.com/checkpoint-edge/checkpoint/watchlist"
	"github.com/checkpoint-edge/checkpoint/watchlist/match"
)

// Arrivals holds the pre-arrival alerts of the port channels a unit pulls
// and matches scanned documents against them. It is the channel.Consumer
// of bundle.KindPrearrival. It is safe for concurrent use.
type Arrivals struct {
	now func() time.Time
	cfg match.Config

	mu      sync.RWMutex
	flights map[string][]loaded // channel -> flights
	byDoc   map[string][]ref    // normalised document number -> alerts
}

type loaded struct {
	f       *FlightAlerts
	expires time.Time // zero = with the channel
}

type ref struct {
	f     *loaded
	alert int
}

// NewArrivals returns an empty set; now is the clock (nil = time.Now).
func NewArrivals(now func() time.Time) *Arrivals {
	if now == nil {
		now = time.Now
	}
	return &Arrivals{now: now, cfg: match.DefaultConfig(), flights: map[string][]loaded{}, byDoc: map[string][]ref{}}
}

var _ channel.Consumer = (*Arrivals)(nil)

// Validate implements channel.Consumer: every record must be a flight's
// alerts for this port, keyed by its flight key.
func (a *Arrivals) Validate(ch string, recs []bundle.Record) error {
	var errs []error
	for _, r := range recs {
		if _, err := DecodeFlightAlerts(r, ch); err != nil {
			errs = append(errs, err)
			if len(errs) == 5 {
				break
			}
		}
	}
	return errors.Join(errs...)
}

// LocalChannel holds the flights screened on the unit itself (its inbox,
// checkpointctl paxdata screen) beside the port channels from the hub.
const LocalChannel = "(local)"

// LoadLocal replaces the flights screened on this unit: records as
// FlightAlerts.Record makes them, expiring after the arrival.
func (a *Arrivals) LoadLocal(recs []bundle.Record) {
	a.Load(channel.State{Kind: bundle.KindPrearrival, Channel: LocalChannel}, recs)
}

// Load implements channel.Consumer.
func (a *Arrivals) Load(st channel.State, recs []bundle.Record) {
	port := st.Channel
	if port == LocalChannel {
		port = ""
	}
	fl := make([]loaded, 0, len(recs))
	for _, r := range recs {
		f, err := DecodeFlightAlerts(r, port)
		if err != nil {
			continue // validated at install; a record that fails now is not used
		}
		fl = append(fl, loaded{f: f, expires: r.ExpiresAt})
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.flights[st.Channel] = fl
	a.byDoc = map[string][]ref{}
	for _, list := range a.flights {
		for i := range list {
			for j, al := range list[i].f.Alerts {
				if n := watchlist.NormalizeNumber(al.Traveller.DocumentNumber); n != "" {
					a.byDoc[n] = append(a.byDoc[n], ref{&list[i], j})
				}
			}
		}
	}
}

// PrearrivalMatch is a scanned traveller found among the pre-arrival
// alerts.
type PrearrivalMatch struct {
	Flight      *FlightAlerts
	Alert       Alert
	By          string // "document" or "name_dob"
	Score       float64
	Explanation string
}

// Match returns the pre-arrival alerts the scanned document belongs to:
// by document number (and issuing state when both are known), or by name
// and full date of birth with the desk's name matcher. Expired flights are
// never matched.
func (a *Arrivals) Match(doc *mrz.Document) []PrearrivalMatch {
	if doc == nil {
		return nil
	}
	now := a.now()
	a.mu.RLock()
	defer a.mu.RUnlock()
	var out []PrearrivalMatch
	seen := map[*Alert]bool{}
	if n := watchlist.NormalizeNumber(doc.DocumentNumber); n != "" {
		for _, r := range a.byDoc[n] {
			if r.f.expired(now) {
				continue
			}
			al := &r.f.f.Alerts[r.alert]
			st := al.Traveller.IssuingState
			if st != "" && doc.IssuingState != "" && match.NormalizeNationality(st) != match.NormalizeNationality(doc.IssuingState) {
				continue
			}
			seen[al] = true
			out = append(out, PrearrivalMatch{Flight: r.f.f, Alert: *al, By: "document", Score: 1,
				Explanation: "document number matches the pre-arrival alert"})
		}
	}
	birth := match.Date{Year: doc.BirthDate.Year, Month: doc.BirthDate.Month, Day: doc.BirthDate.Day}
	if birth.Year == 0 || birth.Month == 0 || birth.Day == 0 || doc.Surname == "" {
		return out
	}
	q := match.PersonQuery{Surname: doc.Surname, GivenNames: doc.GivenNames, NameTruncated: doc.NameTruncated,
		Birth: birth, Nationality: doc.Nationality, Sex: doc.Sex}
	for _, list := range a.flights {
		for i := range list {
			if list[i].expired(now) {
				continue
			}
			for j := range list[i].f.Alerts {
				al := &list[i].f.Alerts[j]
				if seen[al] {
					continue
				}
				t := al.Traveller
				tb, err := match.ParseDate(t.BirthDate)
				if err != nil || tb != birth {
					continue // name + DOB: the date must agree exactly
				}
				s := match.ScorePerson(q, match.PersonRecord{Names: []match.FullName{{Surname: t.Surname, GivenNames: strings.Fields(t.GivenNames)}},
					Birth: tb, Nationality: t.Nationality, Sex: t.Sex}, a.cfg)
				if !s.Hit {
					continue
				}
				seen[al] = true
				out = append(out, PrearrivalMatch{Flight: list[i].f, Alert: *al, By: "name_dob", Score: s.Score,
					Explanation: "name and date of birth match the pre-arrival alert: " + s.Explanation})
			}
		}
	}
	return out
}

func (l *loaded) expired(now time.Time) bool {
	return !l.expires.IsZero() && !now.Before(l.expires)
}

// ExpectedFlight is one flight of the "expected arrivals" panel.
type ExpectedFlight struct {
	Channel     string    `json:"port"`
	Flight      string    `json:"flight"`
	Departure   string    `json:"departure,omitempty"`
	DepartureAt time.Time `json:"departure_at,omitzero"`
	ArrivalAt   time.Time `json:"arrival_at"`
	ScreenedAt  time.Time `json:"screened_at"`
	ScreenedBy  string    `json:"screened_by,omitempty"`
	Message     string    `json:"message"`
	Counts      Counts    `json:"counts"`
	// Flagged are the travellers with an alert: personal data, for the
	// officer's screen only.
	Flagged []FlaggedTraveller `json:"flagged"`
}

// FlaggedTraveller is an alert as the panel lists it.
type FlaggedTraveller struct {
	Level       string `json:"level"`
	Name        string `json:"name"`
	Surname     string `json:"surname"`
	GivenNames  string `json:"given_names,omitempty"`
	BirthDate   string `json:"birth_date,omitempty"`
	Nationality string `json:"nationality,omitempty"`
	Document    string `json:"document,omitempty"` // issuing state + number
	Role        string `json:"role"`
	Seat        string `json:"seat,omitempty"`
	Reason      string `json:"reason"`         // the strongest match's explanation
	Kind        string `json:"kind,omitempty"` // the strongest match's kind: document, person
	Category    string `json:"category,omitempty"`
	Action      string `json:"action,omitempty"`
}

// Expected lists flights arriving from since (a grace period before now
// keeps a landed flight visible while its passengers queue), soonest
// first, at most limit (0 = all).
func (a *Arrivals) Expected(since time.Time, limit int) []ExpectedFlight {
	now := a.now()
	a.mu.RLock()
	defer a.mu.RUnlock()
	var out []ExpectedFlight
	for ch, list := range a.flights {
		for i := range list {
			f := list[i].f
			if list[i].expired(now) || f.ArrivalAt.Before(since) {
				continue
			}
			e := ExpectedFlight{Channel: ch, Flight: f.Flight, Departure: f.Departure, DepartureAt: f.DepartureAt,
				ArrivalAt: f.ArrivalAt, ScreenedAt: f.ScreenedAt, ScreenedBy: f.ScreenedBy, Message: f.Message, Counts: f.Counts,
				Flagged: []FlaggedTraveller{}}
			for _, al := range f.Alerts {
				t := al.Traveller
				ft := FlaggedTraveller{Level: al.Level, Name: t.Name(), Surname: t.Surname, GivenNames: t.GivenNames, BirthDate: t.BirthDate, Nationality: t.Nationality,
					Role: t.Role, Seat: t.Seat}
				if t.DocumentNumber != "" {
					ft.Document = strings.TrimSpace(t.IssuingState + " " + t.DocumentNumber)
				}
				if len(al.Matches) > 0 {
					// The strongest: the first at the alert's level.
					m := al.Matches[0]
					for _, x := range al.Matches {
						if x.Level == al.Level {
							m = x
							break
						}
					}
					ft.Reason, ft.Category, ft.Action, ft.Kind = m.Explanation, m.Category, m.Action, m.Kind
				}
				e.Flagged = append(e.Flagged, ft)
			}
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(x, y ExpectedFlight) int {
		if c := x.ArrivalAt.Compare(y.ArrivalAt); c != 0 {
			return c
		}
		return strings.Compare(x.Flight, y.Flight)
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

// Summary counts what is loaded, for status pages (no personal data).
func (a *Arrivals) Summary() string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	flights, alerts := 0, 0
	for _, list := range a.flights {
		flights += len(list)
		for _, l := range list {
			alerts += len(l.f.Alerts)
		}
	}
	return fmt.Sprintf("%d flights, %d alerts", flights, alerts)
}
