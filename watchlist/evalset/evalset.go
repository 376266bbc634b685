package evalset

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/checkpoint-edge/checkpoint/mrz"
	"github.com/checkpoint-edge/checkpoint/watchlist"
	"github.com/checkpoint-edge/checkpoint/watchlist/match"
)

// Kinds of evaluation cases. Positives are travellers who are a listed
// person; negatives are travellers who are not, chosen to look dangerous.
const (
	KindExact    = "exact"     // listed name in its ICAO MRZ form, a listed date of birth
	KindAlias    = "alias"     // a strong listed alias as the travel name
	KindTranslit = "translit"  // the original-script name, transliterated (ICAO for Cyrillic, Maghreb French for Arabic)
	KindTD1      = "td1_trunc" // the name field of a TD1 card (30 characters), cut or reduced to initials
	KindTD3      = "td3_trunc" // the name field of a passport (39 characters), cut
	KindSwapped  = "swapped"   // surname and given names swapped, or all in the surname field
	KindOCR      = "ocr_typo"  // one letter changed: an OCR confusion or a spelling change
	KindAltDOB   = "alt_dob"   // a second listed date, a date inside a listed range, or a full date of a partial one

	KindNamesake = "namesake" // a listed name (or its common tokens) with a date of birth the listing excludes
	KindMixed    = "mixed"    // given names of one listed person, surname of another
	KindOrdinary = "ordinary" // ordinary names from many countries
)

// PositiveKinds and NegativeKinds list the kinds in report order.
var (
	PositiveKinds = []string{KindExact, KindAlias, KindTranslit, KindTD1, KindTD3, KindSwapped, KindOCR, KindAltDOB}
	NegativeKinds = []string{KindNamesake, KindMixed, KindOrdinary}
)

// Case is one evaluation traveller.
type Case struct {
	Kind     string
	Positive bool
	// Want is the listed person a positive must find.
	Want  string
	Query watchlist.PersonQuery
}

// Options size the negatives (positives are one per eligible listed
// person and kind).
type Options struct {
	Seed     uint64
	Mixed    int // default 1000
	Ordinary int // default 2000
}

// Generate builds the evaluation set from the listed persons (a lists
// snapshot). It is deterministic for a seed.
func Generate(persons []watchlist.PersonAlert, opts Options) []Case {
	if opts.Mixed <= 0 {
		opts.Mixed = 1000
	}
	if opts.Ordinary <= 0 {
		opts.Ordinary = 2000
	}
	r := rand.New(rand.NewPCG(opts.Seed, 0xe7a1))
	var out []Case
	pos := func(kind string, p *watchlist.PersonAlert, q watchlist.PersonQuery) {
		out = append(out, Case{Kind: kind, Positive: true, Want: p.ID, Query: q})
	}
	var withLatin []*watchlist.PersonAlert
	for i := range persons {
		p := &persons[i]
		names := strongLatin(p)
		if len(names) == 0 {
			continue
		}
		withLatin = append(withLatin, p)
		sur, given := mrzTokens(names[0])
		base := traveller(r, p, sur, given)
		base.BirthDate = pickDOB(r, p, false)
		pos(KindExact, p, base)

		if len(names) > 1 {
			q := base
			s, g := mrzTokens(names[1+r.IntN(len(names)-1)])
			q.Surname, q.GivenNames = strings.Join(s, " "), g
			pos(KindAlias, p, q)
		}
		for _, a := range p.Aliases {
			if a.Script == "" {
				continue
			}
			tr := mrz.Transliterate
			if a.Script == "Arab" {
				tr = frenchArabic
			}
			sur, given := match.NameTokens(tr(a.Surname)), match.NameTokens(tr(a.GivenNames))
			if len(sur)+len(given) == 0 {
				continue
			}
			q := base
			q.Surname, q.GivenNames = strings.Join(sur, " "), given
			pos(KindTranslit, p, q)
			break
		}
		full, _ := mrz.NameField(strings.Join(sur, " "), given, 200)
		full = strings.TrimRight(full, "<")
		if len(full) > 30 {
			q := base
			if r.IntN(2) == 0 {
				f, trunc := mrz.NameField(strings.Join(sur, " "), given, 30)
				q.Name, q.NameTruncated, q.Surname, q.GivenNames = f, trunc, "", nil
			} else {
				// ICAO 9303 truncation: keep the surname and the first
				// given name, reduce the others to initials.
				g := slices.Clone(given)
				for i := 1; i < len(g); i++ {
					g[i] = g[i][:1]
				}
				f, trunc := mrz.NameField(strings.Join(sur, " "), g, 30)
				q.Name, q.NameTruncated, q.Surname, q.GivenNames = f, trunc, "", nil
			}
			pos(KindTD1, p, q)
		}
		if len(full) > 39 {
			q := base
			f, trunc := mrz.NameField(strings.Join(sur, " "), given, 39)
			q.Name, q.NameTruncated, q.Surname, q.GivenNames = f, trunc, "", nil
			pos(KindTD3, p, q)
		}
		if len(given) > 0 {
			q := base
			if r.IntN(2) == 0 {
				q.Surname, q.GivenNames = strings.Join(given, " "), sur
			} else {
				q.Surname, q.GivenNames = strings.Join(append(slices.Clone(sur), given...), " "), nil
			}
			pos(KindSwapped, p, q)
		}
		if q, ok := typo(r, base, sur, given); ok {
			pos(KindOCR, p, q)
		}
		if d := pickDOB(r, p, true); d != "" {
			q := base
			q.BirthDate = d
			pos(KindAltDOB, p, q)
		}
	}

	neg := func(kind string, q watchlist.PersonQuery) {
		out = append(out, Case{Kind: kind, Query: q})
	}
	// Names borne by several listed persons: a namesake of one of them may
	// be another one's possible match (listed without a date of birth).
	bearers := map[string]int{}
	for _, p := range withLatin {
		seen := map[string]bool{}
		for _, n := range strongLatin(p) {
			s, g := mrzTokens(n)
			k := sortedKey(append(s, g...))
			if !seen[k] {
				seen[k] = true
				bearers[k]++
			}
		}
	}
	// Listed persons without a date of birth cannot be told from their
	// namesakes: a traveller named like one is their possible match, not a
	// negative.
	var undated []match.FullName
	for _, p := range withLatin {
		if len(p.BirthDates()) > 0 {
			continue
		}
		for _, n := range strongLatin(p) {
			s, g := mrzTokens(n)
			undated = append(undated, match.FullName{Surname: strings.Join(s, " "), GivenNames: g})
		}
	}
	namedLikeUndated := func(sur string, given []string) bool {
		fn := match.FullName{Surname: sur, GivenNames: given}
		for _, u := range undated {
			if sim, _ := match.NameSimilarity(fn, u, match.DefaultConfig()); sim >= 0.7 {
				return true
			}
		}
		return false
	}
	for _, p := range withLatin {
		dob, ok := excludedDOB(r, p)
		if !ok {
			continue
		}
		sur, given := mrzTokens(strongLatin(p)[0])
		if bearers[sortedKey(append(slices.Clone(sur), given...))] > 1 {
			continue
		}
		q := traveller(r, p, sur, given)
		q.BirthDate = dob
		if r.IntN(2) == 1 {
			// Only the common tokens of the listed name, with another
			// common surname: the MUHAMMAD ALI of every flight.
			var common []string
			for _, t := range append(slices.Clone(sur), given...) {
				if commonToken[t] {
					common = append(common, t)
				}
			}
			if len(common) == 0 {
				continue
			}
			c := ordinary[r.IntN(3)]
			q.Surname, q.GivenNames = c.surnames[r.IntN(len(c.surnames))], common
		}
		if namedLikeUndated(q.Surname, q.GivenNames) {
			continue
		}
		neg(KindNamesake, q)
	}
	for range opts.Mixed {
		if len(withLatin) < 2 {
			break
		}
		a, b := withLatin[r.IntN(len(withLatin))], withLatin[r.IntN(len(withLatin))]
		if a.ID == b.ID {
			continue
		}
		sa, ga := mrzTokens(strongLatin(a)[0])
		sb, gb := mrzTokens(strongLatin(b)[0])
		if len(ga) == 0 || len(gb) == 0 || slices.Equal(sa, sb) || sharesGiven(ga, b) || isWholeName(sb, b) {
			// Not a negative: b's surname alone is one of b's listed names
			// (the traveller would carry b's name), or a's given names are
			// b's too.
			continue
		}
		// The surname's bearer gives date of birth and nationality too: the
		// traveller shares a family name, a birth date and a passport
		// with one listed person and the given names of another.
		q := traveller(r, b, sb, ga)
		q.BirthDate = pickDOB(r, b, false)
		if datesAllow(a, q.BirthDate) {
			continue // the date fits a's listing too: a's names and date
		}
		neg(KindMixed, q)
	}
	for range opts.Ordinary {
		c := ordinary[r.IntN(len(ordinary))]
		given := []string{c.givens[r.IntN(len(c.givens))]}
		if r.IntN(3) == 0 {
			if g := c.givens[r.IntN(len(c.givens))]; g != given[0] {
				given = append(given, g)
			}
		}
		q := watchlist.PersonQuery{Surname: c.surnames[r.IntN(len(c.surnames))], GivenNames: given,
			BirthDate:   fmt.Sprintf("%04d-%02d-%02d", 1940+r.IntN(66), 1+r.IntN(12), 1+r.IntN(28)),
			Nationality: c.nats[r.IntN(len(c.nats))], Sex: []string{"M", "F"}[r.IntN(2)]}
		neg(KindOrdinary, q)
	}
	return out
}

// commonToken marks the tokens namesakes share with listed persons.
var commonToken = func() map[string]bool {
	m := map[string]bool{}
	for _, t := range strings.Fields(`MOHAMMAD MUHAMMAD MOHAMMED MOHAMED MUHAMMED AHMAD AHMED ALI HASSAN HASAN HUSSEIN HUSAIN HUSSAIN
		ABDUL ABD ABDUL ABDULLAH ABDALLAH IBRAHIM OMAR UMAR MAHMOUD MAHMUD YOUSSEF YUSUF SALEH SALIH KHALID KHALED KHAN
		RAHMAN ABDEL HAJI MULLAH GUL NOOR AMIN HAMID RASHID KARIM SAID SAEED ISMAIL MUSA ISSA YAHYA JAMAL NASSER KIM LI RI PAK CHOE`) {
		m[t] = true
	}
	return m
}()

// strongLatin returns a person's Latin-script names that a passport may
// carry: the primary name and the strong aliases.
func strongLatin(p *watchlist.PersonAlert) []watchlist.Name {
	var out []watchlist.Name
	for _, n := range append([]watchlist.Name{p.Name}, p.Aliases...) {
		if n.Script != "" || n.Quality == watchlist.QualityWeak || scriptNonLatin(n.Surname+n.GivenNames) {
			continue
		}
		if s, _ := mrzTokens(n); len(s) > 0 {
			out = append(out, n)
		}
	}
	return out
}

func scriptNonLatin(s string) bool {
	for _, r := range s {
		if r > 0x024F && r != '’' && r != '‘' {
			return true
		}
	}
	return false
}

// mrzTokens is a name as a passport's MRZ prints it: ICAO recommended
// transliteration, surname tokens and given-name tokens.
func mrzTokens(n watchlist.Name) (sur, given []string) {
	return match.NameTokens(mrz.Transliterate(n.Surname)), match.NameTokens(mrz.Transliterate(n.GivenNames))
}

// traveller fills what a document carries besides the name: nationality
// (listed, else the country of birth), sex (listed, else either).
func traveller(r *rand.Rand, p *watchlist.PersonAlert, sur, given []string) watchlist.PersonQuery {
	q := watchlist.PersonQuery{Surname: strings.Join(sur, " "), GivenNames: given, Nationality: p.Nationality, Sex: p.Sex}
	if q.Nationality == "" {
		for _, pl := range p.BirthPlaces {
			if pl.Country != "" {
				q.Nationality = pl.Country
				break
			}
		}
	}
	if q.Sex == "" {
		q.Sex = []string{"M", "F"}[r.IntN(2)]
	}
	return q
}

// pickDOB is a full date of birth a traveller's document shows that agrees
// with a listed date: the first listed date (alt false) or another one,
// a date inside a listed range, or a full date of a partial one (alt
// true; "" when the person has no such alternative).
func pickDOB(r *rand.Rand, p *watchlist.PersonAlert, alt bool) string {
	ds := p.BirthDates()
	if len(ds) == 0 {
		if alt {
			return ""
		}
		return fmt.Sprintf("%04d-%02d-%02d", 1940+r.IntN(60), 1+r.IntN(12), 1+r.IntN(28))
	}
	d := ds[0]
	if alt {
		switch {
		case len(ds) > 1:
			d = ds[1+r.IntN(len(ds)-1)]
		case d.From != 0 || d.Approx != 0 || len(d.Date) < 10:
		default:
			return ""
		}
	}
	return fullDate(r, d)
}

func fullDate(r *rand.Rand, d watchlist.BirthDate) string {
	switch {
	case d.From != 0:
		return fmt.Sprintf("%04d-%02d-%02d", d.From+r.IntN(d.To-d.From+1), 1+r.IntN(12), 1+r.IntN(28))
	case d.Approx != 0:
		y := 0
		fmt.Sscanf(d.Date, "%d", &y)
		return fmt.Sprintf("%04d-%02d-%02d", y-d.Approx+r.IntN(2*d.Approx+1), 1+r.IntN(12), 1+r.IntN(28))
	case len(d.Date) == 4:
		return fmt.Sprintf("%s-%02d-%02d", d.Date, 1+r.IntN(12), 1+r.IntN(28))
	case len(d.Date) == 7:
		return fmt.Sprintf("%s-%02d", d.Date, 1+r.IntN(28))
	}
	return d.Date
}

// excludedDOB is a date of birth no listed date of the person allows: at
// least three years from every listed year and span.
func excludedDOB(r *rand.Rand, p *watchlist.PersonAlert) (string, bool) {
	ds := p.BirthDates()
	if len(ds) == 0 {
		return "", false
	}
	for range 50 {
		y := 1935 + r.IntN(70)
		ok := true
		for _, d := range ds {
			lo, hi := d.From, d.To
			if d.From == 0 {
				fmt.Sscanf(d.Date, "%d", &lo)
				hi = lo
				lo, hi = lo-d.Approx, hi+d.Approx
			}
			if y >= lo-3 && y <= hi+3 {
				ok = false
			}
		}
		if ok {
			return fmt.Sprintf("%04d-%02d-%02d", y, 1+r.IntN(12), 1+r.IntN(28)), true
		}
	}
	return "", false
}

var ocrSwap = map[byte]string{'O': "DQ", 'D': "O", 'Q': "O", 'I': "LJ", 'L': "I", 'J': "I", 'M': "N", 'N': "M",
	'U': "V", 'V': "U", 'C': "G", 'G': "C", 'E': "F", 'F': "E", 'P': "R", 'R': "P", 'K': "X", 'X': "K"}

// typo changes one letter of one token: an OCR confusion, or (tokens of
// four letters or more, one time in three) a spelling change.
func typo(r *rand.Rand, q watchlist.PersonQuery, sur, given []string) (watchlist.PersonQuery, bool) {
	all := append(slices.Clone(sur), given...)
	var cands []int
	for i, t := range all {
		if len(t) >= 3 {
			cands = append(cands, i)
		}
	}
	if len(cands) == 0 {
		return q, false
	}
	i := cands[r.IntN(len(cands))]
	t := []byte(all[i])
	var pos []int
	for j, c := range t {
		if ocrSwap[c] != "" {
			pos = append(pos, j)
		}
	}
	switch {
	case len(t) >= 4 && (len(pos) == 0 || r.IntN(3) == 0):
		j := r.IntN(len(t))
		c := byte('A' + r.IntN(26))
		for c == t[j] {
			c = byte('A' + r.IntN(26))
		}
		t[j] = c
	case len(pos) > 0:
		j := pos[r.IntN(len(pos))]
		s := ocrSwap[t[j]]
		t[j] = s[r.IntN(len(s))]
	default:
		return q, false
	}
	all[i] = string(t)
	q.Surname, q.GivenNames = strings.Join(all[:len(sur)], " "), all[len(sur):]
	return q, true
}

// KindResult is the outcome of one kind.
type KindResult struct {
	Kind     string `json:"kind"`
	Positive bool   `json:"positive"`
	Cases    int    `json:"cases"`
	// Positives: found at the HIT level, at the POSSIBLE level, missed.
	// Negatives: alerts at either level (any listed person).
	Hit      int     `json:"hit"`
	Possible int     `json:"possible"`
	Missed   int     `json:"missed,omitempty"`
	Rate     float64 `json:"rate"` // recall for positives, false-alert rate for negatives
}

// Result is an evaluation run.
type Result struct {
	Kinds    []KindResult `json:"kinds"`
	Queries  int          `json:"queries"`
	Seconds  float64      `json:"seconds"`
	Recall   float64      `json:"recall"`       // over all positives
	FalseHit float64      `json:"false_alerts"` // over all negatives
	// Misses and Alerts name the cases that failed (ids and kinds only),
	// for analysis; at most 50 each.
	Misses []string `json:"misses,omitempty"`
	Alerts []string `json:"alerts,omitempty"`
}

// Run screens every case against the store (which must hold the persons
// the set was generated from) with the store's thresholds.
func Run(ctx context.Context, s *watchlist.Store, cases []Case) (*Result, error) {
	t0 := time.Now()
	byKind := map[string]*KindResult{}
	res := &Result{Queries: len(cases)}
	qs := make([]watchlist.PersonQuery, len(cases))
	for i := range cases {
		qs[i] = cases[i].Query
	}
	err := s.ScreenPersons(ctx, qs, func(i int, hits []watchlist.Hit, err error) error {
		if err != nil {
			return fmt.Errorf("case %d (%s): %w", i, cases[i].Kind, err)
		}
		c := &cases[i]
		kr := byKind[c.Kind]
		if kr == nil {
			kr = &KindResult{Kind: c.Kind, Positive: c.Positive}
			byKind[c.Kind] = kr
		}
		kr.Cases++
		level := ""
		for _, h := range hits {
			if h.Kind != watchlist.HitPerson {
				continue
			}
			if c.Positive && h.RefID != c.Want {
				continue
			}
			if l := h.LevelOrHit(); level == "" || l == watchlist.LevelHit {
				level = l
			}
		}
		switch {
		case level == watchlist.LevelHit:
			kr.Hit++
		case level == watchlist.LevelPossible:
			kr.Possible++
		case c.Positive:
			kr.Missed++
		}
		if c.Positive && level == "" && len(res.Misses) < 50 {
			res.Misses = append(res.Misses, c.Kind+" "+c.Want)
		}
		if !c.Positive && level != "" && len(res.Alerts) < 50 {
			res.Alerts = append(res.Alerts, fmt.Sprintf("%s case %d", c.Kind, i))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var pos, found, negs, alerts int
	for _, k := range append(slices.Clone(PositiveKinds), NegativeKinds...) {
		kr := byKind[k]
		if kr == nil {
			continue
		}
		if kr.Positive {
			kr.Rate = float64(kr.Hit+kr.Possible) / float64(kr.Cases)
			pos += kr.Cases
			found += kr.Hit + kr.Possible
		} else {
			kr.Rate = float64(kr.Hit+kr.Possible) / float64(kr.Cases)
			negs += kr.Cases
			alerts += kr.Hit + kr.Possible
		}
		res.Kinds = append(res.Kinds, *kr)
	}
	if pos > 0 {
		res.Recall = float64(found) / float64(pos)
	}
	if negs > 0 {
		res.FalseHit = float64(alerts) / float64(negs)
	}
	res.Seconds = time.Since(t0).Seconds()
	return res, nil
}

// WriteTable prints the result for a person.
func (r *Result) WriteTable(w io.Writer) {
	fmt.Fprintf(w, "%-10s %-9s %6s %6s %8s %7s %8s\n", "kind", "", "cases", "HIT", "POSSIBLE", "missed", "rate")
	for _, k := range r.Kinds {
		what := "recall"
		if !k.Positive {
			what = "false"
		}
		fmt.Fprintf(w, "%-10s %-9s %6d %6d %8d %7d %7.2f%%\n", k.Kind, what, k.Cases, k.Hit, k.Possible, k.Missed, 100*k.Rate)
	}
	fmt.Fprintf(w, "recall %.2f%% over all positives, false alerts %.2f%% over all negatives; %d queries in %.2fs\n",
		100*r.Recall, 100*r.FalseHit, r.Queries, r.Seconds)
}

// sharesGiven reports whether given names share a name with any of the
// person's strong names.
func sharesGiven(given []string, p *watchlist.PersonAlert) bool {
	for _, n := range strongLatin(p) {
		s, g := mrzTokens(n)
		if sharesName(given, append(s, g...)) {
			return true
		}
	}
	return false
}

// sharesName reports whether two token lists share a name (by spelling,
// variant class or one edit; adjacent tokens joined too: ABU BAKAR and
// ABUBAKARY).
func sharesName(a, b []string) bool {
	join := func(ts []string) []string {
		out := slices.Clone(ts)
		for i := 0; i+1 < len(ts); i++ {
			out = append(out, ts[i]+ts[i+1])
		}
		return out
	}
	for _, x := range join(a) {
		for _, y := range join(b) {
			if x == y || (match.VariantClass(x) != "" && match.VariantClass(x) == match.VariantClass(y)) ||
				len(x) >= 4 && len(y) >= 4 && match.EditDistance(x, y) <= 1 {
				return true
			}
		}
	}
	return false
}

// isWholeName reports whether tokens are, in some order, all of one of the
// person's strong listed names.
func isWholeName(toks []string, p *watchlist.PersonAlert) bool {
	k := sortedKey(toks)
	for _, n := range strongLatin(p) {
		s, g := mrzTokens(n)
		if sortedKey(append(s, g...)) == k {
			return true
		}
	}
	return false
}

func sortedKey(ts []string) string {
	c := slices.Clone(ts)
	slices.Sort(c)
	return strings.Join(c, " ")
}

// datesAllow reports whether a traveller's date of birth agrees with one
// of the person's listed dates (same year, or inside a listed span).
func datesAllow(p *watchlist.PersonAlert, dob string) bool {
	y := 0
	fmt.Sscanf(dob, "%d", &y)
	for _, d := range p.BirthDates() {
		lo, hi := d.From, d.To
		if d.From == 0 {
			fmt.Sscanf(d.Date, "%d", &lo)
			hi = lo
			lo, hi = lo-d.Approx, hi+d.Approx
		}
		if y >= lo && y <= hi {
			return true
		}
	}
	return false
}
