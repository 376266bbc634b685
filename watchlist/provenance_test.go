package watchlist

import (
	"context"
	"errors"
	"math"
	"testing"
)

// TestProvenance: issue 17's third finding at the store. An unsigned
// import does not replace a signed watchlist unless told to; when it does,
// the signed version stays the mark that signed bundles are checked
// against (across a reopen); deltas do not apply to a local import; and no
// version can carry a sequence that nothing could follow.
func TestProvenance(t *testing.T) {
	ctx := context.Background()
	s := MustOpen(t)
	doc := func(id, num string) Change { return docPut(DocumentAlert{ID: id, IssuingState: "UTO", Number: num}) }
	local := func(seq uint64) Meta {
		m := testMeta(seq)
		m.WatchlistID, m.Authority = "plain-import", LegacyUnsignedAuthority
		return m
	}

	// On an empty store an unsigned import is allowed; it is marked, and a
	// signed version replaces it whatever the local sequence was.
	if err := s.ImportUnsigned(ctx, local(9000), &SliceSource{Changes: []Change{doc("L1", "L0000001")}}, false); err != nil {
		t.Fatal(err)
	}
	if m := s.Meta(); !m.Unsigned || !m.IsUnsigned() || s.SignedMeta().Sequence != 0 {
		t.Fatalf("local import on an empty store: %+v, signed %+v", m, s.SignedMeta())
	}
	mustReplace(t, s.Store, 17, doc("D1", "D0000001"), doc("D2", "D0000002"))
	signed := s.Meta()
	if signed.IsUnsigned() || s.SignedMeta() != signed {
		t.Fatalf("signed install: %+v", signed)
	}

	// Refused over the signed list, at any sequence; nothing changes.
	for _, seq := range []uint64{1, 18, 1 << 40} {
		err := s.ImportUnsigned(ctx, local(seq), &SliceSource{Changes: []Change{doc("X1", "X0000001")}}, false)
		if !errors.Is(err, ErrSignedInstalled) {
			t.Fatalf("unsigned import at %d over a signed list: %v", seq, err)
		}
	}
	// ReplaceAll with a meta marked unsigned is the same refusal.
	m := local(18)
	m.Unsigned = true
	if err := s.ReplaceAll(ctx, m, &SliceSource{Changes: []Change{doc("X1", "X0000001")}}); !errors.Is(err, ErrSignedInstalled) {
		t.Fatalf("ReplaceAll(unsigned) over a signed list: %v", err)
	}
	// Absurd sequences, everywhere they enter.
	for _, seq := range []uint64{0, MaxSequence + 1, math.MaxUint64} {
		if err := s.ReplaceAll(ctx, testMeta(seq), &SliceSource{}); !errors.Is(err, ErrBadSequence) {
			t.Fatalf("ReplaceAll at %d: %v", seq, err)
		}
		if err := s.ApplyDelta(ctx, testMeta(seq), 17, &SliceSource{}); !errors.Is(err, ErrBadSequence) {
			t.Fatalf("ApplyDelta to %d: %v", seq, err)
		}
		if err := s.ImportUnsigned(ctx, local(seq), &SliceSource{}, true); !errors.Is(err, ErrBadSequence) {
			t.Fatalf("ImportUnsigned at %d: %v", seq, err)
		}
	}
	if s.Meta() != signed {
		t.Fatalf("refusals changed the store: %+v", s.Meta())
	}

	// Told to: the local list replaces the signed one, and the signed
	// version is kept as the mark, across a reopen.
	if err := s.ImportUnsigned(ctx, local(MaxSequence), &SliceSource{Changes: []Change{doc("X1", "X0000001")}}, true); err != nil {
		t.Fatal(err)
	}
	s.Reopen(t, Options{})
	if m := s.Meta(); !m.IsUnsigned() || m.Documents != 1 || s.SignedMeta() != signed {
		t.Fatalf("after the replacement and a reopen: %+v, signed %+v", m, s.SignedMeta())
	}
	// A second local import keeps the mark.
	if err := s.ImportUnsigned(ctx, local(3), &SliceSource{Changes: []Change{doc("X2", "X0000002")}}, false); err != nil {
		t.Fatal(err)
	}
	if s.SignedMeta() != signed {
		t.Fatalf("mark after a second local import: %+v", s.SignedMeta())
	}
	// Signed versions are checked against the mark, not the local import.
	if err := s.ApplyDelta(ctx, testMeta(18), 17, &SliceSource{}); !errors.Is(err, ErrBaseMismatch) {
		t.Fatalf("delta over the local import: %v", err)
	}
	if err := s.ReplaceAll(ctx, testMeta(17), &SliceSource{Changes: []Change{doc("D1", "D0000001")}}); !errors.Is(err, ErrNotNewer) {
		t.Fatalf("replay of the signed version: %v", err)
	}
	mustReplace(t, s.Store, 18, doc("D1", "D0000001"))
	if m := s.Meta(); m.Sequence != 18 || m.IsUnsigned() || s.SignedMeta() != m {
		t.Fatalf("signed version after the local import: %+v", m)
	}
}
