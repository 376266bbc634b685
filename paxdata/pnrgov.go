package paxdata

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/checkpoint-edge/checkpoint/paxdata/edifact"
)

// pnrgovKnown are the segments of a PNRGOV message (versions 10 to 19)
// that screening reads or skips; any other tag is an error.
var pnrgovKnown = map[string]bool{
	"MSG": true, "ORG": true, "TVL": true, "EQN": true, "SRC": true, "RCI": true, "SSR": true, "DAT": true,
	"IFT": true, "ADD": true, "EBD": true, "TIF": true, "FTI": true, "REF": true, "FAR": true, "TKT": true,
	"MON": true, "PTK": true, "TXD": true, "FOP": true, "APD": true, "TRI": true, "SSD": true, "RPI": true,
	"ABI": true, "SAC": true, "LTS": true, "ERC": true, "TRA": true, "CVR": true, "PDI": true, "TXT": true,
}

// pnrTitles are titles that reservation systems glue to the given name
// ("JOHNMR").
var pnrTitles = []string{"MSTR", "MISS", "MRS", "MR", "MS", "DR"}

type pnrgovParser struct {
	m   *edifact.Message
	o   *ParseOptions
	now time.Time
	man *Manifest
	n   int

	inPNR     bool
	locator   string
	pax       []*Traveller // the current PNR's travellers
	paxRef    map[string]*Traveller
	cur       *Traveller // the traveller whose group is being read
	pending   []docsEntry
	itinerary []Leg
	afterTVL  bool // inside the PNR's itinerary (TIFs there are references)
}

type docsEntry struct {
	n    int
	text string
	code string
}

func parsePNRGOV(m *edifact.Message, o *ParseOptions) (*Manifest, *edifact.Error) {
	p := &pnrgovParser{m: m, o: o, now: o.now(), paxRef: map[string]*Traveller{},
		man: &Manifest{Message: TypePNRGOV, Version: m.Directory(), Reference: m.Reference}}
	flight := false
	for i, s := range m.Segments[1 : len(m.Segments)-1] {
		p.n = i + 2
		var err error
		switch s.Tag {
		case "TVL":
			if !p.inPNR {
				if flight {
					break // a TVL of the history part after the PNRs
				}
				flight = true
				err = p.headerFlight(s)
			} else {
				err = p.itineraryLeg(s)
			}
		case "EQN":
			if p.inPNR {
				p.endPNR()
				p.inPNR = false
			}
		case "SRC":
			if !flight {
				return nil, m.Errorf(p.n, "PNR (SRC) before the flight (TVL)")
			}
			p.endPNR()
			p.inPNR = true
			p.man.Bookings++
		case "RCI":
			if p.inPNR && p.locator == "" {
				p.locator = strings.ToUpper(s.Get(0, 1))
			}
		case "TIF":
			if p.inPNR {
				err = p.tif(s)
			}
		case "SSR":
			if p.inPNR {
				err = p.ssr(s)
			}
		case "ADD":
			p.man.Contacts++ // never kept
		case "IFT":
			if strings.HasPrefix(strings.TrimSpace(s.Get(1, 0)), "CTC") {
				p.man.Contacts++
			}
		case "FOP":
			p.man.Payments += max(1, len(s.Repetitions(0)))
		default:
			if !pnrgovKnown[s.Tag] {
				return nil, m.Errorf(p.n, "unknown segment %s in a PNRGOV message", s.Tag)
			}
		}
		if err != nil {
			return nil, m.Errorf(p.n, "%v", err)
		}
	}
	p.endPNR()
	if !flight {
		return nil, m.Errorf(len(m.Segments), "no flight (TVL) in the message")
	}
	return p.man, nil
}

func (p *pnrgovParser) warn(format string, args ...any) {
	p.man.Warnings = append(p.man.Warnings, p.m.Errorf(p.n, format, args...).Error())
}

// pnrTime reads a PNRGOV date (DDMMYY) and time (HHMM).
func pnrTime(date, hm string, loc *time.Location) (time.Time, error) {
	if len(date) != 6 || !allDigits(date) || (hm != "" && (len(hm) != 4 || !allDigits(hm))) {
		return time.Time{}, fmt.Errorf("date/time %q:%q is not DDMMYY:HHMM", redactDate(date), redactDate(hm))
	}
	d, _ := strconv.Atoi(date[0:2])
	mo, _ := strconv.Atoi(date[2:4])
	y, _ := strconv.Atoi(date[4:6])
	h, mi := 0, 0
	if hm != "" {
		h, _ = strconv.Atoi(hm[:2])
		mi, _ = strconv.Atoi(hm[2:])
	}
	return makeDate(2000+y, mo, d, h, mi, 0, loc, date+hm)
}

// tvl reads TVL+DDMMYY:HHMM[:DDMMYY:HHMM]+DEP+ARR+CARRIER+NUMBER.
func (p *pnrgovParser) tvl(s *edifact.Segment) (Leg, string, error) {
	var l Leg
	l.Departure, l.Arrival = strings.ToUpper(s.Get(1, 0)), strings.ToUpper(s.Get(2, 0))
	if !airportOK(l.Departure) || !airportOK(l.Arrival) {
		return l, "", fmt.Errorf("airports %q-%q are not IATA codes", l.Departure, l.Arrival)
	}
	if l.Departure == l.Arrival {
		return l, "", fmt.Errorf("departure and arrival are both %s", l.Departure)
	}
	fl, carrier, err := normFlight(s.Get(3, 0), s.Get(4, 0))
	if err != nil {
		return l, "", err
	}
	l.Flight = fl
	if l.DepartureAt, err = pnrTime(s.Get(0, 0), s.Get(0, 1), p.o.zone(l.Departure)); err != nil {
		return l, "", fmt.Errorf("departure: %v", err)
	}
	if ad, at := s.Get(0, 2), s.Get(0, 3); ad != "" || at != "" {
		if ad == "" {
			ad = s.Get(0, 0)
		}
		if l.ArrivalAt, err = pnrTime(ad, at, p.o.zone(l.Arrival)); err != nil {
			return l, "", fmt.Errorf("arrival: %v", err)
		}
	}
	return l, carrier, nil
}

func (p *pnrgovParser) headerFlight(s *edifact.Segment) error {
	l, carrier, err := p.tvl(s)
	if err != nil {
		return err
	}
	f := &p.man.Flight
	f.Number, f.Carrier, f.Departure, f.Arrival, f.DepartureAt, f.ArrivalAt = l.Flight, carrier, l.Departure, l.Arrival, l.DepartureAt, l.ArrivalAt
	return nil
}

func (p *pnrgovParser) itineraryLeg(s *edifact.Segment) error {
	p.afterTVL, p.cur = true, nil
	l, _, err := p.tvl(s)
	if err != nil {
		// An itinerary leg we cannot read (an open segment, a surface
		// leg) does not stop the screening of the booking.
		p.warn("itinerary: %v", err)
		return nil
	}
	p.itinerary = append(p.itinerary, l)
	f := &p.man.Flight
	if l.Flight == f.Number && l.Departure == f.Departure && l.Arrival == f.Arrival && f.ArrivalAt.IsZero() {
		f.ArrivalAt = l.ArrivalAt
	}
	return nil
}

// tif reads TIF+SURNAME[:type]+GIVEN[TITLE]:type:ref.
func (p *pnrgovParser) tif(s *edifact.Segment) error {
	sur := strings.ToUpper(strings.TrimSpace(s.Get(0, 0)))
	given := strings.ToUpper(strings.TrimSpace(s.Get(1, 0)))
	ref := s.Get(1, 2)
	if sur == "" {
		return fmt.Errorf("traveller without a surname")
	}
	key := sur + "/" + given + "/" + ref
	if p.afterTVL {
		// A reference to a traveller of the booking (seat, check-in).
		p.cur = p.paxRef[key]
		return nil
	}
	t := &Traveller{Role: RolePassenger, Qualifier: "TIF", Surname: sur, GivenNames: stripTitle(given), BookingRef: p.locator, Source: "PNR"}
	p.pax = append(p.pax, t)
	p.paxRef[key] = t
	p.cur = t
	return nil
}

func stripTitle(given string) string {
	f := strings.Fields(given)
	if len(f) == 0 {
		return ""
	}
	last := f[len(f)-1]
	for _, t := range pnrTitles {
		if last == t && len(f) > 1 {
			f = f[:len(f)-1]
			break
		}
		if strings.HasSuffix(last, t) && len(last)-len(t) >= 2 {
			f[len(f)-1] = strings.TrimSuffix(last, t)
			break
		}
	}
	return strings.Join(f, " ")
}

func (p *pnrgovParser) ssr(s *edifact.Segment) error {
	code := strings.ToUpper(s.Get(0, 0))
	switch code {
	case "DOCS", "DOCO":
	case "DOCA", "CTCE", "CTCM", "CTCH", "CTCB", "CTCP", "CTCR":
		p.man.Contacts++ // addresses and contacts: counted, never kept
		return nil
	default:
		return nil
	}
	text := ""
	for _, c := range s.Components(0)[min(8, len(s.Components(0))):] {
		if strings.HasPrefix(c, "/") {
			text = c
			break
		}
	}
	if text == "" {
		for _, c := range s.Components(0) {
			if strings.HasPrefix(c, "/") {
				text = c
			}
		}
	}
	if text == "" {
		p.warn("SSR %s without free text", code)
		return nil
	}
	e := docsEntry{n: p.n, text: text, code: code}
	if p.cur != nil && !p.afterTVL {
		p.applyDocs(p.cur, e)
	} else {
		p.pending = append(p.pending, e)
	}
	return nil
}

// applyDocs reads SSR DOCS (/type/issuer/number/nationality/DDMMMYY birth/
// sex/DDMMMYY expiry/surname/given/middle) or DOCO (/birthplace/type/
// number/issue place/DDMMMYY issue/valid for) into t.
func (p *pnrgovParser) applyDocs(t *Traveller, e docsEntry) {
	f := strings.Split(e.text, "/")[1:]
	at := func(i int) string { return strings.ToUpper(strings.TrimSpace(get(f, i))) }
	if e.code == "DOCO" {
		if num := at(2); num != "" {
			t.OtherDocuments = append(t.OtherDocuments, Document{Type: at(1), Number: num, IssuingState: at(3)})
		}
		return
	}
	if num := at(2); num != "" {
		d := Document{Type: at(0), Number: strings.ReplaceAll(num, " ", ""), IssuingState: at(1)}
		if x := at(6); x != "" {
			if ex, err := ddmmmyy(x, futureDate, p.now); err == nil {
				d.Expiry = isoDate(ex)
			} else {
				p.warnAt(e.n, "SSR DOCS expiry: %v", err)
			}
		}
		if t.DocumentNumber == "" {
			t.DocumentType, t.DocumentNumber, t.IssuingState, t.DocumentExpiry = d.Type, d.Number, d.IssuingState, d.Expiry
		} else if t.DocumentNumber != d.Number {
			t.OtherDocuments = append(t.OtherDocuments, d)
		}
	}
	if n := at(3); n != "" {
		t.Nationality = n
	}
	if b := at(4); b != "" {
		if dob, err := ddmmmyy(b, pastDate, p.now); err == nil {
			t.BirthDate = isoDate(dob)
		} else {
			p.warnAt(e.n, "SSR DOCS date of birth: %v (screened without it)", err)
		}
	}
	if s := normSex(at(5)); s != "" {
		t.Sex = s
	}
	// The document's name is the one the traveller will present.
	if sur := at(7); sur != "" {
		t.Surname = sur
		t.GivenNames = strings.Join(strings.Fields(at(8)+" "+at(9)), " ")
	}
	t.Source = "DOCS"
}

func (p *pnrgovParser) warnAt(n int, format string, args ...any) {
	p.man.Warnings = append(p.man.Warnings, p.m.Errorf(n, format, args...).Error())
}

var months = map[string]int{"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6, "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}

// ddmmmyy reads 12JUL64 (or 12JUL1964).
func ddmmmyy(v string, kind dateKind, now time.Time) (time.Time, error) {
	if (len(v) != 7 && len(v) != 9) || !allDigits(v[:2]) || !allDigits(v[5:]) {
		return time.Time{}, fmt.Errorf("date %q is not DDMMMYY", redactDate(v))
	}
	mo, ok := months[v[2:5]]
	if !ok {
		return time.Time{}, fmt.Errorf("date %q has no month name", redactDate(v))
	}
	d, _ := strconv.Atoi(v[:2])
	y, _ := strconv.Atoi(v[5:])
	if len(v) == 7 {
		y = century(y, kind, now)
	}
	return makeDate(y, mo, d, 0, 0, 0, time.UTC, v)
}

// endPNR files the current booking's travellers: DOCS given before any
// traveller go to the traveller of that name, and the itinerary gives
// where each boards and leaves.
func (p *pnrgovParser) endPNR() {
	for _, e := range p.pending {
		f := strings.Split(e.text, "/")
		sur := strings.ToUpper(strings.TrimSpace(get(f, 8)))
		var to *Traveller
		for _, t := range p.pax {
			if sur != "" && (t.Surname == sur || strings.HasPrefix(t.Surname, sur)) {
				to = t
				break
			}
		}
		if to == nil && len(p.pax) == 1 {
			to = p.pax[0]
		}
		if to == nil {
			p.warnAt(e.n, "SSR %s matches no traveller of the booking", e.code)
			continue
		}
		p.applyDocs(to, e)
	}
	for _, t := range p.pax {
		if len(p.itinerary) > 0 {
			t.Embarkation = p.itinerary[0].Departure
			t.Debarkation = p.itinerary[len(p.itinerary)-1].Arrival
			t.InTransit = p.transit()
		}
		p.man.Travellers = append(p.man.Travellers, *t)
	}
	p.pax, p.paxRef, p.cur, p.pending, p.itinerary, p.afterTVL, p.locator = nil, map[string]*Traveller{}, nil, nil, nil, false, ""
}

// transit reports whether the booking continues from the arrival airport
// within 24 hours of arriving: the traveller connects rather than enters.
func (p *pnrgovParser) transit() bool {
	f := p.man.Flight
	for i, l := range p.itinerary {
		if l.Flight == f.Number && l.Arrival == f.Arrival && i+1 < len(p.itinerary) {
			next := p.itinerary[i+1]
			arr := l.ArrivalAt
			if arr.IsZero() {
				arr = f.ArrivalAt
			}
			return next.Departure == f.Arrival && !arr.IsZero() && next.DepartureAt.Sub(arr) < 24*time.Hour
		}
	}
	return false
}
