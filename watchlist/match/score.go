package match

import (
	"strconv"
	"strings"
)

// PersonQuery is the traveller, as read from the MRZ.
type PersonQuery struct {
	Surname    string
	GivenNames []string
	// NameTruncated is set when the MRZ name field was filled to its end,
	// so the last token may be cut short and given names may be missing.
	NameTruncated bool
	Birth         Date
	Nationality   string // ICAO code; "D" is read as "DEU"
	Sex           string // M, F, X or "" (unknown)
	// Document is the traveller's document number (normalised: A–Z and
	// 0–9); a listed person's own document with this number corroborates.
	Document string
}

// PersonRecord is a listed person.
type PersonRecord struct {
	// Names holds the primary name, aliases and their transliterations
	// (recommended and alternative ICAO forms); the best-matching one is
	// scored.
	Names []FullName
	// Birth is a single listed date of birth (record format 1); Births
	// are further listed dates, ranges and approximate years. The
	// best-agreeing one counts.
	Birth  Date
	Births []BirthSpec
	// Nationality and Nationalities: any agreeing one counts.
	Nationality   string
	Nationalities []string
	Sex           string
	// Documents are the normalised numbers of the person's own listed
	// identity documents.
	Documents []string

	compiled [][]tok // Compile: the tokens of each name, with static weights
}

// Compile tokenises the record's names once, for a record scored against
// many travellers (the store keeps compiled candidates). A record token's
// weight is the embedded table's, or the traveller's when the traveller has
// the same token: the same as scoring the record uncompiled.
func Compile(r PersonRecord) PersonRecord {
	var cfg Config
	r.compiled = make([][]tok, len(r.Names))
	for i, n := range r.Names {
		sur, given := n.tokens()
		r.compiled[i] = makeToks(sur, given, &cfg)
	}
	return r
}

// patch gives the record tokens the traveller also has the traveller's
// weight (a copy; compiled tokens are shared).
func (sc *Scorer) patch(rt []tok) []tok {
	q := sc.cfg.cache.query
	n := 0
	for i := range rt {
		if qt, ok := q[rt[i].s]; ok && qt.w != rt[i].w {
			n++
		}
	}
	if n == 0 {
		return rt
	}
	out := make([]tok, len(rt))
	copy(out, rt)
	for i := range out {
		if qt, ok := q[out[i].s]; ok {
			out[i].w = qt.w
		}
	}
	return out
}

// births is every listed date of the record.
func (r *PersonRecord) births() []BirthSpec {
	if !r.Birth.Known() {
		return r.Births
	}
	out := make([]BirthSpec, 0, len(r.Births)+1)
	out = append(out, BirthSpec{Date: r.Birth})
	return append(out, r.Births...)
}

// FieldScore explains one field's contribution. Listed and Agreement say
// what the traveller's value was compared with and how it agreed, for the
// officer's screen (personal data).
type FieldScore struct {
	Field  string  // "name", "dob", "nationality", "sex", "document"
	Score  float64 // agreement, 0..1
	Weight float64 // share of the overall score
	Detail string  // human-readable: what agreed and how
	// Listed is the listed value compared: the name or alias that scored
	// best (as listed), the listed date of birth that agreed best, the
	// agreeing nationality, the listed document.
	Listed string `json:",omitempty"`
	// Agreement is a code: for the name, the kind of name that matched
	// (primary name, alias, weak alias, original script); for the date of
	// birth exact, year_month, year, in_range, approximate, one_digit,
	// day_month_swapped, transposed, unknown or conflict; for nationality
	// and sex agrees, differs, conflicts or unknown; for a document agrees.
	Agreement string `json:",omitempty"`
	// Evidence is the information (see Config) the field added to the
	// level decision.
	Evidence float64 `json:",omitempty"`
}

// Strengths of a PersonScore, one per level.
const (
	StrengthStrong   = "strong"   // HIT level: a corroborated, near-certain match
	StrengthPossible = "possible" // POSSIBLE level: the officer decides
	StrengthWeak     = "weak"     // below both levels, similar enough to show on request
	StrengthNone     = "none"
)

// Levels of a PersonScore (the same words as watchlist.LevelHit and
// LevelPossible).
const (
	LevelHit      = "hit"
	LevelPossible = "possible"
)

// PersonScore is the explained result of ScorePerson.
type PersonScore struct {
	Score float64 // 0..1
	// Hit is set at the HIT level; Level is LevelHit, LevelPossible or ""
	// (below both).
	Hit      bool
	Level    string
	Strength string
	// Evidence is the information behind the decision: matched name
	// tokens plus corroborating date of birth, nationality and document.
	Evidence    float64
	Fields      []FieldScore
	Explanation string   // one line: fields, then the level decision's reason
	MatchedName FullName // the record name that scored best
}

// Config tunes person scoring. Start from DefaultConfig; zero numeric
// fields take the default value, so a zero Config is safe (never "every
// name is a hit").
//
// A match has two measures. The score (0..1) weighs how well each field
// agrees. The evidence counts how unlikely the agreement is by chance, in
// units of five decimal orders of magnitude: a name token one person in
// 100,000 bears counts 1 (MOHAMMED, about 5%, counts 0.26), a full
// agreeing date of birth 0.86, a birth year 0.36, a listed document number
// 1. The evidence bars do not depend on the size of the list: a rare
// two-token name with an agreeing birth year is a HIT on a list of 700
// persons as on one of a million.
type Config struct {
	// HitThreshold is the score the HIT level needs.
	HitThreshold float64
	// PossibleThreshold is the score the POSSIBLE level needs.
	PossibleThreshold float64
	// MinNameScore is the name similarity the HIT level needs;
	// PossibleNameScore the one the POSSIBLE level needs.
	MinNameScore      float64
	PossibleNameScore float64
	// MinEvidence is the evidence the HIT level needs for names of three
	// tokens or more; MinEvidenceShort for names of at most two tokens.
	MinEvidence      float64
	MinEvidenceShort float64
	// PossibleEvidence is the evidence the POSSIBLE level needs.
	PossibleEvidence float64
	// StrongThreshold is kept for configurations written before levels:
	// it is no longer used.
	StrongThreshold float64
	// TokenFrequency, when set, returns the fraction (0..1) of people
	// whose names hold token (MRZ form); the store estimates it from its
	// own counts. The larger of it and the embedded list is used.
	TokenFrequency func(token string) float64

	cache *tokCache // a Scorer's per-query caches
}

// DefaultConfig returns the tuned defaults (measured on the evaluation set
// built from the real lists, see watchlist/lists).
func DefaultConfig() Config {
	return Config{
		HitThreshold:      0.75,
		PossibleThreshold: 0.62,
		MinNameScore:      0.8,
		PossibleNameScore: 0.75,
		MinEvidence:       1.4,
		MinEvidenceShort:  1.5,
		PossibleEvidence:  0.9,
		StrongThreshold:   0.9,
	}
}

// withDefaults fills zero (or negative) numeric fields from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	fill := func(v *float64, def float64) {
		if *v <= 0 {
			*v = def
		}
	}
	fill(&c.HitThreshold, d.HitThreshold)
	fill(&c.PossibleThreshold, d.PossibleThreshold)
	fill(&c.MinNameScore, d.MinNameScore)
	fill(&c.PossibleNameScore, d.PossibleNameScore)
	fill(&c.MinEvidence, d.MinEvidence)
	fill(&c.MinEvidenceShort, d.MinEvidenceShort)
	fill(&c.PossibleEvidence, d.PossibleEvidence)
	fill(&c.StrongThreshold, d.StrongThreshold)
	return c
}

// WithDefaults is c with zero fields filled from DefaultConfig: the
// configuration ScorePerson actually applies (for reports).
func (c Config) WithDefaults() Config { return c.withDefaults() }

// Field weights of the overall score.
const (
	weightName        = 0.6
	weightDOB         = 0.25
	weightNationality = 0.1
	weightSex         = 0.05
)

// Evidence of the other fields.
const (
	evidenceNationality = 0.1
	evidenceDocument    = 1.0
	evidenceSexConflict = -0.2
	// weakAliasFactor discounts the name evidence of a weak alias: a
	// nickname is shared by many and no document carries it.
	weakAliasFactor = 0.6
)

// ScorePerson scores the query against every name of the record and
// explains the best.
func ScorePerson(q PersonQuery, r PersonRecord, cfg Config) PersonScore {
	return NewScorer(q, cfg).Score(r)
}

// Scorer scores one traveller against many records (the candidates of a
// search), doing the per-token work (phonetic keys, weights,
// tokenisation) once per distinct token. A Scorer is not safe for
// concurrent use.
type Scorer struct {
	q     PersonQuery
	cfg   Config
	qt    []tok
	brief bool
}

// Brief makes the Scorer skip the explanation (and field details) of
// candidates below the weak band, which a search drops anyway.
func (sc *Scorer) Brief() *Scorer {
	sc.brief = true
	return sc
}

// NewScorer prepares the traveller q.
func NewScorer(q PersonQuery, cfg Config) *Scorer {
	cfg = cfg.withDefaults()
	cfg.cache = &tokCache{toks: make(map[string]tok, 64), names: make(map[string][]string, 64)}
	qs := NameTokens(q.Surname)
	var qg []string
	for _, g := range q.GivenNames {
		qg = append(qg, NameTokens(g)...)
	}
	qt := makeToks(qs, qg, &cfg)
	cfg.cache.query = make(map[string]tok, len(qt))
	for _, t := range qt {
		cfg.cache.query[t.s] = t
	}
	clear(cfg.cache.toks) // record tokens are made afresh, with record weights
	return &Scorer{q: q, cfg: cfg, qt: qt}
}

// Score scores the traveller against every name of the record and
// explains the best.
func (sc *Scorer) Score(r PersonRecord) PersonScore {
	q, cfg := sc.q, &sc.cfg
	var best nameResult
	var bestName FullName
	bestEv := 0.0
	found := false
	for i, n := range r.Names {
		var rt []tok
		if r.compiled != nil && i < len(r.compiled) {
			rt = sc.patch(r.compiled[i])
		} else {
			rs, rg := n.cachedTokens(cfg.cache)
			rt = makeToks(rs, rg, cfg)
		}
		res := compareNames(sc.qt, q.NameTruncated, rt, cfg)
		ev := res.evidence
		if n.Weak {
			ev *= weakAliasFactor
		}
		// Prefer the better score; on a tie the stronger evidence, so a
		// strong name beats a weak alias spelled the same.
		if !found || res.score > best.score || (res.score == best.score && ev > bestEv) {
			best, bestName, bestEv, found = res, n, ev, true
		}
	}
	dob := compareBirths(q.Birth, r.births())
	nat, natListed, natCode, natDetail := compareNationalities(q.Nationality, r.Nationality, r.Nationalities)
	sex, sexConflict, sexCode, sexDetail := compareSex(q.Sex, r.Sex)

	nameField := FieldScore{Field: "name", Score: best.score, Weight: weightName, Evidence: round2(bestEv)}
	if found {
		nameField.Listed, nameField.Agreement = bestName.listed(), bestName.kind()
	}
	fields := []FieldScore{
		nameField,
		{Field: "dob", Score: dob.score, Weight: weightDOB, Listed: dob.listed(), Agreement: dob.agreement, Evidence: round2(dob.evidence)},
		{Field: "nationality", Score: nat, Weight: weightNationality, Detail: natDetail, Listed: natListed, Agreement: natCode},
		{Field: "sex", Score: sex, Weight: weightSex, Detail: sexDetail, Agreement: sexCode},
	}
	var score float64
	for _, f := range fields {
		score += f.Score * f.Weight
	}
	evidence := bestEv + dob.evidence
	if nat == 1 {
		evidence += evidenceNationality
		fields[2].Evidence = evidenceNationality
	}
	if sexConflict {
		evidence += evidenceSexConflict
		fields[3].Evidence = evidenceSexConflict
	}
	if doc, ok := compareDocuments(q.Document, r.Documents); ok {
		// The traveller carries a document the list names as this
		// person's own: strong corroboration, shown as its own field.
		evidence += evidenceDocument
		fields = append(fields, FieldScore{Field: "document", Score: 1, Detail: "document number " + doc + " is listed as this person's", Listed: doc, Agreement: "agrees", Evidence: evidenceDocument})
	}
	evidence = max(evidence, 0)

	need := cfg.MinEvidence
	if best.qTokens <= 2 {
		need = cfg.MinEvidenceShort
	}
	var reasons []string
	hit, possible := true, true
	if best.score < cfg.MinNameScore {
		hit = false
		reasons = append(reasons, "name similarity "+f2(best.score)+" below "+f2(cfg.MinNameScore))
	}
	if best.score < cfg.PossibleNameScore {
		possible = false
	}
	if evidence < need {
		// Common or short names match thousands of travellers: without
		// corroboration (a date of birth, a document) they are not a HIT,
		// and their score is scaled down by the missing information.
		hit = false
		score *= 0.5 + 0.5*evidence/need
		reasons = append(reasons, "name carries little information and nothing else corroborates enough (evidence "+f2(evidence)+" < "+f2(need)+")")
	}
	if evidence < cfg.PossibleEvidence {
		possible = false
	}
	if bestName.Weak && !(dob.known && !dob.conflict && dob.score >= dobCorroborates) {
		// A nickname matched: never a HIT without a corroborating date,
		// and not even a possible match without an agreeing one.
		hit = false
		if !dob.known || dob.conflict {
			possible = false
		}
		reasons = append(reasons, "matched a weak alias without a corroborating date of birth")
	}
	if dob.conflict {
		hit, possible = false, false
		score *= 0.5
		reasons = append(reasons, "DOB conflicts")
	}
	if sexConflict {
		score *= 0.85
	}
	if score < cfg.HitThreshold {
		if hit {
			reasons = append(reasons, "score "+f2(score)+" below "+f2(cfg.HitThreshold))
		}
		hit = false
	}
	if score < cfg.PossibleThreshold {
		possible = false
	}

	level, strength := "", StrengthNone
	switch {
	case hit:
		level, strength = LevelHit, StrengthStrong
	case possible:
		level, strength = LevelPossible, StrengthPossible
	case score >= 0.6 && best.score >= 0.7:
		strength = StrengthWeak
	}
	out := PersonScore{Score: score, Hit: hit, Level: level, Strength: strength, Evidence: evidence, Fields: fields, MatchedName: bestName}
	if sc.brief && strength == StrengthNone {
		// A search drops these candidates: no words for them.
		return out
	}
	fields[0].Detail = "no names to compare"
	if found {
		fields[0].Detail = strings.Join(best.details(), "; ")
		if bestName.Kind != "" || bestName.Weak {
			fields[0].Detail += " (" + bestName.kind() + ")"
		}
	}
	fields[1].Detail = dob.detail()
	var b strings.Builder
	b.Grow(256)
	for i, f := range fields {
		if i > 0 {
			b.WriteString(" | ")
		}
		if f.Field == "document" {
			b.WriteString(f.Field + ": " + f.Detail)
			continue
		}
		b.WriteString(f.Field + " " + f2(f.Score) + " (weight " + f2(f.Weight) + "): " + f.Detail)
	}
	switch level {
	case LevelHit:
		b.WriteString(" => strong hit, score " + f2(score) + ", evidence " + f2(evidence))
	case LevelPossible:
		b.WriteString(" => possible match for the officer, score " + f2(score) + ", evidence " + f2(evidence) + ": " + strings.Join(reasons, "; "))
	default:
		if len(reasons) == 0 {
			reasons = append(reasons, "score "+f2(score)+" below the possible-match band "+f2(cfg.PossibleThreshold))
		}
		b.WriteString(" => no hit, score " + f2(score) + ": " + strings.Join(reasons, "; "))
	}
	out.Explanation = b.String()
	return out
}

func round2(x float64) float64 {
	v, _ := strconv.ParseFloat(f2(x), 64)
	return v
}

// NormalizeNationality maps an MRZ nationality to its comparable form:
// upper case, fillers removed, Germany's "D" as "DEU".
func NormalizeNationality(s string) string {
	s = strings.Trim(strings.ToUpper(strings.TrimSpace(s)), "<")
	if s == "D" {
		return "DEU"
	}
	return s
}

// Agreement codes of nationality and sex.
const (
	AgreeAgrees    = "agrees"
	AgreeDiffers   = "differs"
	AgreeConflicts = "conflicts"
)

func compareNationalities(q, primary string, more []string) (score float64, listed, code, detail string) {
	q = NormalizeNationality(q)
	var known []string
	for _, r := range append([]string{primary}, more...) {
		if r = NormalizeNationality(r); r != "" && r != "XXX" {
			known = append(known, r)
		}
	}
	switch {
	case q == "" || q == "XXX" || len(known) == 0:
		return 0.5, strings.Join(known, " "), AgreeUnknown, "nationality unknown on one side"
	}
	for _, r := range known {
		if r == q {
			d := "nationality " + q + " agrees"
			if len(known) > 1 {
				d += " (one of " + strconv.Itoa(len(known)) + " listed)"
			}
			return 1, r, AgreeAgrees, d
		}
	}
	// People change or hold several nationalities: a difference lowers
	// the score but does not veto.
	return 0, strings.Join(known, " "), AgreeDiffers, "nationality " + q + " vs " + strings.Join(known, "/") + " differs"
}

func compareSex(q, r string) (score float64, conflict bool, code, detail string) {
	q, r = strings.ToUpper(strings.TrimSpace(q)), strings.ToUpper(strings.TrimSpace(r))
	if q == "<" {
		q = ""
	}
	if r == "<" {
		r = ""
	}
	switch {
	case q == "" || r == "" || q == "X" || r == "X":
		return 0.5, false, AgreeUnknown, "sex unknown or unspecified on one side"
	case q == r:
		return 1, false, AgreeAgrees, "sex agrees"
	}
	return 0, true, AgreeConflicts, "sex " + q + " vs " + r + " conflicts"
}

// compareDocuments reports whether the traveller's document number is one
// of the listed person's own documents.
func compareDocuments(q string, listed []string) (string, bool) {
	if len(q) < 5 {
		// Short numbers (and empty ones) are too easily shared.
		return "", false
	}
	for _, d := range listed {
		if d == q {
			return d, true
		}
	}
	return "", false
}
