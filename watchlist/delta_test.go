package watchlist

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

func TestApplyDelta(t *testing.T) {
	s := MustOpen(t)
	base := fixtureChanges()
	mustReplace(t, s.Store, 10, base...)
	ctx := context.Background()

	face := randVec(42)
	newPerson := PersonAlert{ID: "NEW-1", Name: Name{Surname: "DOE", GivenNames: "JANE"}, Birth: "1970-01-02", Sex: "F", Category: "wanted", Action: ActionArrest, Source: "national",
		Faces: []FaceTemplate{{ID: "f1", ModelID: "dlib-resnet-v1", Vector: face}}}
	changed := fixtureDocs[1]
	changed.Number, changed.Status = "925076474", "stolen"
	delta := []Change{
		docPut(changed), // replaces SLTD-2 (new number)
		{Op: OpDelete, Kind: KindDocument, ID: "SLTD-4"},
		{Op: OpDelete, Kind: KindPerson, ID: "MIS-3"},
		personPut(newPerson),
	}
	// The expected final set, hashed independently.
	var final []Change
	for _, c := range base {
		switch c.ID {
		case "SLTD-2", "SLTD-4", "MIS-3":
			continue
		}
		final = append(final, c)
	}
	final = append(final, delta[0], delta[3])
	want := hashOf(t, final)

	withHash := func(seq uint64, h string) Meta { m := testMeta(seq); m.StateHash = h; return m }
	refusals := []struct {
		name string
		meta Meta
		base uint64
		cs   []Change
		err  error
	}{
		{"wrong base", withHash(11, want), 9, delta, ErrBaseMismatch},
		{"not newer", withHash(10, want), 10, delta, ErrNotNewer},
		{"state mismatch", withHash(11, hashOf(t, base)), 10, delta, ErrStateMismatch},
		{"delete unknown", withHash(11, ""), 10, []Change{{Op: OpDelete, Kind: KindDocument, ID: "NOPE"}}, ErrBadRecord},
		{"invalid change", withHash(11, ""), 10, []Change{{Op: OpPut, Kind: KindDocument, ID: "X"}}, ErrBadRecord},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.ApplyDelta(ctx, tc.meta, tc.base, &SliceSource{Changes: tc.cs}); !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if m := s.Meta(); m.Sequence != 10 || m.StateHash != hashOf(t, base) {
				t.Fatalf("installed version changed: %+v", m)
			}
			if hits, _ := s.LookupDocument("NLD", "SPECI2014", ""); len(hits) != 1 {
				t.Fatal("record of the old version lost")
			}
			if hits, _ := s.SearchFace(face, "dlib-resnet-v1", 1); len(hits) != 0 {
				t.Fatal("face of a refused delta visible")
			}
		})
	}

	if err := s.ApplyDelta(ctx, withHash(11, want), 10, &SliceSource{Changes: delta}); err != nil {
		t.Fatal(err)
	}
	m := s.Meta()
	if m.Sequence != 11 || m.StateHash != want || m.Documents != 4 || m.Persons != 4 || m.Faces != 1 {
		t.Fatalf("meta after delta = %+v", m)
	}
	if hits, _ := s.LookupDocument("GBR", "925076473", "P"); len(hits) != 0 {
		t.Fatal("old number of a replaced alert still found")
	}
	if hits, _ := s.LookupDocument("GBR", "925076474", "P"); len(hits) != 1 || hits[0].Alert.Status != "stolen" {
		t.Fatalf("replaced alert: %+v", hits)
	}
	if hits, _ := s.LookupDocument("NLD", "SPECI2014", ""); len(hits) != 0 {
		t.Fatal("deleted alert still found")
	}
	hits, err := s.SearchFace(face, "dlib-resnet-v1", 3)
	if err != nil || len(hits) != 1 || hits[0].Alert.ID != "NEW-1" || hits[0].Distance > 1e-3 {
		t.Fatalf("face of the new person: %+v %v", hits, err)
	}
	if _, err := s.SearchFace(face, "other-model", 3); !errors.Is(err, ErrModelMismatch) {
		t.Fatalf("other model: %v", err)
	}
	s.Reopen(t, Options{})
	rep, err := s.Verify(ctx)
	if err != nil || !rep.Consistent || rep.StateHash != want {
		t.Fatalf("verify after reopen = %+v, %v", rep, err)
	}
	if hits, _ := s.SearchFace(face, "dlib-resnet-v1", 3); len(hits) != 1 {
		t.Fatal("face index not rebuilt at open")
	}
	// Deleting the person drops its face from the in-memory index.
	m = testMeta(12)
	if err := s.ApplyDelta(ctx, m, 11, &SliceSource{Changes: []Change{{Op: OpDelete, Kind: KindPerson, ID: "NEW-1"}}}); err != nil {
		t.Fatal(err)
	}
	if hits, _ := s.SearchFace(face, "dlib-resnet-v1", 3); len(hits) != 0 {
		t.Fatal("deleted person's face still matches")
	}
}

// versionChanges is watchlist version v: every record's Source names the
// version, so a reader can tell a mixed view.
func versionChanges(v, n int) []Change {
	var cs []Change
	src := fmt.Sprintf("v%d", v)
	for i := range n {
		cs = append(cs, docPut(DocumentAlert{ID: fmt.Sprintf("D%d", i), IssuingState: "UTO", DocumentType: "P", Number: fmt.Sprintf("N%08d", i), Status: "stolen", Source: src, Action: ActionRefer}))
	}
	cs = append(cs, personPut(PersonAlert{ID: "FACE", Name: Name{Surname: "ROE", GivenNames: "RICHARD"}, Category: "wanted", Action: ActionArrest, Source: src,
		Faces: []FaceTemplate{{ID: "f", ModelID: "dlib-resnet-v1", Vector: randVec(uint64(v))}}}))
	return cs
}

func TestConcurrentChecksDuringSwaps(t *testing.T) {
	s := MustOpen(t, Options{NoSync: true})
	mustReplace(t, s.Store, 1, versionChanges(1, 200)...)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var checks, mixed atomic.Int64
	for w := range 6 {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				n := (i*7 + w) % 200
				seq := s.Meta().Sequence
				res, err := s.Check(ctx, Query{
					Document:    &MRZDocument{IssuingState: "UTO", DocumentNumber: fmt.Sprintf("N%08d", n), DocumentCode: "P"},
					Face:        randVec(seq), // the face of a version seen a moment ago
					FaceModelID: "dlib-resnet-v1",
				})
				if err != nil {
					if ctx.Err() != nil {
						return
					}
					t.Error(err)
					return
				}
				want := fmt.Sprintf("v%d", res.Meta.Sequence)
				docs := 0
				for _, h := range res.Hits {
					if h.Source != want {
						mixed.Add(1)
					}
					if h.Kind == HitDocument {
						docs++
					}
				}
				if docs != 1 {
					t.Errorf("version %d: %d document hits", res.Meta.Sequence, docs)
				}
				checks.Add(1)
			}
		})
	}
	for v := 2; v <= 8; v++ {
		var err error
		if v%2 == 0 {
			err = s.ReplaceAll(ctx, testMeta(uint64(v)), &SliceSource{Changes: versionChanges(v, 200)})
		} else {
			// A delta that rewrites every record (and the face).
			err = s.ApplyDelta(ctx, testMeta(uint64(v)), uint64(v-1), &SliceSource{Changes: versionChanges(v, 200)})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	wg.Wait()
	if mixed.Load() != 0 {
		t.Fatalf("%d hits from another version than the result's", mixed.Load())
	}
	if checks.Load() == 0 {
		t.Fatal("no check completed")
	}
	t.Logf("%d checks during 7 swaps", checks.Load())
}
