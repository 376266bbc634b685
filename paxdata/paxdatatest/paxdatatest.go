// Package paxdatatest generates airline passenger data for tests and
// benchmarks: travellers with plausible names from watchlist/synth's name
// cultures, and PAXLST and PNRGOV interchanges written the way carriers
// send them. Everything is synthetic.
package paxdatatest

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/checkpoint-edge/checkpoint/paxdata"
	"github.com/checkpoint-edge/checkpoint/watchlist"
	"github.com/checkpoint-edge/checkpoint/watchlist/match"
	"github.com/checkpoint-edge/checkpoint/watchlist/synth"
)

// Flight describes the flight of a generated message.
type Flight struct {
	Carrier, Number        string // "BA", "0123"
	Departure, Arrival     string
	DepartureAt, ArrivalAt time.Time
}

// Travellers returns n passengers (and crew every fiftieth) with names,
// full birth dates, nationalities, sexes and passports, deterministic in
// seed: a mixed population where one in five comes from the name cultures
// of watchlist/synth (namesakes of listed persons are common there) and
// the others have names outside them.
func Travellers(n int, seed uint64) []paxdata.Traveller { return travellers(n, seed, 5) }

// TravellersFromList is the worst case for screening: every traveller's
// name comes from the synthetic watchlist's few name cultures, so every
// query finds many namesakes to score.
func TravellersFromList(n int, seed uint64) []paxdata.Traveller { return travellers(n, seed, 1) }

func travellers(n int, seed uint64, fromListEvery int) []paxdata.Traveller {
	g := synth.New(synth.Config{Persons: int64(n), Seed: seed ^ 0x5eed7a4e})
	r := rand.New(rand.NewPCG(seed, 11))
	out := make([]paxdata.Traveller, n)
	for i := range out {
		p := g.Person(int64(i))
		if i%fromListEvery != 0 {
			p.Name = watchlist.Name{Surname: syllables(r, 2+r.IntN(2)), GivenNames: syllables(r, 2) + " " + syllables(r, 1+r.IntN(2))}
			p.Aliases = nil
		}
		out[i] = FromPerson(&p, r)
		out[i].DocumentNumber = fmt.Sprintf("%c%c%07d", 'A'+r.IntN(26), 'A'+r.IntN(26), r.IntN(10_000_000))
		if i%50 == 49 {
			out[i].Role, out[i].Qualifier = paxdata.RoleCrew, "FM"
		}
	}
	return out
}

var sylls = strings.Fields("BA BE BO DA DE DO FA FI GA GO HA HE KA KE KI KO LA LE LI LO MA ME MI MO NA NE NI NO PA PE PI RA RE RI RO SA SE SI SO TA TE TI TO VA VE VI WA YA ZA " +
	"BAR BEN DOR FEN GAL HOL KAR KEN LAN LIN MAR MOR NAR PER RAN ROS SAL SEN TAL TOR VAL VEN WIL ZOR")

func syllables(r *rand.Rand, n int) string {
	var b strings.Builder
	for range n {
		b.WriteString(sylls[r.IntN(len(sylls))])
	}
	return b.String()
}

// FromPerson makes a traveller out of a listed person, as their passport
// would show them (MRZ name, full birth date).
func FromPerson(p *watchlist.PersonAlert, r *rand.Rand) paxdata.Traveller {
	p.Name.MRZ = nil
	watchlist.FillMRZ(p)
	var fn match.FullName
	if len(p.Name.MRZ) > 0 {
		fn = match.ParseMRZName(p.Name.MRZ[0])
	} else {
		fn = match.FullName{Surname: strings.ToUpper(p.Name.Surname), GivenNames: strings.Fields(strings.ToUpper(p.Name.GivenNames))}
	}
	b, _ := match.ParseDate(p.Birth)
	if b.Year == 0 {
		b.Year = 1950 + r.IntN(55)
	}
	if b.Month == 0 {
		b.Month = 1 + r.IntN(12)
	}
	if b.Day == 0 {
		b.Day = 1 + r.IntN(28)
	}
	sex := p.Sex
	if sex == "" {
		sex = "M"
	}
	nat := p.Nationality
	if len(nat) != 3 {
		nat = "UTO"
	}
	return paxdata.Traveller{Role: paxdata.RolePassenger, Qualifier: "FL", Surname: fn.Surname, GivenNames: strings.Join(fn.GivenNames, " "),
		BirthDate: fmt.Sprintf("%04d-%02d-%02d", b.Year, b.Month, b.Day), Sex: sex, Nationality: nat,
		DocumentType: "P", IssuingState: nat, DocumentExpiry: "2031-06-30", Embarkation: "", Debarkation: ""}
}

// PAXLST writes a D05B passenger list interchange for the flight, one
// segment per line, with UNA, UNG group and CNT. ref names the message.
func PAXLST(f Flight, pax []paxdata.Traveller, ref string) []byte {
	var segs []string
	add := func(format string, args ...any) { segs = append(segs, fmt.Sprintf(format, args...)) }
	add("UNH+%s+PAXLST:D:05B:UN:IATA+%s+01:F", ref, ref)
	add("BGM+745")
	add("NAD+MS+++%s API DESK", f.Carrier)
	add("TDT+20+%s%s+++%s", f.Carrier, f.Number, f.Carrier)
	add("LOC+125+%s", f.Departure)
	add("DTM+189:%s:201", f.DepartureAt.Format("0601021504"))
	add("LOC+87+%s", f.Arrival)
	add("DTM+232:%s:201", f.ArrivalAt.Format("0601021504"))
	npax, ncrew := 0, 0
	for _, t := range pax {
		q := t.Qualifier
		if q == "" || q == "TIF" {
			q = "FL"
			if t.Role == paxdata.RoleCrew {
				q = "FM"
			}
		}
		if t.Role == paxdata.RoleCrew {
			ncrew++
		} else {
			npax++
		}
		given := strings.Fields(t.GivenNames)
		name := esc(t.Surname)
		if len(given) > 0 {
			name += ":" + esc(given[0])
			if len(given) > 1 {
				name += ":" + esc(strings.Join(given[1:], " "))
			}
		}
		add("NAD+%s+++%s", q, name)
		if t.Sex != "" {
			add("ATT+2++%s", t.Sex)
		}
		if d, err := time.Parse("2006-01-02", t.BirthDate); err == nil {
			add("DTM+329:%s", d.Format("060102"))
		}
		add("LOC+178+%s", f.Departure)
		add("LOC+179+%s", f.Arrival)
		if t.Nationality != "" {
			add("NAT+2+%s", t.Nationality)
		}
		if t.Seat != "" {
			add("RFF+SEA:%s", t.Seat)
		}
		if t.DocumentNumber != "" {
			add("DOC+%s:110:111+%s", orP(t.DocumentType), esc(t.DocumentNumber))
			if d, err := time.Parse("2006-01-02", t.DocumentExpiry); err == nil {
				add("DTM+36:%s", d.Format("060102"))
			}
			if t.IssuingState != "" {
				add("LOC+91+%s", t.IssuingState)
			}
		}
	}
	add("CNT+42:%d", npax)
	if ncrew > 0 {
		add("CNT+41:%d", ncrew)
	}
	add("UNT+%d+%s", len(segs)+1, ref)
	var b strings.Builder
	b.WriteString("UNA:+.?*'\n")
	fmt.Fprintf(&b, "UNB+UNOA:4+%sAPI:ZZ+HQAPI:ZZ+%s+%s++APIS'\n", f.Carrier, f.DepartureAt.Format("060102:1504"), ref)
	fmt.Fprintf(&b, "UNG+PAXLST+%sAPI+HQAPI+%s+%s+UN+D:05B'\n", f.Carrier, f.DepartureAt.Format("060102:1504"), ref)
	for _, s := range segs {
		b.WriteString(s + "'\n")
	}
	fmt.Fprintf(&b, "UNE+1+%s'\nUNZ+1+%s'\n", ref, ref)
	return []byte(b.String())
}

func orP(t string) string {
	if t == "" {
		return "P"
	}
	return t
}

// esc releases EDIFACT service characters in data.
func esc(s string) string {
	r := strings.NewReplacer("?", "??", "'", "?'", "+", "?+", ":", "?:", "*", "?*")
	return r.Replace(s)
}

// Misspell returns a plausible other spelling of a name: a vowel changed
// in the longest given name or the surname ("MOHAMED" → "MOHAMMED"
// style), as check-in agents and booking sites produce.
func Misspell(name string) string {
	words := strings.Fields(name)
	if len(words) == 0 {
		return name
	}
	w := words[0]
	for _, x := range words {
		if len(x) > len(w) {
			w = x
		}
	}
	out := w
	switch {
	case strings.Contains(w, "MM"):
		out = strings.Replace(w, "MM", "M", 1)
	case strings.Contains(w, "EE"):
		out = strings.Replace(w, "EE", "I", 1)
	case strings.Contains(w, "OU"):
		out = strings.Replace(w, "OU", "U", 1)
	case strings.HasSuffix(w, "Y"):
		out = strings.TrimSuffix(w, "Y") + "I"
	case len(w) > 4:
		// Double the fourth letter: "ANDERSON" → "ANDEERSON".
		out = w[:4] + w[3:4] + w[4:]
	}
	return strings.Replace(name, w, out, 1)
}
