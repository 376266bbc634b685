package watchlist

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/checkpoint-edge/checkpoint/watchlist/match"
)

// PersonQuery is one traveller to screen without a scanned document: a
// passenger of an API/PNR message, a line of a batch search. The name is
// given either as Name, an MRZ name field ("SURNAME<<GIVEN<NAMES"), or as
// Surname and GivenNames (any script). Every other field is optional and
// only adds corroboration.
type PersonQuery struct {
	Name          string   `json:"name,omitempty"`
	Surname       string   `json:"surname,omitempty"`
	GivenNames    []string `json:"given_names,omitempty"`
	NameTruncated bool     `json:"name_truncated,omitempty"`
	// BirthDate is YYYY-MM-DD, YYYY-MM or YYYY (unknown parts may be
	// "00" or "XX").
	BirthDate   string `json:"birth_date,omitempty"`
	Nationality string `json:"nationality,omitempty"` // ICAO code
	Sex         string `json:"sex,omitempty"`         // M, F, X
	// DocumentNumber, DocumentIssuer (ICAO code) and DocumentType (P, I,
	// …) look the travel document up; a listed person's own document
	// with this number also corroborates the name match.
	DocumentNumber string `json:"document_number,omitempty"`
	DocumentIssuer string `json:"document_issuer,omitempty"`
	DocumentType   string `json:"document_type,omitempty"`
	// Limit caps the person hits (0 = 10).
	Limit int `json:"limit,omitempty"`
}

// internal is the query as the store searches it.
func (q *PersonQuery) internal() (docQuery, error) {
	var dq docQuery
	switch {
	case strings.Contains(q.Name, "<"):
		fn := match.ParseMRZName(q.Name)
		dq.person.Surname, dq.person.GivenNames = fn.Surname, fn.GivenNames
	case q.Name != "":
		sur, given, _ := strings.Cut(q.Name, ",")
		dq.person.Surname, dq.person.GivenNames = strings.TrimSpace(sur), strings.Fields(given)
	default:
		dq.person.Surname, dq.person.GivenNames = q.Surname, q.GivenNames
	}
	if q.BirthDate != "" {
		d, err := parseQueryDate(q.BirthDate)
		if err != nil {
			return dq, fmt.Errorf("%w: birth_date %q: want YYYY-MM-DD, YYYY-MM or YYYY", ErrBadQuery, q.BirthDate)
		}
		dq.person.Birth = d
	}
	dq.person.NameTruncated = q.NameTruncated
	dq.person.Nationality = NormalizeState(q.Nationality)
	dq.person.Sex = strings.ToUpper(strings.TrimSpace(q.Sex))
	dq.state, dq.number, dq.docType = NormalizeState(q.DocumentIssuer), NormalizeNumber(q.DocumentNumber), q.DocumentType
	dq.person.Document = dq.number
	if !hasName(dq.person) && (dq.state == "" || dq.number == "") {
		return dq, fmt.Errorf("%w: a traveller needs a name, or a document number and issuer", ErrBadQuery)
	}
	return dq, nil
}

// parseQueryDate reads a traveller's date of birth: the watchlist forms,
// and YYMMDD-free ISO forms with unknown parts as "00" or "XX".
func parseQueryDate(s string) (match.Date, error) {
	s = strings.TrimSpace(s)
	d, err := match.ParseDate(s)
	if err == nil {
		return d, nil
	}
	// "1980-00-12": a known day with an unknown month is a partial date
	// that ParseDate reads only as XX.
	return match.ParseDate(strings.ReplaceAll(s, "-00", "-XX"))
}

func hasName(q match.PersonQuery) bool {
	return len(match.NameTokens(q.Surname)) > 0 || len(q.GivenNames) > 0
}

// screenQuery keeps a Check's document query as it is.
func screenQuery(dq docQuery) docQuery {
	dq.person.Document = dq.number
	return dq
}

// ScreenPerson screens one traveller against the installed watchlist: the
// travel document (when number and issuer are given) and the person (name,
// dates of birth, nationality, sex, the listed person's own documents). It
// returns the hits at the HIT level (Level LevelHit) and the possible
// matches for an officer's judgement (LevelPossible), strongest first,
// each explained field by field; nothing below the possible band.
//
// This is the path of the API/PNR screening and of `checkpointctl
// watchlist search`: the same matcher and thresholds as the desk's Check.
// Records that fail authentication are skipped and returned as an error
// (errors.Is ErrIntegrity) alongside the hits found; a malformed query is
// ErrBadQuery. Hits hold personal data: never log them.
func (s *Store) ScreenPerson(ctx context.Context, q PersonQuery) ([]Hit, error) {
	var out []Hit
	err := s.ScreenPersons(ctx, []PersonQuery{q}, func(_ int, hits []Hit, err error) error {
		out = hits
		return err
	})
	return out, err
}

// ScreenPersons screens many travellers against one installed version
// (a flight's passengers, a batch file) and calls fn for each, in order,
// with its hits and its error (a bad query, integrity failures); fn's
// error stops the batch and is returned. All queries see the same
// watchlist version even when a sync installs a new one meanwhile.
func (s *Store) ScreenPersons(ctx context.Context, qs []PersonQuery, fn func(i int, hits []Hit, err error) error) error {
	sn, tx, err := s.acquire()
	if err != nil {
		return err
	}
	defer s.done(sn, tx)
	for i := range qs {
		if err := checkCtx(ctx); err != nil {
			return err
		}
		dq, err := qs[i].internal()
		if err != nil {
			if err := fn(i, nil, err); err != nil {
				return err
			}
			continue
		}
		hits, errs := s.screen(ctx, tx, sn, dq, qs[i].Limit)
		if err := fn(i, hits, errors.Join(errs...)); err != nil {
			return err
		}
	}
	return nil
}

// screen runs the document and person checks of one traveller inside a
// read transaction: document hits (with the listed person when the
// document is a listed person's own) and person hits at either level.
func (s *Store) screen(ctx context.Context, tx *bolt.Tx, sn *snapshot, dq docQuery, limit int) ([]Hit, []error) {
	if limit <= 0 {
		limit = 10
	}
	var hits []Hit
	var errs []error
	if dq.state != "" && dq.number != "" {
		dh, err := s.lookupDocument(tx, sn, dq.state, dq.number, NormalizeDocType(dq.docType))
		if err != nil {
			errs = append(errs, err)
		}
		for _, h := range dh {
			hit := documentHit(h)
			if h.Alert.PersonID != "" {
				p, err := s.personByID(tx, sn, h.Alert.PersonID)
				if err != nil {
					errs = append(errs, err)
				}
				if p != nil {
					hit.Person, hit.Category = summary(p), p.Category
					hit.Explanation = fmt.Sprintf("%s of %s is listed as the own document of listed person %s", docTypeName(h.Alert.DocumentType), h.Alert.IssuingState, p.ID)
					if len(h.Changes) > 0 {
						hit.Explanation += " (matched after undoing OCR confusion " + strings.Join(h.Changes, ", ") + ")"
					}
				}
			}
			hits = append(hits, hit)
		}
	}
	if checkCtx(ctx) != nil {
		return hits, append(errs, ctx.Err())
	}
	if hasName(dq.person) {
		ph, err := s.searchPerson(tx, sn, dq.person, limit)
		if err != nil {
			errs = append(errs, splitErrs(err)...)
		}
		for _, h := range ph {
			if h.Score.Level != "" {
				hits = append(hits, personHit(h))
			}
		}
	}
	slices.SortStableFunc(hits, func(a, b Hit) int {
		// HIT before POSSIBLE, then by score.
		if la, lb := a.LevelOrHit() == LevelHit, b.LevelOrHit() == LevelHit; la != lb {
			if la {
				return -1
			}
			return 1
		}
		return byScore(a, b)
	})
	return hits, errs
}

func splitErrs(err error) []error {
	if u, ok := err.(interface{ Unwrap() []error }); ok {
		return u.Unwrap()
	}
	return []error{err}
}

// personByID reads a listed person by id (nil when absent).
func (s *Store) personByID(tx *bolt.Tx, sn *snapshot, id string) (*PersonAlert, error) {
	g := tx.Bucket(genName(sn.gen))
	if g == nil {
		return nil, nil
	}
	persons := g.Bucket(subPersons)
	if persons == nil {
		return nil, nil
	}
	pk := s.blind.person(id)
	v := persons.Get(pk[:])
	if v == nil {
		return nil, nil
	}
	return s.openPerson(g, pk, v, false)
}

// MatchQuery is the query as match scores it (tests and tools).
func (q *PersonQuery) MatchQuery() (match.PersonQuery, error) {
	dq, err := q.internal()
	return dq.person, err
}
