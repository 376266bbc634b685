package demo

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/checkpoint-edge/checkpoint/mrz"
)

// Role is what the watchlist holds about a traveller.
type Role string

// Roles. Every traveller has exactly one.
const (
	RoleClear  Role = "clear"
	RoleWanted Role = "wanted"  // listed person: name, date of birth and face template
	RoleStolen Role = "stolen"  // the document is on the SLTD list
	RoleAlias  Role = "alias"   // listed by name and date of birth only, spelled differently
	roleNone   Role = "unknown" // parsing only
)

// identity is a made-up person with a name in its original script.
type identity struct {
	Surname, Given string
	Sex            string
	Nationality    string
}

// names are synthetic identities from several cultures and scripts;
// mrz.Generate transliterates them (ICAO 9303 Part 3) as a passport would.
var names = []identity{
	{"Müller", "Jürgen", "M", "DEU"},
	{"Nguyễn", "Thị Lan", "F", "VNM"},
	{"Петрова", "Анна Сергеевна", "F", "RUS"},
	{"García López", "María José", "F", "ESP"},
	{"Adeyemi", "Oluwaseun", "M", "NGA"},
	{"Papadopoulou", "Eleni", "F", "GRC"},
	{"Kowalczyk", "Agnieszka", "F", "POL"},
	{"Yılmaz", "Mehmet Ali", "M", "TUR"},
	{"Silva Santos", "João Pedro", "M", "BRA"},
	{"Kim", "Soo-ah", "F", "KOR"},
	{"Sharma", "Priya", "F", "IND"},
	{"O'Connor", "Siobhán", "F", "IRL"},
	{"Lindqvist", "Sofia", "F", "SWE"},
	{"Tanaka", "Yui", "F", "JPN"},
	{"Hernández", "Lucía", "F", "MEX"},
	{"Dubois", "Camille", "F", "FRA"},
	{"Haddad", "Karim", "M", "LBN"},
	{"Wang", "Xiu Ying", "F", "CHN"},
	{"Novák", "Tomáš", "M", "CZE"},
	{"Okafor", "Chiamaka", "F", "NGA"},
}

// aliasIdentity is the traveller listed under another spelling: the
// passport reads MUHAMMAD AL RASHID, the watchlist lists "Alrashid,
// Mohamed" (a name-variant class and a merged particle).
var aliasIdentity = identity{"Al-Rashid", "Muhammad", "M", "JOR"}

// aliasListed is how the watchlist spells aliasIdentity.
var aliasListed = identity{"Alrashid", "Mohamed", "M", "JOR"}

// td1States issue identity cards that are travel documents in the demo.
var td1States = map[string]bool{"DEU": true, "ESP": true, "POL": true, "FRA": true, "GRC": true, "CZE": true, "SWE": true}

// document is a traveller's travel document.
type document struct {
	identity
	Format   mrz.Format
	Code     string
	Number   string
	Birth    time.Time
	Expiry   time.Time
	Optional string
}

func (d *document) spec() mrz.Spec {
	return mrz.Spec{Format: d.Format, DocumentCode: d.Code, IssuingState: d.Nationality, Surname: d.Surname,
		GivenNames: strings.Fields(d.Given), DocumentNumber: d.Number, Nationality: d.Nationality,
		BirthDate: d.Birth, ExpiryDate: d.Expiry, Sex: d.Sex, OptionalData: d.Optional}
}

// lines renders the MRZ.
func (d *document) lines() ([]string, error) { return mrz.Generate(d.spec()) }

// birthString is the listed date of birth.
func (d *document) birthString() string { return d.Birth.Format("2006-01-02") }

const letters = "ABCDEFGHJKLMNPRSTUVWXYZ"

// newDocument makes a document for id: a passport (TD3) or, for states
// issuing identity cards, now and then a TD1 card; numbers look like the
// state's own (letters then digits), dates fall in plausible ranges.
func newDocument(r *rand.Rand, id identity, now time.Time) document {
	d := document{identity: id, Format: mrz.FormatTD3, Code: "P"}
	if td1States[id.Nationality] && r.IntN(2) == 0 {
		d.Format, d.Code = mrz.FormatTD1, "I"
	}
	var b strings.Builder
	for range 2 {
		b.WriteByte(letters[r.IntN(len(letters))])
	}
	fmt.Fprintf(&b, "%07d", r.IntN(10_000_000))
	d.Number = b.String()
	year := now.Year() - 20 - r.IntN(45)
	d.Birth = time.Date(year, time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC)
	d.Expiry = time.Date(now.Year()+1+r.IntN(8), time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC)
	return d
}

// pickIdentities gives n travellers identities from names, shuffled by r,
// matching sex where the photo's person is known to be a man (cosmetic:
// the officer sees the photo next to the document).
func pickIdentities(r *rand.Rand, n int, male func(i int) bool) []identity {
	pool := append([]identity(nil), names...)
	r.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	out := make([]identity, n)
	used := make([]bool, len(pool))
	for i := range n {
		want := "F"
		if male(i) {
			want = "M"
		}
		k := -1
		for j, p := range pool {
			if !used[j] && p.Sex == want {
				k = j
				break
			}
		}
		if k < 0 {
			for j := range pool {
				if !used[j] {
					k = j
					break
				}
			}
		}
		if k < 0 {
			// More travellers than names: reuse with another number.
			k = i % len(pool)
		}
		used[k] = true
		out[i] = pool[k]
	}
	return out
}
