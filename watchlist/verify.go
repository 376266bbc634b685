package watchlist

import (
	"context"
)

// Report is the result of Verify: the recomputed state hash and aggregate
// counts. It holds no personal data (counts by source, status, category,
// action, issuing state and nationality only), so it may be exported.
type Report struct {
	Sequence      uint64   `json:"sequence"`
	StateHash     string   `json:"state_hash"`      // recomputed from the records
	MetaStateHash string   `json:"meta_state_hash"` // what the installed version announced
	Consistent    bool     `json:"consistent"`      // the two agree and nothing failed
	Documents     int64    `json:"documents"`
	Persons       int64    `json:"persons"`
	Faces         int64    `json:"faces"`
	IntegrityErrs int64    `json:"integrity_errors"`
	Errors        []string `json:"errors,omitempty"`

	DocumentsByState  map[string]int64 `json:"documents_by_issuing_state"`
	DocumentsByStatus map[string]int64 `json:"documents_by_status"`
	PersonsByCategory map[string]int64 `json:"persons_by_category"`
	PersonsByNation   map[string]int64 `json:"persons_by_nationality"`
	BySource          map[string]int64 `json:"by_source"`
	ByAction          map[string]int64 `json:"by_action"`
}

// Verify decrypts every record of the installed version, recomputes its
// state hash and counts the records by category. A record that fails
// authentication is counted in IntegrityErrs (and alarmed); the scan goes
// on.
func (s *Store) Verify(ctx context.Context) (*Report, error) {
	sn, tx, err := s.acquire()
	if err != nil {
		return nil, err
	}
	defer s.done(sn, tx)
	r := &Report{
		Sequence: sn.meta.Sequence, MetaStateHash: sn.meta.StateHash,
		DocumentsByState: map[string]int64{}, DocumentsByStatus: map[string]int64{},
		PersonsByCategory: map[string]int64{}, PersonsByNation: map[string]int64{},
		BySource: map[string]int64{}, ByAction: map[string]int64{},
	}
	var h StateHash
	fail := func(err error) {
		r.IntegrityErrs++
		if len(r.Errors) < 100 {
			r.Errors = append(r.Errors, err.Error())
		}
	}
	g := tx.Bucket(genName(sn.gen))
	if g != nil {
		n := 0
		err := g.Bucket(subDocs).ForEach(func(k, v []byte) error {
			if n++; n%65536 == 0 {
				if err := checkCtx(ctx); err != nil {
					return err
				}
			}
			a, err := s.openDocument(k, v)
			if err != nil {
				fail(err)
				return nil
			}
			d, err := RecordDigest(KindDocument, a.ID, &a)
			if err != nil {
				return err
			}
			h.Add(d)
			r.Documents++
			r.DocumentsByState[a.IssuingState]++
			r.DocumentsByStatus[a.Status]++
			r.BySource[a.Source]++
			r.ByAction[a.Action]++
			return nil
		})
		if err != nil {
			return nil, err
		}
		err = g.Bucket(subPersons).ForEach(func(k, v []byte) error {
			if err := checkCtx(ctx); err != nil {
				return err
			}
			var pk blindKey
			copy(pk[:], k)
			p, err := s.openPerson(g, pk, v, true)
			if err != nil {
				fail(err)
				return nil
			}
			d, err := RecordDigest(KindPerson, p.ID, p)
			if err != nil {
				return err
			}
			h.Add(d)
			r.Persons++
			r.Faces += int64(len(p.Faces))
			r.PersonsByCategory[p.Category]++
			r.PersonsByNation[p.Nationality]++
			r.BySource[p.Source]++
			r.ByAction[p.Action]++
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	r.StateHash = h.String()
	if sn.gen == 0 {
		r.StateHash = ""
	}
	r.Consistent = r.IntegrityErrs == 0 && r.StateHash == r.MetaStateHash
	return r, nil
}
