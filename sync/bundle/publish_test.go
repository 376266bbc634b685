package bundle

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// buildSigned builds a bundle and returns its path and signed header.
func (e *env) buildSigned(t *testing.T, o BuildOptions, src watchlist.ChangeSource) (string, *Signed) {
	t.Helper()
	var buf bytes.Buffer
	s, err := Build(context.Background(), &buf, src, o)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "bundle")
	os.WriteFile(p, buf.Bytes(), 0o600)
	return p, s
}

func TestPublishAndPlan(t *testing.T) {
	e := newEnv(t)
	pub := t.TempDir()
	v1 := records(300, 1)
	v2 := mutate(v1, 2)
	v3 := mutate(v2, 3)
	diff := func(prev, next []watchlist.Change) (watchlist.ChangeSource, *State) {
		src, st, err := Diff(&watchlist.SliceSource{Changes: prev}, func() (watchlist.ChangeSource, error) {
			return &watchlist.SliceSource{Changes: next}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return src, st
	}
	publish := func(path string, s *Signed) *IndexEntry {
		t.Helper()
		ent, err := Publish(pub, path, s, t0, 0)
		if err != nil {
			t.Fatal(err)
		}
		return ent
	}
	p1, s1 := e.buildSigned(t, e.buildOpts(1, 0), &watchlist.SliceSource{Changes: v1})
	publish(p1, s1)
	d12src, st2 := diff(v1, v2)
	o := e.buildOpts(2, 1)
	o.State = st2
	p12, s12 := e.buildSigned(t, o, d12src)
	publish(p12, s12)
	p2, s2 := e.buildSigned(t, e.buildOpts(2, 0), &watchlist.SliceSource{Changes: v2})
	publish(p2, s2)
	d23src, st3 := diff(v2, v3)
	o = e.buildOpts(3, 2)
	o.State = st3
	p23, s23 := e.buildSigned(t, o, d23src)
	publish(p23, s23)

	f, err := os.Open(filepath.Join(pub, "national", IndexFile))
	if err != nil {
		t.Fatal(err)
	}
	ix, err := ReadIndex(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if ix.Latest != 3 || len(ix.Bundles) != 4 {
		t.Fatalf("index: %+v", ix)
	}
	// Published files are byte-identical and verify.
	for _, b := range ix.Bundles {
		if _, err := Verify(context.Background(), filepath.Join(pub, "national", b.File), nil, e.opts()); err != nil {
			t.Errorf("%s: %v", b.File, err)
		}
	}

	seqs := func(es []IndexEntry) (out []uint64) {
		for _, e := range es {
			out = append(out, e.Base*100+e.Sequence)
		}
		return out
	}
	tests := []struct {
		installed uint64
		want      []uint64 // base*100+sequence
	}{
		{0, []uint64{2, 203}}, // full 2 then delta 2->3
		{1, []uint64{102, 203}},
		{2, []uint64{203}},
		{3, nil},
		{9, nil},
	}
	for _, tc := range tests {
		plan, err := ix.Plan(tc.installed)
		if err != nil {
			t.Fatalf("plan from %d: %v", tc.installed, err)
		}
		if got := seqs(plan); len(got) != len(tc.want) || (len(got) > 0 && got[len(got)-1] != tc.want[len(tc.want)-1]) {
			t.Errorf("plan from %d = %v, want %v", tc.installed, got, tc.want)
		}
	}

	// Install along the plan from nothing.
	store := openStore(t, t.TempDir())
	plan, _ := ix.Plan(0)
	for _, b := range plan {
		if _, err := Install(context.Background(), filepath.Join(pub, "national", b.File), store, e.opts()); err != nil {
			t.Fatal(err)
		}
	}
	if m := store.Meta(); m.Sequence != 3 || m.StateHash != stateOf(t, v3).Hash.String() {
		t.Fatalf("after plan: %+v", m)
	}

	// Pruning to the last full bundle drops full 1 and delta 1->2.
	if _, err := Publish(pub, p23, s23, t0, 1); err != nil {
		t.Fatal(err)
	}
	f, _ = os.Open(filepath.Join(pub, "national", IndexFile))
	ix, err = ReadIndex(f)
	f.Close()
	if err != nil || len(ix.Bundles) != 2 {
		t.Fatalf("after prune: %+v, %v", ix, err)
	}
	if _, err := os.Stat(filepath.Join(pub, "national", FileName(&Header{Sequence: 1}))); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pruned file still there: %v", err)
	}
	if _, err := ix.Plan(1); !errors.Is(err, nil) {
		// From 1 the only way is the full bundle 2, then delta 2->3.
		t.Errorf("plan from 1 after prune: %v", err)
	}
}

func TestSignedHeaderVerify(t *testing.T) {
	e := newEnv(t)
	_, s := e.buildSigned(t, e.buildOpts(1, 0), &watchlist.SliceSource{Changes: records(10, 1)})
	if _, err := s.Verify(e.root, t0); err != nil {
		t.Fatal(err)
	}
	s.Header = bytes.Replace(s.Header, []byte(`"sequence":1`), []byte(`"sequence":7`), 1)
	if _, err := s.Verify(e.root, t0); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("tampered detached header: %v", err)
	}
}
