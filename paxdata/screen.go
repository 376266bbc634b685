package paxdata

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/checkpoint-edge/checkpoint/mrz"
	"github.com/checkpoint-edge/checkpoint/watchlist"
	"github.com/checkpoint-edge/checkpoint/watchlist/match"
)

// Checker is the watchlist screening asks, one traveller at a time, with
// the desk's own check (document against lost/stolen/revoked documents,
// person by name, date of birth, nationality and sex, same matcher and
// thresholds). *watchlist.Store implements it. The watchlist's batch path
// (Store.ScreenPersons) would save only the read transaction per
// traveller: profiled against 1 M persons, 98 % of a flight's time is the
// person search itself, the same in both, so screening keeps the desk's
// exact query (Check with the traveller as a scanned document).
type Checker interface {
	Check(ctx context.Context, q watchlist.Query) (*watchlist.Result, error)
	Meta() watchlist.Meta
}

var _ Checker = (*watchlist.Store)(nil)

// Screener screens manifests against a watchlist.
type Screener struct {
	Watchlist Checker
	// ScreenedBy names who screened ("HQ" or a unit id).
	ScreenedBy string
	// Now is the clock (nil = time.Now).
	Now func() time.Time
	// Workers check travellers in parallel (0 or 1 = one at a time, as a
	// unit does; headquarters uses its cores).
	Workers int
}

// Screened is one traveller with a hit or a possible match.
type Screened struct {
	// Index is the traveller's position in the manifest.
	Index     int       `json:"index"`
	Level     string    `json:"level"`
	Traveller Traveller `json:"traveller"`
	Matches   []Match   `json:"matches"`
}

// Report is a screened flight: the pre-arrival list.
type Report struct {
	Message           string    `json:"message"`
	Reference         string    `json:"reference"`
	Flight            Flight    `json:"flight"`
	ScreenedAt        time.Time `json:"screened_at"`
	ScreenedBy        string    `json:"screened_by"`
	WatchlistID       string    `json:"watchlist_id"`
	WatchlistSequence uint64    `json:"watchlist_sequence"`
	Counts            Counts    `json:"counts"`
	// Flagged lists the travellers with a hit or a possible match, hits
	// first.
	Flagged []Screened `json:"flagged"`
	// Failed counts travellers the watchlist could not check (an
	// integrity error, a query it refused); Errors says why, without
	// personal data.
	Failed   int      `json:"failed"`
	Errors   []string `json:"errors,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

// ErrNoWatchlist is returned when there is no watchlist to screen against.
var ErrNoWatchlist = errors.New("paxdata: no watchlist installed")

// Screen checks every passenger and crew member of m.
func (s *Screener) Screen(ctx context.Context, m *Manifest) (*Report, error) {
	meta := s.Watchlist.Meta()
	if meta.Sequence == 0 {
		return nil, ErrNoWatchlist
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	r := &Report{Message: m.Message, Reference: m.Reference, Flight: m.Flight, ScreenedAt: now().UTC(), ScreenedBy: s.ScreenedBy,
		WatchlistID: meta.WatchlistID, WatchlistSequence: meta.Sequence, Flagged: []Screened{}, Warnings: m.Warnings}
	r.Counts.Declared = m.Declared
	type outcome struct {
		matches []Match
		err     error
	}
	out := make([]outcome, len(m.Travellers))
	check := func(i int) { out[i].matches, out[i].err = s.check(ctx, &m.Travellers[i]) }
	if w := min(s.Workers, len(m.Travellers)); w > 1 {
		var wg sync.WaitGroup
		next := make(chan int)
		for range w {
			wg.Go(func() {
				for i := range next {
					check(i)
				}
			})
		}
		for i := range m.Travellers {
			if ctx.Err() != nil {
				break
			}
			next <- i
		}
		close(next)
		wg.Wait()
	} else {
		for i := range m.Travellers {
			if i%32 == 0 && ctx.Err() != nil {
				break
			}
			check(i)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for i := range m.Travellers {
		t := &m.Travellers[i]
		if t.Role == RoleCrew {
			r.Counts.Crew++
		} else {
			r.Counts.Passengers++
		}
		matches, err := out[i].matches, out[i].err
		if err != nil {
			r.Failed++
			if len(r.Errors) < 10 {
				r.Errors = append(r.Errors, fmt.Sprintf("traveller %d: %v", i+1, err))
			}
			continue
		}
		r.Counts.Screened++
		if len(matches) == 0 {
			continue
		}
		level := LevelPossible
		for _, mt := range matches {
			if mt.Level == LevelHit {
				level = LevelHit
			}
		}
		if level == LevelHit {
			r.Counts.Hits++
		} else {
			r.Counts.Possible++
		}
		r.Flagged = append(r.Flagged, Screened{Index: i, Level: level, Traveller: *t, Matches: matches})
	}
	// Hits before possible matches, then in manifest order.
	sortFlagged(r.Flagged)
	return r, nil
}

func sortFlagged(f []Screened) {
	for i := 1; i < len(f); i++ {
		for j := i; j > 0 && less(f[j], f[j-1]); j-- {
			f[j], f[j-1] = f[j-1], f[j]
		}
	}
}

func less(a, b Screened) bool {
	if a.Level != b.Level {
		return a.Level == LevelHit
	}
	return a.Index < b.Index
}

// check runs the desk's check for the traveller's primary document and
// person, then each further document by number.
func (s *Screener) check(ctx context.Context, t *Traveller) ([]Match, error) {
	doc := TravellerDocument(t)
	res, err := s.Watchlist.Check(ctx, watchlist.Query{Document: doc})
	if err != nil {
		return nil, err
	}
	if len(res.Errors) > 0 {
		return nil, fmt.Errorf("watchlist: %d records failed authentication or a check could not run", len(res.Errors))
	}
	var out []Match
	seen := map[string]bool{}
	add := func(hits []watchlist.Hit) {
		for _, h := range hits {
			if h.Kind == watchlist.HitFace || seen[h.Kind+"/"+h.RefID] {
				continue
			}
			seen[h.Kind+"/"+h.RefID] = true
			out = append(out, matchOf(h))
		}
	}
	add(res.Hits)
	for _, d := range t.OtherDocuments {
		q := &mrz.Document{DocumentCode: docCode(d.Type), IssuingState: d.IssuingState, DocumentNumber: d.Number}
		if q.IssuingState == "" || q.DocumentNumber == "" {
			continue
		}
		res, err := s.Watchlist.Check(ctx, watchlist.Query{Document: q})
		if err != nil {
			return nil, err
		}
		add(res.Hits)
	}
	return out, nil
}

// TravellerDocument is the traveller as the desk's check takes it: the
// MRZ fields a scanner would have read from their document.
func TravellerDocument(t *Traveller) *mrz.Document {
	d := &mrz.Document{
		DocumentCode: docCode(t.DocumentType), IssuingState: t.IssuingState, DocumentNumber: t.DocumentNumber,
		Surname: t.Surname, GivenNames: strings.Fields(t.GivenNames), Nationality: t.Nationality, Sex: t.Sex, Valid: true,
	}
	if b, err := match.ParseDate(t.BirthDate); err == nil {
		d.BirthDate = mrz.Date{Year: b.Year, Month: b.Month, Day: b.Day, Valid: b.Day != 0}
	}
	if e, err := match.ParseDate(t.DocumentExpiry); err == nil {
		d.ExpiryDate = mrz.Date{Year: e.Year, Month: e.Month, Day: e.Day, Valid: e.Day != 0}
	}
	if d.IssuingState == "" && d.DocumentNumber != "" && d.DocumentCode == "P" {
		// A passport without an issuing state is usually the holder's
		// nationality's.
		d.IssuingState = t.Nationality
	}
	return d
}

// docCode maps API/PNR document types to the MRZ document code.
func docCode(t string) string {
	switch t = strings.ToUpper(t); {
	case t == "":
		return ""
	case t == "ID" || t == "IP" || t == "AC":
		return "I"
	}
	return t[:1]
}

func matchOf(h watchlist.Hit) Match {
	m := Match{Kind: h.Kind, RefID: h.RefID, Source: h.Source, Category: h.Category, Action: h.Action,
		Level: h.LevelOrHit(), Score: h.Score, Strength: h.Strength, Explanation: h.Explanation}
	if m.Category == "" {
		m.Category = h.Status
	}
	if h.Variant != "" {
		m.Explanation += " (matched as " + h.Variant + ")"
	}
	for _, f := range h.Fields {
		m.Fields = append(m.Fields, Field{Field: f.Field, Score: f.Score, Detail: f.Detail})
	}
	if h.Person != nil {
		parts := []string{h.Person.DisplayName}
		if h.Person.Birth != "" {
			parts = append(parts, "born "+h.Person.Birth)
		}
		if h.Person.Nationality != "" {
			parts = append(parts, h.Person.Nationality)
		}
		m.Person = strings.Join(parts, " · ")
	}
	return m
}

// ExpectedArrival is when the flight lands: the arrival time, else the
// departure plus a day (a PNR push may give only the departure).
func (f *Flight) ExpectedArrival() time.Time {
	if !f.ArrivalAt.IsZero() {
		return f.ArrivalAt
	}
	if !f.DepartureAt.IsZero() {
		return f.DepartureAt.Add(24 * time.Hour)
	}
	return time.Time{}
}

// Alerts turns a report into the prearrival channel record for the
// arrival port. The booking reference never leaves in an alert.
func (r *Report) Alerts() *FlightAlerts {
	f := &FlightAlerts{Flight: r.Flight.Number, Departure: r.Flight.Departure, Arrival: r.Flight.Arrival,
		DepartureAt: r.Flight.DepartureAt, ArrivalAt: r.Flight.ExpectedArrival(), ScreenedAt: r.ScreenedAt, ScreenedBy: r.ScreenedBy,
		WatchlistID: r.WatchlistID, WatchlistSequence: r.WatchlistSequence, Message: r.Message, Counts: r.Counts, Alerts: []Alert{}}
	for _, s := range r.Flagged {
		t := s.Traveller
		t.BookingRef = ""
		f.Alerts = append(f.Alerts, Alert{Level: s.Level, Traveller: t, Matches: s.Matches})
	}
	return f
}

// Merge combines the alerts of two screenings of the same flight (a
// PAXLST and a PNRGOV push, or an updated list): counts from the larger
// list, every flagged traveller once, the later screening time.
func (f *FlightAlerts) Merge(o *FlightAlerts) {
	if o.ScreenedAt.After(f.ScreenedAt) {
		f.ScreenedAt, f.WatchlistSequence, f.WatchlistID = o.ScreenedAt, o.WatchlistSequence, o.WatchlistID
	}
	if o.Message != f.Message && !strings.Contains(f.Message, o.Message) {
		f.Message += "+" + o.Message
	}
	if o.Counts.Passengers+o.Counts.Crew > f.Counts.Passengers+f.Counts.Crew {
		f.Counts.Passengers, f.Counts.Crew, f.Counts.Screened, f.Counts.Declared = o.Counts.Passengers, o.Counts.Crew, o.Counts.Screened, o.Counts.Declared
	}
	if f.ArrivalAt.IsZero() || (!o.ArrivalAt.IsZero() && o.Message == TypePAXLST) {
		f.ArrivalAt = o.ArrivalAt
	}
	key := func(a Alert) string {
		t := a.Traveller
		if t.DocumentNumber != "" {
			return "D/" + watchlist.NormalizeNumber(t.DocumentNumber)
		}
		return "N/" + t.Surname + "/" + t.GivenNames + "/" + t.BirthDate
	}
	have := map[string]int{}
	for i, a := range f.Alerts {
		have[key(a)] = i
	}
	for _, a := range o.Alerts {
		if i, ok := have[key(a)]; ok {
			if a.Level == LevelHit {
				f.Alerts[i].Level = LevelHit
			}
			continue
		}
		have[key(a)] = len(f.Alerts)
		f.Alerts = append(f.Alerts, a)
	}
	f.Counts.Hits, f.Counts.Possible = 0, 0
	for _, a := range f.Alerts {
		if a.Level == LevelHit {
			f.Counts.Hits++
		} else {
			f.Counts.Possible++
		}
	}
}
