package watchlist

import (
	"context"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Provenance: a watchlist installed from a signed bundle (sync/bundle) is
// the authority's; one imported from a plain file (checkpointctl watchlist
// import --unsigned) is local and says so (Meta.Unsigned). The rules, kept
// here so that every caller obeys them:
//
//   - an unsigned import never replaces an installed signed watchlist,
//     unless the caller explicitly asks to (ImportUnsigned with
//     replaceSigned, which checkpointctl only does with a reason, recorded
//     in the audit log);
//   - an unsigned import never moves the signed sequence: when one replaces
//     a signed watchlist, the store keeps that watchlist's meta as the
//     signed mark, and the next signed bundle is checked against the mark
//     (SignedMeta), not against the local import;
//   - a signed delta applies only on top of a signed watchlist;
//   - every sequence is in [1, MaxSequence], so no value can be chosen that
//     no later version could exceed.

// MaxSequence is the largest sequence a watchlist version may carry: 2^53-1,
// exact in JSON numbers and float metrics, and far beyond any real
// numbering (a version per second for 285 million years; date-stamped
// numbering such as 20261124093000 fits), yet far enough below 2^64-1 that
// no version can be installed that nothing could follow.
const MaxSequence = 1<<53 - 1

// LegacyUnsignedAuthority is the authority that plain imports were given
// before Meta.Unsigned existed; such versions are treated as unsigned.
const LegacyUnsignedAuthority = "local (unsigned)"

var keySignedMark = []byte("signed-mark")

// IsUnsigned reports whether the version came from an unsigned local import.
func (m Meta) IsUnsigned() bool { return m.Unsigned || m.Authority == LegacyUnsignedAuthority }

// CheckSequence returns ErrBadSequence unless 1 <= seq <= MaxSequence.
func CheckSequence(seq uint64) error {
	if seq == 0 || seq > MaxSequence {
		return fmt.Errorf("%w: %d (want 1 to %d)", ErrBadSequence, seq, uint64(MaxSequence))
	}
	return nil
}

// ImportUnsigned installs a plain (unsigned) source as a full replacement,
// marked Unsigned. Over an installed signed watchlist it returns
// ErrSignedInstalled unless replaceSigned is set; even then the signed
// sequence stays where it was (see SignedMeta).
func (s *Store) ImportUnsigned(ctx context.Context, meta Meta, src ChangeSource, replaceSigned bool) error {
	meta.Unsigned = true
	return s.replaceAll(ctx, meta, src, replaceSigned)
}

// SignedMeta is the version a signed bundle is checked against: the
// installed version when it is signed, else the last signed version an
// unsigned import replaced (the zero Meta when none ever was installed).
func (s *Store) SignedMeta() Meta {
	s.mu.RLock()
	cur := s.cur
	s.mu.RUnlock()
	return s.signedBase(cur)
}

func (s *Store) signedBase(cur *snapshot) Meta {
	if cur.gen != 0 && !cur.meta.IsUnsigned() {
		return cur.meta
	}
	var m Meta
	s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketStore).Get(keySignedMark)
		if v == nil {
			return nil
		}
		pt, err := s.sealer.Open(nil, v, keySignedMark)
		if err != nil {
			ie := &IntegrityError{Bucket: "store", Key: string(keySignedMark), Err: err}
			s.reportIntegrity(ie)
			// A mark that fails authentication must not let an old
			// bundle in: refuse everything until a technician looks.
			m = Meta{Sequence: MaxSequence, WatchlistID: "(signed mark failed authentication)"}
			return nil
		}
		return json.Unmarshal(pt, &m)
	})
	return m
}

// checkReplace applies the provenance rules to a full replacement of cur.
func (s *Store) checkReplace(cur *snapshot, meta Meta, replaceSigned bool) error {
	if err := CheckSequence(meta.Sequence); err != nil {
		return err
	}
	if meta.Unsigned {
		if cur.gen != 0 && !cur.meta.IsUnsigned() && !replaceSigned {
			return fmt.Errorf("%w: %q sequence %d", ErrSignedInstalled, cur.meta.WatchlistID, cur.meta.Sequence)
		}
		return nil
	}
	if base := s.signedBase(cur); meta.Sequence <= base.Sequence {
		return fmt.Errorf("%w: sequence %d, installed %d", ErrNotNewer, meta.Sequence, base.Sequence)
	}
	return nil
}

// checkDelta applies them to a delta on top of cur.
func checkDelta(cur *snapshot, meta Meta, baseSeq uint64) error {
	if err := CheckSequence(meta.Sequence); err != nil {
		return err
	}
	if meta.Unsigned {
		return fmt.Errorf("%w: deltas come from signed bundles only", ErrBadRecord)
	}
	if cur.gen != 0 && cur.meta.IsUnsigned() {
		return fmt.Errorf("%w: the installed watchlist is an unsigned local import: a signed delta cannot apply to it (install a full signed bundle)", ErrBaseMismatch)
	}
	return nil
}

// keepSignedMark records, in the flip transaction of an unsigned import
// that replaces a signed version, that version as the signed mark.
func (s *Store) keepSignedMark(tx *bolt.Tx, cur *snapshot, meta Meta) error {
	if !meta.Unsigned || cur.gen == 0 || cur.meta.IsUnsigned() {
		return nil
	}
	b, err := json.Marshal(cur.meta)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketStore).Put(keySignedMark, s.sealer.Seal(nil, b, keySignedMark))
}
