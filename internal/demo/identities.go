package demo

import (
	"fmt"
	"math/rand/v2"
	"slices"
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

// The demo's travellers are the people of the shared photo set
// (../shared/testdata/faces): young East Asian women and men. So that the
// demo tells the truth, each face travels on a document that fits it: a
// made-up Korean, Chinese, Japanese or Taiwanese name of the person's sex,
// and a date of birth of someone in their twenties (newDocument). The names
// are invented: none is the name of the person in the photo.
var subjectIdentities = map[string]identity{
	"bona":      {"Han", "Soyeon", "F", "KOR"},
	"chaeyeon":  {"Baek", "Hayoon", "F", "KOR"},
	"chaeyoung": {"Seo", "Yerin", "F", "KOR"},
	"elkie":     {"Leung", "Hoi Yan", "F", "CHN"},
	"eunseo":    {"Oh", "Seunga", "F", "KOR"},
	"eunwoo":    {"Jang", "Minjun", "M", "KOR"},
	"jimin":     {"Yoon", "Taeho", "M", "KOR"},
	"joy":       {"Nam", "Sooah", "F", "KOR"},
	"luda":      {"Kwon", "Dahye", "F", "KOR"},
	"meiqi":     {"Zhao", "Meiling", "F", "CHN"},
	"nana":      {"Sato", "Nanami", "F", "JPN"},
	"nayoung":   {"Moon", "Jiwon", "F", "KOR"},
	"rena":      {"Takahashi", "Rina", "F", "JPN"},
	"sejeong":   {"Hwang", "Sejin", "F", "KOR"},
	"seulgi":    {"Shin", "Seoyeon", "F", "KOR"},
	"tzuyu":     {"Lin", "Yuting", "F", "TWN"},
	"yujin":     {"Ahn", "Haeun", "F", "KOR"},
}

// names are identities for people of another photo set (labels the table
// above does not know), and for the names a listed person is listed under
// when they travel under another identity: East Asian names, so they fit
// the faces the demo's photos show.
var names = []identity{
	{"Choi", "Yuna", "F", "KOR"},
	{"Jung", "Eunji", "F", "KOR"},
	{"Kang", "Jisoo", "F", "KOR"},
	{"Lim", "Chaewon", "F", "KOR"},
	{"Song", "Harin", "F", "KOR"},
	{"Yoo", "Sumin", "F", "KOR"},
	{"Chen", "Xiaoling", "F", "CHN"},
	{"Liu", "Yifei", "F", "CHN"},
	{"Wang", "Shuyi", "F", "CHN"},
	{"Huang", "Yiting", "F", "TWN"},
	{"Tsai", "Pei-shan", "F", "TWN"},
	{"Suzuki", "Aoi", "F", "JPN"},
	{"Yamamoto", "Hina", "F", "JPN"},
	{"Watanabe", "Yui", "F", "JPN"},
	{"Lee", "Junho", "M", "KOR"},
	{"Kim", "Dohyun", "M", "KOR"},
	{"Park", "Seojun", "M", "KOR"},
	{"Zhang", "Wei", "M", "CHN"},
	{"Hsu", "Chih-ming", "M", "TWN"},
	{"Tanaka", "Haruto", "M", "JPN"},
}

// identityOf is the identity of the person of the photo set called
// person, when the table knows them.
func identityOf(person string) (identity, bool) {
	id, ok := subjectIdentities[person]
	return id, ok
}

// aliasSpellings are pairs of romanisations of one surname (the
// watchlist's name-variant classes): the traveller listed under another
// spelling travels as the first and is listed as the second.
var aliasSpellings = map[string][2]string{
	"KOR": {"Choi", "Choe"},
	"CHN": {"Zhou", "Chou"},
	"TWN": {"Chou", "Zhou"},
	"JPN": {"Lee", "Yi"}, // a Japanese national of Korean descent (Zainichi)
}

// aliasOf gives the traveller listed under another spelling: the passport
// reads the traveller's own given name with one spelling of the surname,
// the watchlist lists the other spelling.
func aliasOf(id identity) (passport, listed identity) {
	pair, ok := aliasSpellings[id.Nationality]
	if !ok {
		pair = aliasSpellings["KOR"]
	}
	passport, listed = id, id
	passport.Surname, listed.Surname = pair[0], pair[1]
	return passport, listed
}

// otherIdentity is a name a listed person is listed under when they travel
// under another identity: the same sex, another nationality.
func otherIdentity(r *rand.Rand, id identity) identity {
	var pool []identity
	for _, o := range names {
		if o.Sex == id.Sex && o.Nationality != id.Nationality {
			pool = append(pool, o)
		}
	}
	if len(pool) == 0 {
		pool = names
	}
	return pool[r.IntN(len(pool))]
}

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
	// In their twenties, like the people of the photo set: 21 to 29 on the
	// demo's day.
	birth := now.AddDate(-21-r.IntN(9), 0, -r.IntN(365))
	d.Birth = time.Date(birth.Year(), birth.Month(), birth.Day(), 0, 0, 0, 0, time.UTC)
	d.Expiry = time.Date(now.Year()+1+r.IntN(8), time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC)
	return d
}

// pickIdentities gives the n travellers, whose photos show the people
// person(i) of the photo set, the identities that fit their faces; people
// the table does not know take unused names of the pool, shuffled by r.
func pickIdentities(r *rand.Rand, n int, person func(i int) string) []identity {
	pool := slices.Clone(names)
	r.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	out := make([]identity, n)
	next := 0
	for i := range n {
		if id, ok := identityOf(person(i)); ok {
			out[i] = id
			continue
		}
		out[i] = pool[next%len(pool)]
		next++
	}
	return out
}
