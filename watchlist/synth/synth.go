package synth

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// Config says what to generate.
type Config struct {
	Docs    int64
	Persons int64
	// Faces is how many persons (the first ones) carry a face template;
	// persons are added when Faces exceeds Persons.
	Faces int64
	Seed  uint64
	// FaceModelID tags the templates (required when Faces > 0).
	FaceModelID string
	// FaceVector, if set, supplies person i's template instead of a random
	// unit vector (e.g. embeddings of test photographs).
	FaceVector func(i int64) []float32
	// WatchlistID names the generated list; "" means "synthetic".
	WatchlistID string
}

// Generator streams a synthetic watchlist: documents first, then persons.
// It implements watchlist.ChangeSource.
type Generator struct {
	cfg  Config
	next int64
}

// New returns a generator positioned at the first record.
func New(cfg Config) *Generator {
	if cfg.Faces > cfg.Persons {
		cfg.Persons = cfg.Faces
	}
	if cfg.WatchlistID == "" {
		cfg.WatchlistID = "synthetic"
	}
	return &Generator{cfg: cfg}
}

// Total is the number of changes the generator yields.
func (g *Generator) Total() int64 { return g.cfg.Docs + g.cfg.Persons }

// Header is the JSON Lines header for the generated list.
func (g *Generator) Header() watchlist.Header {
	return watchlist.Header{Kind: watchlist.KindMeta, WatchlistID: g.cfg.WatchlistID, Authority: "synthetic", FaceModelID: g.cfg.FaceModelID}
}

// Next implements watchlist.ChangeSource.
func (g *Generator) Next() (watchlist.Change, error) {
	i := g.next
	switch {
	case i < g.cfg.Docs:
		g.next++
		d := g.Document(i)
		return watchlist.Change{Op: watchlist.OpPut, Kind: watchlist.KindDocument, ID: d.ID, Document: &d}, nil
	case i < g.cfg.Docs+g.cfg.Persons:
		g.next++
		p := g.Person(i - g.cfg.Docs)
		return watchlist.Change{Op: watchlist.OpPut, Kind: watchlist.KindPerson, ID: p.ID, Person: &p}, nil
	}
	return watchlist.Change{}, io.EOF
}

// Reset rewinds the generator.
func (g *Generator) Reset() { g.next = 0 }

func (g *Generator) rng(kind uint64, i int64) *rand.Rand {
	return rand.New(rand.NewPCG(g.cfg.Seed^(kind<<56), uint64(i)*0x9E3779B97F4A7C15+kind))
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// state is an issuing state with its document number formats: 'A' a
// letter, '9' a digit, 'X' either, anything else literal.
type state struct {
	code    string
	formats []string
	idCard  string // TD1 card number format; long ones use the optional data
}

var states = []state{
	{"DEU", []string{"CXXXXXXXX"}, "LXXXXXXXX"},
	{"GBR", []string{"999999999"}, ""},
	{"USA", []string{"999999999", "A99999999"}, ""},
	{"FRA", []string{"99AA99999"}, "999999999999"},
	{"ESP", []string{"AAA999999"}, "AAA999999"},
	{"ITA", []string{"AA9999999"}, "CA99999AA"},
	{"NLD", []string{"AAXXXXXX9"}, "AAXXXXXX9"},
	{"PRT", []string{"A999999"}, "99999999ZZ99"},
	{"BEL", []string{"AA999999"}, "999999999999"},
	{"RUS", []string{"999999999"}, ""},
	{"UKR", []string{"AA999999"}, "999999999"},
	{"CHN", []string{"E99999999", "EA9999999"}, ""},
	{"KOR", []string{"M99999999"}, ""},
	{"VNM", []string{"A9999999"}, "999999999999"},
	{"EGY", []string{"A99999999"}, ""},
	{"SYR", []string{"N999999999"}, ""},
	{"IRQ", []string{"A99999999"}, ""},
	{"TUR", []string{"U99999999"}, "A99A99999"},
	{"GRC", []string{"AA9999999"}, "AA9999999"},
	{"BRA", []string{"AA999999"}, ""},
	{"MEX", []string{"A99999999"}, ""},
	{"POL", []string{"AA9999999"}, "AAA999999"},
}

func fillFormat(r *rand.Rand, f string) string {
	const letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
	const alnum = "0123456789CFGHJKLMNPRTVWXYZ"
	b := make([]byte, len(f))
	for i := 0; i < len(f); i++ {
		switch f[i] {
		case 'A':
			b[i] = letters[r.IntN(len(letters))]
		case '9':
			b[i] = byte('0' + r.IntN(10))
		case 'X':
			b[i] = alnum[r.IntN(len(alnum))]
		default:
			b[i] = f[i]
		}
	}
	return string(b)
}

var docStatuses = []struct{ status, action string }{
	{"stolen", watchlist.ActionRefer}, {"stolen", watchlist.ActionRefer}, {"stolen", watchlist.ActionArrest},
	{"lost", watchlist.ActionAlertOnly}, {"lost", watchlist.ActionAlertOnly}, {"lost", watchlist.ActionRefer},
	{"revoked", watchlist.ActionRefer}, {"invalidated", watchlist.ActionAlertOnly}, {"stolen_blank", watchlist.ActionArrest},
}

// Document is document alert i.
func (g *Generator) Document(i int64) watchlist.DocumentAlert {
	r := g.rng(1, i)
	st := pick(r, states)
	typ, number := "P", fillFormat(r, pick(r, st.formats))
	if st.idCard != "" && r.IntN(4) == 0 {
		typ, number = "I", fillFormat(r, st.idCard)
	}
	s := pick(r, docStatuses)
	source := "SLTD"
	if r.IntN(5) == 0 {
		source = "national"
	}
	year := 2015 + r.IntN(11)
	return watchlist.DocumentAlert{
		ID:           fmt.Sprintf("SYN-D%010d", i),
		IssuingState: st.code,
		DocumentType: typ,
		Number:       number,
		Status:       s.status,
		Source:       source,
		Action:       s.action,
		ReportedAt:   fmt.Sprintf("%04d-%02d-%02d", year, 1+r.IntN(12), 1+r.IntN(28)),
		ExpiresAt:    fmt.Sprintf("%04d-%02d-%02d", year+10, 1+r.IntN(12), 1+r.IntN(28)),
	}
}

var categories = []struct{ category, action string }{
	{"wanted", watchlist.ActionArrest},
	{"wanted", watchlist.ActionArrest},
	{"foreign_terrorist_fighter", watchlist.ActionDiscreetCheck},
	{"foreign_terrorist_fighter", watchlist.ActionArrest},
	{"missing", watchlist.ActionAlertOnly},
	{"refused_entry", watchlist.ActionRefer},
	{"person_of_interest", watchlist.ActionDiscreetCheck},
}

// Person is person alert i (0-based among persons).
func (g *Generator) Person(i int64) watchlist.PersonAlert {
	r := g.rng(2, i)
	c := pick(r, cultures)
	female := r.IntN(2) == 0
	name, aliases := c.name(r, female)
	sex := "M"
	if female {
		sex = "F"
	}
	if r.IntN(50) == 0 {
		sex = ""
	}
	y, m, d := 1950+r.IntN(55), 1+r.IntN(12), 1+r.IntN(28)
	var birth string
	v := r.IntN(10)
	switch {
	case v == 0:
		birth = fmt.Sprintf("%04d", y)
	case v == 1:
		birth = fmt.Sprintf("%04d-%02d", y, m)
	case v == 2:
		birth = ""
	default:
		birth = fmt.Sprintf("%04d-%02d-%02d", y, m, d)
	}
	cat := pick(r, categories)
	p := watchlist.PersonAlert{
		ID:          fmt.Sprintf("SYN-P%08d", i),
		Name:        name,
		Aliases:     aliases,
		Birth:       birth,
		Nationality: pick(r, c.nationalities),
		Sex:         sex,
		Category:    cat.category,
		Action:      cat.action,
		Source:      pick(r, []string{"interpol_red", "interpol_blue", "national", "eu_sis"}),
	}
	if i < g.cfg.Faces {
		var vec []float32
		if g.cfg.FaceVector != nil {
			vec = g.cfg.FaceVector(i)
		} else {
			vec = RandomUnitVector(g.rng(3, i), 128)
		}
		p.Faces = []watchlist.FaceTemplate{{ID: fmt.Sprintf("SYN-F%08d", i), ModelID: g.cfg.FaceModelID, Quality: 0.9, Vector: vec}}
	}
	g.format2(&p, i, v == 2, y)
	watchlist.FillMRZ(&p)
	return p
}

// format2 gives a person the record-format-2 shape of real lists, from its
// own random stream (so the format-1 fields stay as they were): persons
// without a full date get a range or an approximate year, some get an
// alternative date of birth, a second nationality, a listed passport or a
// weak alias (a nickname).
func (g *Generator) format2(p *watchlist.PersonAlert, i int64, noDate bool, y int) {
	r := g.rng(4, i)
	if noDate {
		// Lists give a span when they do not know the date.
		if r.IntN(2) == 0 {
			from := y - r.IntN(3)
			p.Births = append(p.Births, watchlist.BirthDate{From: from, To: from + 2 + r.IntN(4)})
		} else {
			p.Births = append(p.Births, watchlist.BirthDate{Date: fmt.Sprintf("%04d", y), Approx: 2})
		}
	}
	if r.IntN(100) < 15 {
		// An alternative date: another day, often another year.
		ay := y + r.IntN(5) - 2
		p.Births = append(p.Births, watchlist.BirthDate{Date: fmt.Sprintf("%04d-%02d-%02d", ay, 1+r.IntN(12), 1+r.IntN(28))})
	}
	if r.IntN(100) < 5 {
		if n := pick(r, []string{"FRA", "GBR", "USA", "TUR", "CAN", "SWE", "DEU"}); n != p.Nationality {
			p.Nationalities = []string{n}
		}
	}
	if r.IntN(100) < 10 {
		st := pick(r, states)
		p.Documents = []watchlist.IdentityDocument{{Type: "P", Number: fillFormat(r, pick(r, st.formats)), IssuingState: st.code}}
	}
	if r.IntN(100) < 10 {
		p.Aliases = append(p.Aliases, watchlist.Name{Surname: "ABU " + pick(r, []string{"OMAR", "HAMZA", "BAKR", "MUSAB", "KHALED", "ALI"}), Quality: watchlist.QualityWeak})
	}
}

// RandomUnitVector is a uniformly random direction in dim dimensions.
func RandomUnitVector(r *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	var n float64
	for i := range v {
		x := r.NormFloat64()
		v[i] = float32(x)
		n += x * x
	}
	n = math.Sqrt(n)
	for i := range v {
		v[i] = float32(float64(v[i]) / n)
	}
	return v
}

// FaceVector is the template the generator gives person i when Config
// supplies none (for benchmarks and tests that query a listed face).
func (g *Generator) FaceVector(i int64) []float32 { return RandomUnitVector(g.rng(3, i), 128) }

// WriteJSONL writes the header and every change as JSON Lines (Change
// form), calling progress every 10,000 records when set.
func WriteJSONL(w io.Writer, g *Generator, progress func(n int64)) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(g.Header()); err != nil {
		return err
	}
	var n int64
	for {
		c, err := g.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if err := enc.Encode(&c); err != nil {
			return err
		}
		n++
		if progress != nil && n%10000 == 0 {
			progress(n)
		}
	}
	if progress != nil {
		progress(n)
	}
	return nil
}

func join(parts ...string) string { return strings.Join(strings.Fields(strings.Join(parts, " ")), " ") }

// RandomUnitVectorSeed is RandomUnitVector from a seed (tests).
func RandomUnitVectorSeed(seed uint64) []float32 {
	return RandomUnitVector(rand.New(rand.NewPCG(seed, 0x5eed)), 128)
}
