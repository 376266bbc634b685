package watchlist

import (
	"bytes"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// DocumentHit is a document alert that matched a lookup.
type DocumentHit struct {
	Alert DocumentAlert `json:"alert"`
	// Variant is the number that matched; it differs from the queried
	// number when an OCR confusion was undone.
	Variant string `json:"variant"`
	// Changes lists the substitutions behind Variant ("3:O>0"), empty for
	// an exact match.
	Changes []string `json:"changes,omitempty"`
}

// LookupDocument finds alerts on a document by issuing state and number
// (the full number, including the long-number extension of TD1/TD2
// documents). The number as read is tried first, then spellings with OCR
// confusions (0/O, 1/I, 5/S, 8/B, 2/Z) undone. docType ("P", "PO", "ID", …),
// when given, must agree with the alert's type by family (first letter);
// alerts without a type match any. Records that fail authentication are
// skipped and returned as an error alongside the hits found.
func (s *Store) LookupDocument(issuingState, number, docType string) ([]DocumentHit, error) {
	state, num := NormalizeState(issuingState), NormalizeNumber(number)
	if state == "" || num == "" {
		return nil, fmt.Errorf("%w: document lookup needs issuing state and number", ErrBadQuery)
	}
	sn, tx, err := s.acquire()
	if err != nil {
		return nil, err
	}
	defer s.done(sn, tx)
	return s.lookupDocument(tx, sn, state, num, NormalizeDocType(docType))
}

func (s *Store) lookupDocument(tx *bolt.Tx, sn *snapshot, state, num, family string) ([]DocumentHit, error) {
	g := tx.Bucket(genName(sn.gen))
	if g == nil {
		return nil, nil
	}
	docs := g.Bucket(subDocs)
	var hits []DocumentHit
	var errs []error
	c := docs.Cursor()
	for _, v := range OCRVariants(num) {
		bk := s.blind.doc(state, v.Number)
		for k, val := c.Seek(bk[:]); k != nil && bytes.HasPrefix(k, bk[:]); k, val = c.Next() {
			a, err := s.openDocument(k, val)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			// A truncated HMAC cannot collide in practice, but the check is
			// free and keeps a wrong hit impossible.
			if NormalizeState(a.IssuingState) != state || NormalizeNumber(a.Number) != v.Number {
				continue
			}
			if family != "" && a.DocumentType != "" && NormalizeDocType(a.DocumentType) != family {
				continue
			}
			hits = append(hits, DocumentHit{Alert: a, Variant: v.Number, Changes: v.Changes})
		}
		if len(hits) > 0 && len(v.Changes) == 0 {
			// An exact hit settles it: variants would only add noise.
			break
		}
	}
	return hits, errors.Join(errs...)
}
