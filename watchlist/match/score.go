package match

import "strings"

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
}

// PersonRecord is a listed person.
type PersonRecord struct {
	// Names holds the primary name, aliases and their transliterations
	// (recommended and alternative ICAO forms); the best-matching one is
	// scored.
	Names       []FullName
	Birth       Date
	Nationality string
	Sex         string
}

// FieldScore explains one field's contribution.
type FieldScore struct {
	Field  string  // "name", "dob", "nationality", "sex"
	Score  float64 // agreement, 0..1
	Weight float64 // share of the overall score
	Detail string  // human-readable: what agreed and how
}

// Strengths of a PersonScore.
const (
	StrengthStrong   = "strong"   // a hit with a corroborated, near-certain match
	StrengthPossible = "possible" // a hit that needs the officer's judgement
	StrengthWeak     = "weak"     // not a hit, but similar enough to show on request
	StrengthNone     = "none"
)

// PersonScore is the explained result of ScorePerson.
type PersonScore struct {
	Score       float64 // 0..1
	Hit         bool
	Strength    string
	Fields      []FieldScore
	Explanation string   // one line: fields, then the hit decision's reason
	MatchedName FullName // the record name that scored best
}

// Config tunes person scoring. Start from DefaultConfig; zero numeric
// fields take the default value, so a zero Config is safe (never "every
// name is a hit").
type Config struct {
	// HitThreshold is the overall score a hit needs.
	HitThreshold float64
	// MinNameScore is the name similarity a hit needs.
	MinNameScore float64
	// MinEvidence is the information (sum of matched tokens' rarity
	// weights; a rare token counts 1) a name needs to be a hit without a
	// corroborating date of birth; MinEvidenceShort applies to names of
	// at most two tokens.
	MinEvidence      float64
	MinEvidenceShort float64
	// StrongThreshold is the score above which a corroborated hit is
	// "strong".
	StrongThreshold float64
	// TokenFrequency, when set, returns the fraction (0..1) of listed
	// persons whose names hold token (MRZ form); the store fills it from
	// its own counts. The larger of it and the embedded list is used.
	TokenFrequency func(token string) float64
}

// DefaultConfig returns the tuned defaults.
func DefaultConfig() Config {
	return Config{
		HitThreshold:     0.75,
		MinNameScore:     0.8,
		MinEvidence:      1.2,
		MinEvidenceShort: 1.5,
		StrongThreshold:  0.9,
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
	fill(&c.MinNameScore, d.MinNameScore)
	fill(&c.MinEvidence, d.MinEvidence)
	fill(&c.MinEvidenceShort, d.MinEvidenceShort)
	fill(&c.StrongThreshold, d.StrongThreshold)
	return c
}

// Field weights of the overall score.
const (
	weightName        = 0.6
	weightDOB         = 0.25
	weightNationality = 0.1
	weightSex         = 0.05
)

// ScorePerson scores the query against every name of the record and
// explains the best.
func ScorePerson(q PersonQuery, r PersonRecord, cfg Config) PersonScore {
	cfg = cfg.withDefaults()
	qs := NameTokens(q.Surname)
	var qg []string
	for _, g := range q.GivenNames {
		qg = append(qg, NameTokens(g)...)
	}
	qt := makeToks(qs, qg, &cfg)
	var best nameResult
	var bestName FullName
	found := false
	for _, n := range r.Names {
		rs, rg := n.tokens()
		res := compareNames(qt, q.NameTruncated, rs, rg, &cfg)
		if !found || res.score > best.score || (res.score == best.score && res.evidence > best.evidence) {
			best, bestName, found = res, n, true
		}
	}
	nameDetail := "no names to compare"
	if found {
		nameDetail = strings.Join(best.details(), "; ")
	}

	dob := compareDates(q.Birth, r.Birth)
	nat, natDetail := compareNationality(q.Nationality, r.Nationality)
	sex, sexConflict, sexDetail := compareSex(q.Sex, r.Sex)

	fields := []FieldScore{
		{Field: "name", Score: best.score, Weight: weightName, Detail: nameDetail},
		{Field: "dob", Score: dob.score, Weight: weightDOB, Detail: dob.detail},
		{Field: "nationality", Score: nat, Weight: weightNationality, Detail: natDetail},
		{Field: "sex", Score: sex, Weight: weightSex, Detail: sexDetail},
	}
	var score float64
	for _, f := range fields {
		score += f.Score * f.Weight
	}

	need := cfg.MinEvidence
	if best.qTokens <= 2 {
		need = cfg.MinEvidenceShort
	}
	corroborated := dob.known && !dob.conflict && dob.score >= dobCorroborates
	var reasons []string
	hit := true
	if best.score < cfg.MinNameScore {
		hit = false
		reasons = append(reasons, "name similarity "+f2(best.score)+" below "+f2(cfg.MinNameScore))
	}
	if best.evidence < need && !corroborated {
		// Common or short names match thousands of travellers: without a
		// corroborating date of birth they are not a hit, and their
		// score is scaled down by the missing information.
		hit = false
		score *= 0.5 + 0.5*best.evidence/need
		reasons = append(reasons, "name carries little information ("+f2(best.evidence)+" < "+f2(need)+") and DOB does not corroborate")
	}
	if dob.conflict {
		hit = false
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

	strength := StrengthNone
	switch {
	case hit && score >= cfg.StrongThreshold && corroborated:
		strength = StrengthStrong
	case hit:
		strength = StrengthPossible
	case score >= 0.6 && best.score >= 0.7:
		strength = StrengthWeak
	}
	var b strings.Builder
	b.Grow(256)
	for i, f := range fields {
		if i > 0 {
			b.WriteString(" | ")
		}
		b.WriteString(f.Field + " " + f2(f.Score) + " (weight " + f2(f.Weight) + "): " + f.Detail)
	}
	if hit {
		b.WriteString(" => " + strength + " hit, score " + f2(score))
	} else {
		b.WriteString(" => no hit, score " + f2(score) + ": " + strings.Join(reasons, "; "))
	}
	return PersonScore{
		Score:       score,
		Hit:         hit,
		Strength:    strength,
		Fields:      fields,
		Explanation: b.String(),
		MatchedName: bestName,
	}
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

func compareNationality(q, r string) (float64, string) {
	q, r = NormalizeNationality(q), NormalizeNationality(r)
	switch {
	case q == "" || r == "" || q == "XXX" || r == "XXX":
		return 0.5, "nationality unknown on one side"
	case q == r:
		return 1, "nationality " + q + " agrees"
	}
	// People change or hold several nationalities: a difference lowers
	// the score but does not veto.
	return 0, "nationality " + q + " vs " + r + " differs"
}

func compareSex(q, r string) (score float64, conflict bool, detail string) {
	q, r = strings.ToUpper(strings.TrimSpace(q)), strings.ToUpper(strings.TrimSpace(r))
	if q == "<" {
		q = ""
	}
	if r == "<" {
		r = ""
	}
	switch {
	case q == "" || r == "" || q == "X" || r == "X":
		return 0.5, false, "sex unknown or unspecified on one side"
	case q == r:
		return 1, false, "sex agrees"
	}
	return 0, true, "sex " + q + " vs " + r + " conflicts"
}
