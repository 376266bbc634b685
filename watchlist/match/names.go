package match

import (
	"math"
	"strconv"
	"strings"
)

// FullName is one name of a person in MRZ form or any script: the primary
// name, an alias, or one transliteration of either.
type FullName struct {
	Surname    string
	GivenNames []string
	// Weak marks a low-quality alias (a nickname or nom de guerre the list
	// grades weak): a match on it alone is at most a possible match.
	Weak bool
	// Kind says which listed name this is, for explanations: "" or
	// NameKindPrimary, NameKindAlias, NameKindOriginal (a romanisation of
	// the name in its original script).
	Kind string
	// Listed is the name as the list writes it (any script), for the
	// officer; "" means String().
	Listed string
	// MRZ, when set, is the name as an MRZ name field
	// ("SURNAME<<GIVEN<NAMES"); Surname and GivenNames are then ignored.
	// A Scorer splits it once per search.
	MRZ string
}

// Kinds of a listed name (FullName.Kind, and the name field's Agreement).
const (
	NameKindPrimary  = "primary name"
	NameKindAlias    = "alias"
	NameKindWeak     = "weak alias"
	NameKindOriginal = "original script"
)

func (n FullName) kind() string {
	switch {
	case n.Weak:
		return NameKindWeak
	case n.Kind == "":
		return NameKindPrimary
	}
	return n.Kind
}

func (n FullName) listed() string {
	if n.Listed != "" {
		return n.Listed
	}
	return n.String()
}

// String renders the name as "SURNAME, GIVEN NAMES".
func (n FullName) String() string {
	if n.MRZ != "" {
		m := ParseMRZName(n.MRZ)
		m.MRZ = ""
		return m.String()
	}
	if len(n.GivenNames) == 0 {
		return n.Surname
	}
	return n.Surname + ", " + strings.Join(n.GivenNames, " ")
}

// tok is one normalised token with what the comparison needs, computed
// once per token rather than once per pair.
type tok struct {
	s        string
	ph       string // Phonetic(s)
	cls      string // variant class canonical, or ""
	surname  bool
	particle bool
	w        float64  // information weight (rarity)
	hist     [26]byte // letter counts, for cheap bounds before edit distances
	skel     string   // looseSkeleton(s)
	strip    string   // stripParticle(s)
	stripPh  string   // Phonetic(strip), when a particle was stripped
	poor     bool     // vowelPoor(s)
}

func newTok(s string, surname bool, cfg *Config) tok {
	if cfg.cache != nil {
		if t, ok := cfg.cache.toks[s]; ok {
			t.surname = surname
			return t
		}
	}
	t := baseTok(s, surname)
	if cfg.cache != nil && cfg.cache.query != nil {
		// A record token: the query's weight when the traveller has the
		// same token, else the embedded table's. The store's frequency
		// lookups (an HMAC and a read each) are spent on the traveller's
		// few tokens, not on every token of every candidate.
		if qt, ok := cfg.cache.query[s]; ok {
			t.w = qt.w
		} else {
			t.w = weight(s, &Config{})
		}
	} else {
		t.w = weight(s, cfg)
	}
	if cfg.cache != nil && len(cfg.cache.toks) < maxCachedTokens {
		cfg.cache.toks[s] = t
	}
	return t
}

// baseTok is everything of a token but its weight.
func baseTok(s string, surname bool) tok {
	t := tok{s: s, ph: Phonetic(s), cls: classOf[s], surname: surname, particle: particles[s],
		skel: looseSkeleton(s), poor: vowelPoor(s), strip: stripParticle(s)}
	if t.strip != s {
		t.stripPh = Phonetic(t.strip)
	} else {
		t.stripPh = t.ph
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' && t.hist[c-'A'] < 255 {
			t.hist[c-'A']++
		}
	}
	return t
}

// tokCache holds per-token work (phonetic key, class, weight) and name
// tokenisations across the records one traveller is scored against.
type tokCache struct {
	toks  map[string]tok
	names map[string][]string
	// query holds the traveller's tokens once they are made; tokens made
	// after that are record tokens.
	query map[string]tok
}

// maxCachedTokens bounds a Scorer's caches (a batch of hostile names
// cannot grow them without limit).
const maxCachedTokens = 1 << 14

// common is the number of letters two tokens share, counted with
// multiplicity: an upper bound on Jaro matches and a lower bound on edit
// distance (max length - common).
func common(a, b *tok) int {
	n := 0
	for i := range a.hist {
		n += int(min(a.hist[i], b.hist[i]))
	}
	return n
}

// Similarity levels for token pairs. Exact agreement is 1; the others are
// ranked by how much a differing spelling still supports identity.
const (
	simClass     = 0.95 // name-variant class
	simParticle  = 0.93 // same once an attached AL/EL is removed
	simPrefix    = 0.92 // truncated MRZ token, at least 4 letters
	simShortPref = 0.8  // truncated MRZ token of 2–3 letters
	simOneEdit   = 0.9
	simPhonetic  = 0.88
	simTwoEdits  = 0.8
	simOCR       = 0.85 // short token, one OCR-confusable letter differs
	simSkeleton  = 0.82 // unvocalised romanisation with the same consonants
	simInitial   = 0.8  // an initial stands for a name with that first letter
	simMatched   = 0.75 // below this a pair does not count as matched
)

// Reasons of token agreements that cannot make a name match on their own.
const (
	whyOCR     = "OCR confusion"
	whyInitial = "initial"
)

// tokenSim compares a query token with a record token. prefixOK allows the
// query token to be a truncation of the record token. The reason is "" for
// equal tokens.
func tokenSim(a, b *tok, prefixOK bool) (float64, string) {
	if a.s == b.s {
		return 1, ""
	}
	if a.cls != "" && a.cls == b.cls {
		return simClass, "name-variant class"
	}
	la, lb := len(a.s), len(b.s)
	if la == 1 || lb == 1 {
		// ICAO 9303 truncation reduces given names to initials
		// (GAYKOVICH<<BORIS<A): an initial stands for a name with that
		// first letter, and nothing else.
		if la != lb && a.s[0] == b.s[0] {
			return simInitial, whyInitial
		}
		return 0, ""
	}
	if prefixOK && len(a.s) >= 2 && len(a.s) < len(b.s) && strings.HasPrefix(b.s, a.s) {
		if len(a.s) >= 4 {
			return simPrefix, "truncated in MRZ"
		}
		return simShortPref, "truncated in MRZ (short)"
	}
	if len(a.strip) != la || len(b.strip) != lb {
		if a.strip == b.strip {
			return simParticle, "attached particle"
		}
		if a.stripPh == b.stripPh && consonants(a.stripPh) >= 2 && min(len(a.strip), len(b.strip)) >= 4 {
			// AL-AZZAWI and ALAZAWY: an attached article, then two
			// spellings of one name.
			return simPhonetic, "attached particle, phonetic key " + a.stripPh
		}
	}
	if a.particle != b.particle {
		// A particle (AL, BIN, VAN) agrees with a name only exactly.
		return 0, ""
	}
	if a.cls != "" && b.cls != "" {
		// Both are known names of different classes (HASSAN and HUSSEIN,
		// MOHAMMED and MAHMOUD): however alike they sound, they are two
		// names.
		return 0, ""
	}
	best, why := 0.0, ""
	poor := a.poor || b.poor
	if a.ph == b.ph && len(a.ph) >= 2 && (la-lb <= 2 && lb-la <= 2 || poor) &&
		(consonants(a.ph) >= 3 || poor || sameInitial(a.s[0], b.s[0]) && (EditDistance(a.s, b.s) <= 1 || la == lb && EditDistance(a.s, b.s) <= 2)) {
		// A key of two consonants or fewer (HASAN, YASSIN and HUSSEIN all
		// give ASAN; AMID and AHMAD give AMT) says little: it needs the
		// same first letter and one edit as well, or two between names of
		// one length (AIOUB and AYYUB: the vowels of two romanisations).
		// Phonetic keys drop vowels and doubled letters: ABDUL and
		// ABDULLAH share one, but a name three letters longer is another
		// name unless one side is an unvocalised spelling.
		best, why = simPhonetic, "phonetic key "+a.ph
	}
	if simSkeleton > best && min(la, lb) >= 3 {
		// Romanisations of unvocalised Arabic: the same consonants, with
		// vowels and semivowels written differently. Two consonants are
		// enough only when one side is unvocalised (HSN, HASSAN).
		if sa := a.skel; sa == b.skel && (la-lb <= 2 && lb-la <= 2 || poor) &&
			(len(sa) >= 3 || len(sa) == 2 && (poor || min(la, lb) >= 5 && sameInitial(a.s[0], b.s[0]))) {
			best, why = simSkeleton, "consonant skeleton "+sa
		}
	}
	if min(la, lb) <= 3 {
		// Short tokens are one or two edits from hundreds of others: only
		// a phonetic agreement or one OCR-confusable letter (JIN read as
		// JLN, MAO as NAO) counts.
		if la == lb && simOCR > best && ocrOneApart(a.s, b.s) {
			best, why = simOCR, whyOCR
		}
		return best, why
	}
	shared := common(a, b)
	if la-lb <= 2 && lb-la <= 2 && max(la, lb)-shared <= 2 {
		ed := EditDistance(a.s, b.s)
		switch {
		case ed == 1 && simOneEdit > best:
			best, why = simOneEdit, "one letter differs"
		case ed == 2 && min(la, lb) >= 7 && simTwoEdits > best:
			best, why = simTwoEdits, "two letters differ"
		}
	}
	// Jaro-Winkler ≥ 0.88 needs Jaro ≥ 0.8, so m/la + m/lb ≥ 1.4 with m
	// at most the shared letters. It counts only between tokens of nearly
	// the same length (MOHAMMADREZA is not MOHAMMED) and first letter
	// (AMIR is not SAMIRA): other typos are edit-distance cases.
	if 5*min(la, lb) >= 4*max(la, lb) && sameInitial(a.s[0], b.s[0]) && float64(shared)/float64(la)+float64(shared)/float64(lb) >= 1.4 {
		if jw := JaroWinkler(a.s, b.s); jw >= 0.88 {
			// Map 0.88..1 onto 0.75..0.9: Jaro-Winkler alone is generous.
			if s := 0.75 + (jw-0.88)/0.12*0.15; s > best {
				best, why = s, "Jaro-Winkler "+f2(jw)
			}
		}
	}
	return best, why
}

// stripParticle removes an attached Arabic article ("ALRASHID" →
// "RASHID") from tokens long enough to carry one.
func stripParticle(t string) string {
	if len(t) >= 6 && (strings.HasPrefix(t, "AL") || strings.HasPrefix(t, "EL") || strings.HasPrefix(t, "UL")) {
		return t[2:]
	}
	return t
}

// weight is a token's information weight: log10(1/frequency)/5 clamped to
// [0.15, 1], so a token one person in 100,000 bears counts fully and
// MOHAMMED (about 5%) counts 0.26. Short tokens are capped at 0.5 and
// initials at 0.1, particles count 0.05.
func weight(t string, cfg *Config) float64 {
	if particles[t] {
		return 0.05
	}
	if len(t) == 1 {
		return 0.1
	}
	f := commonFreq[classKey(t)]
	if cfg.TokenFrequency != nil {
		f = max(f, cfg.TokenFrequency(t))
	}
	w := 1.0
	if f > 0 {
		w = min(max(math.Log10(1/f)/5, 0.15), 1)
	}
	if len(t) <= 3 {
		w = min(w, 0.5)
	}
	return w
}

// maxTokens caps the tokens of one name that are compared or indexed. An
// MRZ name field holds at most 39 letters (about 15 tokens) and listed names
// rarely have more than 8; the cap keeps the quadratic alignment bounded on
// hostile or broken input.
const maxTokens = 16

// capTokens drops generational suffixes and keeps at most maxTokens
// tokens, surname first.
func capTokens(sur, given []string) ([]string, []string) {
	sur, given = dropSuffixes(sur, given)
	if len(sur) > maxTokens {
		sur = sur[:maxTokens]
	}
	if len(sur)+len(given) > maxTokens {
		given = given[:maxTokens-len(sur)]
	}
	return sur, given
}

func makeToks(sur, given []string, cfg *Config) []tok {
	sur, given = capTokens(sur, given)
	out := make([]tok, 0, len(sur)+len(given))
	for _, s := range sur {
		out = append(out, newTok(s, true, cfg))
	}
	for _, s := range given {
		out = append(out, newTok(s, false, cfg))
	}
	return out
}

// mergeSplit joins adjacent tokens of a whose concatenation is a token of
// b ("ABDUL RAHMAN" against "ABDULRAHMAN"), so that both spellings align
// one to one. Only cheap agreements count here: equal, same class, same
// once a particle is stripped, or one edit apart.
func mergeSplit(a, b []tok, cfg *Config) []tok {
	for i := 0; i+1 < len(a); i++ {
		if len(a[i].s) < 2 || len(a[i+1].s) < 2 {
			continue // initials are never parts of a split token
		}
		n := len(a[i].s) + len(a[i+1].s)
		for _, t := range b {
			if d := len(t.s) - n; d < -1 || d > 1 || t.s == a[i].s || t.s == a[i+1].s {
				continue
			}
			if t.s[0] != a[i].s[0] && t.strip == t.s {
				// Every way two tokens join into t keeps its first letter,
				// except an attached particle.
				continue
			}
			joined := a[i].s + a[i+1].s
			if t.s == joined || (t.cls != "" && t.cls == classOf[joined]) ||
				stripParticle(t.s) == stripParticle(joined) || (n >= 5 && EditDistance(t.s, joined) <= 1) {
				m := newTok(joined, a[i].surname, cfg)
				out := append(append(append(make([]tok, 0, len(a)-1), a[:i]...), m), a[i+2:]...)
				return mergeSplit(out, b, cfg)
			}
		}
	}
	return a
}

// pair is one aligned query/record token pair.
type pair struct {
	i, j int
	sim  float64
	why  string
}

// nameResult is the comparison of the query name with one record name.
// The explanation is built only for the best name (details).
type nameResult struct {
	score    float64 // similarity, 0..1
	evidence float64 // information carried by the matched tokens
	swapped  bool
	// firstDiffers is set when both names have a first given name and
	// they differ; mononym when the listed name is one word and the
	// traveller's is more.
	firstDiffers bool
	mononym      bool
	recordTokens int // non-particle record tokens
	matched      int // matched non-particle tokens
	qTokens      int // non-particle query tokens
	q, r         []tok
	pairs        []pair // chosen pairs
	usedQ        []bool
	usedR        []bool
}

// compareNames aligns the tokens of the query with those of one record
// name, order-insensitively, greedily by similarity.
func compareNames(q0 []tok, truncated bool, r []tok, cfg *Config) nameResult {
	q := mergeSplit(q0, r, cfg)
	r = mergeSplit(r, q, cfg)
	res := nameResult{q: q, r: r}
	for _, t := range q {
		if !t.particle {
			res.qTokens++
		}
	}
	for _, t := range r {
		if !t.particle {
			res.recordTokens++
		}
	}
	if len(q) == 0 || len(r) == 0 {
		return res
	}
	var buf [64]pair
	cands := buf[:0]
	for i := range q {
		// Only the last query token can be cut short by MRZ truncation.
		prefixOK := truncated && i == len(q)-1
		for j := range r {
			if s, why := tokenSim(&q[i], &r[j], prefixOK); s >= simMatched {
				cands = append(cands, pair{i, j, s, why})
			}
		}
	}
	// Greedy assignment, best pairs first; on equal similarity prefer
	// pairs in the same role (surname with surname), then rarer tokens.
	for x := 1; x < len(cands); x++ {
		for y := x; y > 0 && better(cands[y], cands[y-1], q, r); y-- {
			cands[y], cands[y-1] = cands[y-1], cands[y]
		}
	}
	res.usedQ = make([]bool, len(q))
	res.usedR = make([]bool, len(r))
	var matched, denom float64
	surSur, surGiven := false, false
	weakOnly := 0 // matched pairs that cannot make a match on their own
	for _, p := range cands {
		if res.usedQ[p.i] || res.usedR[p.j] {
			continue
		}
		res.usedQ[p.i], res.usedR[p.j] = true, true
		res.pairs = append(res.pairs, p)
		a, b := &q[p.i], &r[p.j]
		pw := (a.w + b.w) / 2
		matched += p.sim * pw
		denom += pw
		res.evidence += p.sim * min(a.w, b.w)
		if !a.particle {
			res.matched++
			if p.why == whyInitial || (p.why == whyOCR && min(len(a.s), len(b.s)) <= 2) {
				weakOnly++
			}
		}
		if a.surname && b.surname {
			surSur = true
		} else if a.surname != b.surname && !a.particle {
			surGiven = true
		}
	}
	for i := range q {
		if !res.usedQ[i] {
			// A traveller's name the listed person does not have speaks
			// against identity however common it is: its cost has a floor.
			w := q[i].w
			if !q[i].particle && len(q[i].s) > 1 {
				w = max(w, unmatchedFloor)
			}
			denom += 0.6 * w
		}
	}
	for j := range r {
		if res.usedR[j] {
			continue
		}
		// Travellers often carry fewer given names than a watchlist
		// entry (lists write the whole nasab or patronymic, documents a
		// first name), and a truncated MRZ drops whole given names: a
		// missing listed given name costs less than a missing surname or a
		// traveller's name the list does not have.
		f := 0.6
		switch {
		case truncated && !r[j].surname:
			f = 0.1
		case !r[j].surname:
			f = 0.2
		}
		denom += f * r[j].w
	}
	if res.matched == 0 || denom == 0 || weakOnly == res.matched {
		// Initials and OCR-confused two-letter tokens support a match
		// that other tokens make; they never make one alone.
		res.score, res.evidence = 0, 0
		res.matched = 0
		return res
	}
	res.score = matched / denom
	if surGiven && !surSur {
		res.swapped = true
		res.score *= 0.97
	} else if qf, rf := firstGiven(q), firstGiven(r); qf >= 0 && rf >= 0 && !res.fullyMatched(qf, true) && !res.fullyMatched(rf, false) {
		// Both give a first name and they differ: brothers share a
		// surname and their father's names (QUSAY and ALI SADDAM HUSSEIN
		// AL-TIKRITI), one person's first name does not change. A first
		// name that only agrees with an initial does not count.
		res.firstDiffers = true
		res.score *= firstGivenFactor
	}
	if res.recordTokens == 1 && res.qTokens > 1 {
		// The list knows the person by one name only (a mononym, a
		// one-word alias): a traveller with more names is at most
		// partly this name.
		res.mononym = true
		res.score *= mononymFactor
	}
	return res
}

// fullyMatched reports whether token i (of the query, or of the record)
// is matched other than by an initial.
func (res *nameResult) fullyMatched(i int, query bool) bool {
	for _, p := range res.pairs {
		if (query && p.i == i) || (!query && p.j == i) {
			return p.why != whyInitial
		}
	}
	return false
}

// firstGiven is the index of the first given-name token that is a name
// (not a particle or an initial), or -1.
func firstGiven(ts []tok) int {
	for i := range ts {
		if !ts[i].surname {
			if ts[i].particle || len(ts[i].s) < 2 {
				return -1
			}
			return i
		}
	}
	return -1
}

// Cost floor of an unmatched traveller token, and the factors applied when
// the first given names differ and when the listed name is one word.
const (
	unmatchedFloor   = 0.5
	firstGivenFactor = 0.85
	mononymFactor    = 0.9
)

// details explains the alignment in the traveller's token order.
func (res *nameResult) details() []string {
	if res.matched == 0 {
		return []string{"no name token in common"}
	}
	byQ := make([]string, len(res.q))
	for _, p := range res.pairs {
		a, b := res.q[p.i], res.r[p.j]
		if p.why == "" {
			byQ[p.i] = role(a, b) + " " + a.s + " = " + b.s
		} else {
			byQ[p.i] = role(a, b) + " " + a.s + " ~ " + b.s + ": " + p.why
		}
	}
	var out, missQ, missR []string
	for i, dt := range byQ {
		if dt != "" {
			out = append(out, dt)
		} else if !res.q[i].particle {
			missQ = append(missQ, res.q[i].s)
		}
	}
	for j, used := range res.usedR {
		if !used && !res.r[j].particle {
			missR = append(missR, res.r[j].s)
		}
	}
	if res.swapped {
		out = append(out, "surname and given names swapped")
	}
	if res.firstDiffers {
		out = append(out, "first given names differ")
	}
	if res.mononym {
		out = append(out, "listed under one name only")
	}
	if len(missQ) > 0 {
		out = append(out, "not in listed name: "+strings.Join(missQ, " "))
	}
	if len(missR) > 0 {
		out = append(out, "not in traveller's name: "+strings.Join(missR, " "))
	}
	return out
}

func better(x, y pair, q, r []tok) bool {
	if x.sim != y.sim {
		return x.sim > y.sim
	}
	same1, same2 := q[x.i].surname == r[x.j].surname, q[y.i].surname == r[y.j].surname
	if same1 != same2 {
		return same1
	}
	return min(q[x.i].w, r[x.j].w) > min(q[y.i].w, r[y.j].w)
}

func role(a, b tok) string {
	switch {
	case a.surname && b.surname:
		return "surname"
	case !a.surname && !b.surname:
		return "given name"
	}
	return "name"
}

// f2 formats a score with two decimals.
func f2(x float64) string { return strconv.FormatFloat(x, 'f', 2, 64) }

// NameSimilarity compares two listed names (entity resolution across
// lists, not a traveller): the similarity and the evidence of the better
// direction, order-insensitive like a traveller's name.
func NameSimilarity(a, b FullName, cfg Config) (score, evidence float64) {
	cfg = cfg.withDefaults()
	for _, dir := range [2][2]FullName{{a, b}, {b, a}} {
		qs, qg := dir[0].tokens()
		rs, rg := dir[1].tokens()
		res := compareNames(makeToks(qs, qg, &cfg), false, makeToks(rs, rg, &cfg), &cfg)
		if res.score > score || (res.score == score && res.evidence > evidence) {
			score, evidence = res.score, res.evidence
		}
	}
	return score, evidence
}

// DatesAgree compares two listed dates of birth (entity resolution): the
// agreement code of the best pair (AgreeExact, AgreeYearMonth, AgreeYear,
// AgreeRange, …), and whether every pair conflicts.
func DatesAgree(a, b []BirthSpec) (best string, allConflict bool) {
	bestScore := -1.0
	known := false
	allConflict = true
	for _, x := range a {
		if !x.Date.Known() || !x.Known() {
			continue
		}
		for _, y := range b {
			if !y.Known() {
				continue
			}
			known = true
			r := compareSpec(x.Date, y)
			if !r.conflict {
				allConflict = false
			}
			if !r.conflict && r.score > bestScore {
				bestScore, best = r.score, r.agreement
			}
		}
	}
	// Two spans: they agree when they overlap.
	for _, x := range a {
		if x.Date.Known() || !x.Known() {
			continue
		}
		for _, y := range b {
			if !y.Known() {
				continue
			}
			known = true
			lo, hi := y.From, y.To
			if y.Date.Known() {
				lo, hi = y.Date.Year, y.Date.Year
			}
			if x.From <= hi && lo <= x.To {
				allConflict = false
				if bestScore < dobInSpan {
					bestScore, best = dobInSpan, AgreeRange
				}
			}
		}
	}
	if !known {
		return AgreeUnknown, false
	}
	return best, allConflict
}

// consonants counts the consonant codes of a phonetic key.
func consonants(ph string) int {
	n := 0
	for i := 0; i < len(ph); i++ {
		if ph[i] != 'A' {
			n++
		}
	}
	return n
}

// sameInitial reports whether two first letters agree, vowels all alike
// (EL and AL articles, ELIACHI and ALYASHI).
func sameInitial(a, b byte) bool {
	isV := func(c byte) bool { return c == 'A' || c == 'E' || c == 'I' || c == 'O' || c == 'U' || c == 'Y' }
	return a == b || isV(a) && isV(b)
}
