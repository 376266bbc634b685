package watchlist

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/checkpoint-edge/checkpoint/mrz"
	"github.com/checkpoint-edge/checkpoint/watchlist/match"
)

// Query is one traveller to check: the parsed document and, when a face
// was captured, its embedding.
type Query struct {
	Document    *mrz.Document
	Face        []float32
	FaceModelID string
	// PersonLimit caps the person hits (0 = 10); FaceLimit the face
	// candidates (0 = the store's FacePolicy.Candidates).
	PersonLimit int
	FaceLimit   int
}

// Hit kinds.
const (
	HitDocument = "document"
	HitPerson   = "person"
	HitFace     = "face"
)

// Hit levels: how far a Hit goes. A LevelHit makes the lane's decision HIT;
// a LevelPossible is a candidate for the officer's judgement and makes the
// decision REFER ("possible match") unless something else is a HIT. Below
// the possible band nothing is reported.
const (
	LevelHit      = "hit"
	LevelPossible = "possible"
)

// PersonSummary is what the officer's screen shows of a listed person.
// It is personal data: never log it.
type PersonSummary struct {
	DisplayName string `json:"display_name"`
	// Surname and GivenNames are the listed main name as fields, for
	// screens that word their own explanations.
	Surname    string `json:"surname,omitempty"`
	GivenNames string `json:"given_names,omitempty"`
	// Birth lists every listed date of birth ("1959-01-22; 1949-01-01;
	// 1958 to 1963; circa 1971").
	Birth       string `json:"birth,omitempty"`
	Nationality string `json:"nationality,omitempty"`
	// Nationalities are all listed nationalities when there are several.
	Nationalities []string `json:"nationalities,omitempty"`
	Sex           string   `json:"sex,omitempty"`
	Aliases       int      `json:"aliases,omitempty"`
	// MatchedName is the listed name or alias the traveller's name matched
	// (as listed, any script) and MatchedAs its kind: primary name, alias,
	// weak alias or original script.
	MatchedName string `json:"matched_name,omitempty"`
	MatchedAs   string `json:"matched_as,omitempty"`
	// BirthPlaces and Lists (programme, list, reference, last updated)
	// tell the officer where the listing comes from.
	BirthPlaces []string        `json:"birth_places,omitempty"`
	Lists       []ListReference `json:"lists,omitempty"`
	HasPhoto    bool            `json:"has_photo,omitempty"`
	// Photo is the listed reference photo for the officer's screen; it is
	// never serialised with the summary.
	Photo []byte `json:"-"`
}

// Hit is one match of a Check, explained.
type Hit struct {
	Kind     string  `json:"kind"`   // document, person, face
	RefID    string  `json:"ref_id"` // the alert's id in the watchlist
	Source   string  `json:"source,omitempty"`
	Category string  `json:"category,omitempty"` // person category
	Status   string  `json:"status,omitempty"`   // document status
	Action   string  `json:"action"`
	Score    float64 `json:"score"`              // 0..1
	Distance float32 `json:"distance,omitempty"` // faces
	Strength string  `json:"strength"`
	// Level is LevelHit or LevelPossible; empty means LevelHit (results
	// written before levels existed).
	Level string `json:"level,omitempty"`
	// Explanation is one line for the officer; Fields break a person score
	// down field by field.
	Explanation string             `json:"explanation"`
	Fields      []match.FieldScore `json:"fields,omitempty"`
	// Variant is the document number that matched when an OCR confusion
	// was undone.
	Variant string         `json:"variant,omitempty"`
	Person  *PersonSummary `json:"person,omitempty"`
}

// LogValue keeps personal data out of logs even when a Hit is logged
// whole: only kind, action, strength and score.
func (h Hit) LogValue() slog.Value {
	return slog.GroupValue(slog.String("kind", h.Kind), slog.String("action", h.Action),
		slog.String("strength", h.Strength), slog.String("level", h.LevelOrHit()), slog.Float64("score", h.Score))
}

// LevelOrHit is the hit's level, LevelHit when unset.
func (h Hit) LevelOrHit() string {
	if h.Level == "" {
		return LevelHit
	}
	return h.Level
}

// MetaSummary is the watchlist version a Result was computed against.
type MetaSummary struct {
	WatchlistID string `json:"watchlist_id"`
	Sequence    uint64 `json:"sequence"`
	StateHash   string `json:"state_hash"`
	IssuedAt    string `json:"issued_at,omitempty"`
}

// Result is the outcome of a Check.
type Result struct {
	Hits []Hit       `json:"hits"`
	Meta MetaSummary `json:"meta"`
	// Errors are records that failed authentication (IntegrityError) or a
	// part of the check that could not run; the hits of the other parts
	// stand.
	Errors []error `json:"-"`
	// Face describes the face search, when one ran, without naming anybody.
	Face *FaceSearch `json:"face_search,omitempty"`
}

// ErrorStrings renders Errors for JSON output.
func (r *Result) ErrorStrings() []string {
	out := make([]string, len(r.Errors))
	for i, e := range r.Errors {
		out[i] = e.Error()
	}
	return out
}

// Check runs the document, person and face checks of one traveller
// against one pinned watchlist version and returns every hit, strongest
// first. Integrity failures are listed in Result.Errors; the rest of the
// store still answers.
func (s *Store) Check(ctx context.Context, q Query) (*Result, error) {
	if q.Document == nil && len(q.Face) == 0 {
		return nil, fmt.Errorf("%w: nothing to check", ErrBadQuery)
	}
	sn, tx, err := s.acquire()
	if err != nil {
		return nil, err
	}
	defer s.done(sn, tx)
	res := &Result{Meta: MetaSummary{WatchlistID: sn.meta.WatchlistID, Sequence: sn.meta.Sequence, StateHash: sn.meta.StateHash}}
	if !sn.meta.IssuedAt.IsZero() {
		res.Meta.IssuedAt = sn.meta.IssuedAt.UTC().Format("2006-01-02T15:04:05Z")
	}
	keepErr := func(err error) {
		if err == nil {
			return
		}
		if _, ok := err.(*IntegrityError); ok {
			res.Errors = append(res.Errors, err)
			return
		}
		if u, ok := err.(interface{ Unwrap() []error }); ok {
			res.Errors = append(res.Errors, u.Unwrap()...)
			return
		}
		res.Errors = append(res.Errors, err)
	}

	if d := q.Document; d != nil {
		hits, errs := s.screen(ctx, tx, sn, screenQuery(documentQuery(d)), max(q.PersonLimit, 10))
		for _, e := range errs {
			keepErr(e)
		}
		res.Hits = append(res.Hits, hits...)
		if err := checkCtx(ctx); err != nil {
			return nil, err
		}
	}
	if len(q.Face) > 0 {
		if err := checkCtx(ctx); err != nil {
			return nil, err
		}
		hits, stats, err := s.searchFace(sn, tx, q.Face, q.FaceModelID, q.FaceLimit)
		keepErr(err)
		if err == nil || len(hits) > 0 {
			res.Face = &stats
		}
		for _, h := range hits {
			res.Hits = append(res.Hits, faceHit(h))
		}
	}
	slices.SortStableFunc(res.Hits, byScore)
	return res, nil
}

// byScore orders hits strongest first.
func byScore(a, b Hit) int {
	switch {
	case a.Score > b.Score:
		return -1
	case a.Score < b.Score:
		return 1
	}
	return 0
}

func documentHit(h DocumentHit) Hit {
	a := h.Alert
	expl := fmt.Sprintf("document %s of %s listed as %s by %s", strings.ToLower(docTypeName(a.DocumentType)), a.IssuingState, a.Status, a.Source)
	score, strength := 1.0, "strong"
	if len(h.Changes) > 0 {
		expl += " (matched after undoing OCR confusion " + strings.Join(h.Changes, ", ") + ")"
		score, strength = 0.9, "possible"
	}
	hit := Hit{Kind: HitDocument, RefID: a.ID, Source: a.Source, Status: a.Status, Action: a.Action,
		Score: score, Strength: strength, Explanation: expl}
	if len(h.Changes) > 0 {
		hit.Variant = h.Variant
	}
	return hit
}

func docTypeName(t string) string {
	switch NormalizeDocType(t) {
	case "P":
		return "passport"
	case "I", "A", "C":
		return "identity card"
	case "V":
		return "visa"
	}
	return "document"
}

func summary(p *PersonAlert) *PersonSummary {
	name := p.Name.Surname
	if p.Name.GivenNames != "" {
		name += ", " + p.Name.GivenNames
	}
	sum := &PersonSummary{DisplayName: name, Surname: p.Name.Surname, GivenNames: p.Name.GivenNames, Birth: birthDisplay(p), Nationality: p.Nationality, Sex: p.Sex,
		Aliases: len(p.Aliases), HasPhoto: len(p.Photo) > 0, Photo: p.Photo, Lists: p.Lists}
	if all := p.AllNationalities(); len(all) > 1 {
		sum.Nationalities = all
	}
	for _, pl := range p.BirthPlaces {
		if t := pl.display(); t != "" {
			sum.BirthPlaces = append(sum.BirthPlaces, t)
		}
	}
	return sum
}

func personHit(h PersonHit) Hit {
	sum := summary(&h.Alert)
	if len(h.Score.Fields) > 0 && h.Score.Fields[0].Field == "name" {
		sum.MatchedName, sum.MatchedAs = h.Score.Fields[0].Listed, h.Score.Fields[0].Agreement
	}
	return Hit{Kind: HitPerson, RefID: h.Alert.ID, Source: h.Alert.Source, Category: h.Alert.Category,
		Action: h.Alert.Action, Score: h.Score.Score, Strength: h.Score.Strength, Level: h.Score.Level,
		Explanation: h.Score.Explanation, Fields: h.Score.Fields, Person: sum}
}

func faceHit(h FaceHit) Hit {
	band := "possible match: an officer must compare the faces"
	if h.Level == LevelHit {
		band = "strong match"
	}
	return Hit{Kind: HitFace, RefID: h.Alert.ID, Source: h.Alert.Source, Category: h.Alert.Category,
		Action: h.Alert.Action, Score: h.Score, Distance: h.Distance, Strength: h.Strength, Level: h.Level,
		Explanation: fmt.Sprintf("face at distance %.3f, %s (strong within %.3f, possible within %.3f, %d templates searched)",
			h.Distance, band, h.Bands.Hit, h.Bands.Possible, h.Gallery),
		Person: summary(&h.Alert)}
}

// DocumentHitOf presents a document lookup result as a Hit.
func DocumentHitOf(h DocumentHit) Hit { return documentHit(h) }

// PersonHitOf presents a person search result as a Hit.
func PersonHitOf(h PersonHit) Hit { return personHit(h) }

// FaceHitOf presents a face search result as a Hit.
func FaceHitOf(h FaceHit) Hit { return faceHit(h) }
