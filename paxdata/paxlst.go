package paxdata

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/checkpoint-edge/checkpoint/paxdata/edifact"
)

// PAXLST party qualifiers (NAD 3035) of travellers, as the WCO/IATA/ICAO
// API guidelines use them.
var paxlstParties = map[string]struct {
	role    string
	transit bool
}{
	"FL":  {RolePassenger, false},
	"FM":  {RoleCrew, false},
	"DDU": {RolePassenger, true}, // in-transit passenger
	"DDT": {RoleCrew, true},      // in-transit crew member
}

// paxlstSkipped are segments of the PAXLST message (D02B/D05B) that carry
// nothing screening needs; any other tag is an error.
var paxlstSkipped = map[string]bool{
	"CTA": true, "COM": true, "MEA": true, "GEI": true, "FTX": true, "EMP": true,
	"CPI": true, "QTY": true, "GID": true, "AUT": true, "UNS": true, "FII": true,
}

// paxlstParser holds the state of one message.
type paxlstParser struct {
	m   *edifact.Message
	o   *ParseOptions
	now time.Time
	man *Manifest

	n          int // the segment being read
	flightSeen bool
	legs       []legBuild
	cur        *Traveller
	doc        *Document // the DOC group being read (nil: none)
	lastLoc    string    // qualifier of the previous LOC in the flight group
	counts     map[string]int
	countAt    map[string]int
	docExtra   []Document
}

type legBuild struct {
	flight, carrier string
	dep, arr        string
	depAt, arrAt    time.Time
	arrivalQual     string // "87" when the arrival is the first in the country
}

// Document is a travel document beyond the first (a visa, a second
// passport).
type Document struct {
	Type         string `json:"type"`
	Number       string `json:"number"`
	IssuingState string `json:"issuing_state,omitempty"`
	Expiry       string `json:"expiry,omitempty"`
}

func parsePAXLST(m *edifact.Message, o *ParseOptions) (*Manifest, *edifact.Error) {
	p := &paxlstParser{m: m, o: o, now: o.now(), counts: map[string]int{}, countAt: map[string]int{},
		man: &Manifest{Message: TypePAXLST, Version: m.Directory(), Reference: m.Reference}}
	if d := m.Directory(); d != "D02B" && d != "D05B" {
		p.warn(1, "directory %s: read as D05B", d)
	}
	bgm := false
	for i, s := range m.Segments[1 : len(m.Segments)-1] {
		n := i + 2
		p.n = n
		var err error
		switch s.Tag {
		case "BGM":
			if bgm || p.flightSeen {
				return nil, m.Errorf(n, "BGM out of place")
			}
			bgm = true
			switch s.Get(0, 0) {
			case "250":
				p.man.Crew = true
			case "745", "266", "655":
			default:
				p.warn(n, "document code %q (745 passenger list or 250 crew list expected)", s.Get(0, 0))
			}
		case "TDT":
			err = p.tdt(s)
		case "LOC":
			err = p.loc(s)
		case "DTM":
			err = p.dtm(n, s)
		case "NAD":
			err = p.nad(s)
		case "ATT":
			err = p.att(s)
		case "NAT":
			if err = p.needTraveller(); err == nil {
				p.cur.Nationality = strings.ToUpper(s.Get(1, 0))
			}
		case "RFF":
			p.rff(s)
		case "DOC":
			err = p.docSeg(s)
		case "CNT":
			err = p.cnt(s, n)
		default:
			if !paxlstSkipped[s.Tag] {
				return nil, m.Errorf(n, "unknown segment %s in a PAXLST message", s.Tag)
			}
		}
		if err != nil {
			return nil, m.Errorf(n, "%v", err)
		}
		if !bgm && s.Tag != "BGM" {
			return nil, m.Errorf(n, "BGM must follow UNH")
		}
	}
	p.endTraveller()
	if !p.flightSeen {
		return nil, m.Errorf(len(m.Segments), "no flight (TDT) in the message")
	}
	if err := p.finishFlight(); err != nil {
		return nil, m.Errorf(len(m.Segments), "%v", err)
	}
	p.checkCounts()
	return p.man, nil
}

func (p *paxlstParser) warn(n int, format string, args ...any) {
	if n == 0 {
		n = p.n
	}
	p.man.Warnings = append(p.man.Warnings, p.m.Errorf(n, format, args...).Error())
}

func (p *paxlstParser) needTraveller() error {
	if p.cur == nil {
		return fmt.Errorf("traveller segment before any NAD of a traveller")
	}
	return nil
}

func (p *paxlstParser) tdt(s *edifact.Segment) error {
	if len(p.man.Travellers) > 0 || p.cur != nil {
		return fmt.Errorf("TDT after the travellers")
	}
	p.flightSeen = true
	// TDT+20+BA123+++BA' (D05B: carrier in C040) or TDT+20+BA123' (D02B).
	fl, carrier, err := normFlight(s.Get(4, 0), s.Get(1, 0))
	if err != nil {
		return err
	}
	p.legs = append(p.legs, legBuild{flight: fl, carrier: carrier})
	p.lastLoc = ""
	return nil
}

func (p *paxlstParser) leg() *legBuild { return &p.legs[len(p.legs)-1] }

func (p *paxlstParser) loc(s *edifact.Segment) error {
	q, place := s.Get(0, 0), strings.ToUpper(s.Get(1, 0))
	switch {
	case p.doc != nil && q == "91":
		p.doc.IssuingState = place
		return nil
	case p.cur != nil:
		p.doc = nil
		switch q {
		case "178":
			p.cur.Embarkation = place
		case "179":
			p.cur.Debarkation = place
		case "174":
			p.cur.Residence = place
		case "22", "180", "91":
		default:
			p.warn(0, "LOC qualifier %s of a traveller ignored", q)
		}
		return nil
	case len(p.legs) == 0:
		return fmt.Errorf("LOC before TDT")
	}
	if !airportOK(place) {
		return fmt.Errorf("location %q is not an IATA airport code", place)
	}
	l := p.leg()
	p.lastLoc = q
	switch q {
	case "125": // last departure before the country
		if l.dep != "" && l.arr != "" {
			p.legs = append(p.legs, legBuild{flight: l.flight, carrier: l.carrier})
			l = p.leg()
		}
		l.dep = place
	case "87": // first arrival in the country
		l.arr, l.arrivalQual = place, "87"
	case "92": // routing: departure, then arrival, of a leg
		if l.dep != "" && l.arr != "" {
			// A further pair in the same TDT is the next leg.
			p.legs = append(p.legs, legBuild{flight: l.flight, carrier: l.carrier})
			l = p.leg()
		}
		if l.dep == "" {
			l.dep = place
		} else {
			l.arr = place
		}
	case "130": // final destination
		if l.arr == "" {
			l.arr = place
		}
	default:
		return fmt.Errorf("LOC qualifier %s in the flight group", q)
	}
	return nil
}

func (p *paxlstParser) dtm(n int, s *edifact.Segment) error {
	q, v, f := s.Get(0, 0), s.Get(0, 1), s.Get(0, 2)
	switch {
	case p.doc != nil:
		if q == "36" { // expiry
			t, err := parseDTM(v, f, futureDate, time.UTC, p.now)
			if err != nil {
				p.warn(n, "document expiry: %v", err)
				return nil
			}
			p.doc.Expiry = isoDate(t)
		}
		return nil
	case p.cur != nil:
		if q == "329" { // birth
			t, err := parseDTM(v, f, pastDate, time.UTC, p.now)
			if err != nil || t.After(p.now) {
				if err == nil {
					err = fmt.Errorf("date of birth in the future")
				}
				p.warn(n, "date of birth: %v (screened without it)", err)
				return nil
			}
			p.cur.BirthDate = isoDate(t)
		}
		return nil
	case len(p.legs) == 0:
		return nil // message date
	}
	l := p.leg()
	switch q {
	case "189", "136": // departure
		t, err := parseDTM(v, f, travelDate, p.o.zone(l.dep), p.now)
		if err != nil {
			return fmt.Errorf("departure: %v", err)
		}
		l.depAt = t
	case "232", "132": // arrival
		t, err := parseDTM(v, f, travelDate, p.o.zone(l.arr), p.now)
		if err != nil {
			return fmt.Errorf("arrival: %v", err)
		}
		l.arrAt = t
	}
	return nil
}

func (p *paxlstParser) nad(s *edifact.Segment) error {
	q := s.Get(0, 0)
	if q == "MS" { // reporting party: a contact, not kept
		if p.flightSeen {
			return fmt.Errorf("reporting party after the flight")
		}
		p.man.Contacts++
		return nil
	}
	party, ok := paxlstParties[q]
	if !ok {
		return fmt.Errorf("party qualifier %q is not a traveller (FL, FM, DDU, DDT)", q)
	}
	if !p.flightSeen {
		return fmt.Errorf("traveller before the flight (no TDT)")
	}
	p.endTraveller()
	name := s.Components(3)
	sur := strings.TrimSpace(get(name, 0))
	if sur == "" {
		return fmt.Errorf("traveller without a surname")
	}
	given := strings.Join(strings.Fields(strings.Join(name[min(1, len(name)):], " ")), " ")
	p.cur = &Traveller{Role: party.role, Qualifier: q, Surname: strings.ToUpper(sur), GivenNames: strings.ToUpper(given),
		InTransit: party.transit, Source: "API"}
	if p.man.Crew && party.role == RolePassenger {
		p.warn(0, "passenger in a crew list")
	}
	return nil
}

func (p *paxlstParser) endTraveller() {
	if p.cur == nil {
		return
	}
	t := p.cur
	for _, d := range p.docExtra {
		if t.DocumentNumber == "" {
			t.DocumentType, t.DocumentNumber, t.IssuingState, t.DocumentExpiry = d.Type, d.Number, d.IssuingState, d.Expiry
			continue
		}
		t.OtherDocuments = append(t.OtherDocuments, d)
	}
	p.man.Travellers = append(p.man.Travellers, *t)
	p.cur, p.doc, p.docExtra = nil, nil, nil
}

func (p *paxlstParser) att(s *edifact.Segment) error {
	if err := p.needTraveller(); err != nil {
		return err
	}
	if s.Get(0, 0) == "2" { // sex
		sex := strings.ToUpper(s.Get(2, 0))
		switch sex {
		case "M", "F", "X", "U", "":
		default:
			return fmt.Errorf("sex %q (M, F, X or U)", sex)
		}
		p.cur.Sex = normSex(sex)
	}
	return nil
}

func (p *paxlstParser) rff(s *edifact.Segment) {
	if p.cur == nil {
		return // message reference (TN)
	}
	v := strings.TrimSpace(s.Get(0, 1))
	switch s.Get(0, 0) {
	case "AVF": // booking reference (PNR locator)
		p.cur.BookingRef = v
	case "SEA": // seat
		p.cur.Seat = strings.TrimLeft(v, "0")
	}
}

func (p *paxlstParser) docSeg(s *edifact.Segment) error {
	if err := p.needTraveller(); err != nil {
		return err
	}
	typ := strings.ToUpper(s.Get(0, 0))
	num := strings.ToUpper(strings.ReplaceAll(s.Get(1, 0), " ", ""))
	if typ == "" || num == "" {
		return fmt.Errorf("document without a type or number")
	}
	p.docExtra = append(p.docExtra, Document{Type: typ, Number: num})
	p.doc = &p.docExtra[len(p.docExtra)-1]
	return nil
}

func (p *paxlstParser) cnt(s *edifact.Segment, n int) error {
	p.endTraveller()
	for _, r := range s.Repetitions(0) {
		if len(r) < 2 {
			continue
		}
		v, err := strconv.Atoi(r[1])
		if err != nil || v < 0 {
			return fmt.Errorf("count %q is not a number", r[1])
		}
		p.counts[r[0]] = v
		p.countAt[r[0]] = n
	}
	return nil
}

// checkCounts compares CNT with the list: 42 counts passengers, 41 crew.
func (p *paxlstParser) checkCounts() {
	pax, crew := 0, 0
	for _, t := range p.man.Travellers {
		if t.Role == RoleCrew {
			crew++
		} else {
			pax++
		}
	}
	check := func(q string, have int, what string) {
		want, ok := p.counts[q]
		if !ok {
			return
		}
		p.man.Declared += want
		if want != have {
			p.warn(p.countAt[q], "CNT+%s declares %d %s, the list has %d", q, want, what, have)
		}
	}
	check("42", pax, "passengers")
	check("41", crew, "crew members")
}

// finishFlight chooses the leg that enters the country (LOC+87, else the
// first complete leg) as the manifest's flight and lists every leg.
func (p *paxlstParser) finishFlight() error {
	var chosen *legBuild
	for i := range p.legs {
		l := &p.legs[i]
		if l.dep == "" || l.arr == "" {
			continue
		}
		p.man.Flight.Legs = append(p.man.Flight.Legs, Leg{Flight: l.flight, Departure: l.dep, Arrival: l.arr, DepartureAt: l.depAt, ArrivalAt: l.arrAt})
		if chosen == nil || (chosen.arrivalQual != "87" && l.arrivalQual == "87") {
			chosen = l
		}
	}
	if chosen == nil {
		return fmt.Errorf("no leg with both a departure and an arrival airport")
	}
	if chosen.dep == chosen.arr {
		return fmt.Errorf("departure and arrival are both %s", chosen.arr)
	}
	if chosen.arrAt.IsZero() {
		return fmt.Errorf("no arrival time for %s to %s", chosen.flight, chosen.arr)
	}
	f := &p.man.Flight
	f.Number, f.Carrier, f.Departure, f.Arrival, f.DepartureAt, f.ArrivalAt = chosen.flight, chosen.carrier, chosen.dep, chosen.arr, chosen.depAt, chosen.arrAt
	if len(f.Legs) == 1 {
		f.Legs = nil
	}
	return nil
}

func get(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return ""
}
