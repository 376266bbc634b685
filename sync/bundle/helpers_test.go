package bundle

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/sync/trust"
	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// t0 is the tests' "now": bundles are issued at t0 and expire 48 h later.
var t0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// env is a headquarters and a unit: a signing key listed in a root of
// trust, and the unit's age identity.
type env struct {
	key      ed25519.PrivateKey
	root     *trust.Root
	rootKeys []ed25519.PrivateKey
	id       *age.X25519Identity
	dir      string
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{dir: t.TempDir()}
	var pubs []ed25519.PublicKey
	for range 3 {
		k, _ := trust.GenerateKey()
		e.rootKeys = append(e.rootKeys, k)
		pubs = append(pubs, k.Public().(ed25519.PublicKey))
	}
	r, err := trust.New(pubs, 2, t0.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	e.key, _ = trust.GenerateKey()
	if err := r.AddSigner("hq-2026", e.key.Public().(ed25519.PublicKey), t0.AddDate(0, -1, 0), t0.AddDate(1, 0, 0)); err != nil {
		t.Fatal(err)
	}
	file, err := trust.Sign(r, e.rootKeys[0], e.rootKeys[2])
	if err != nil {
		t.Fatal(err)
	}
	if e.root, err = trust.Parse(file); err != nil {
		t.Fatal(err)
	}
	if e.id, err = age.GenerateX25519Identity(); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) opts() Options {
	return Options{Trust: e.root, Identities: []age.Identity{e.id}, Now: func() time.Time { return t0 }}
}

func (e *env) buildOpts(seq, base uint64) BuildOptions {
	return BuildOptions{
		WatchlistID: "national", Sequence: seq, BaseSequence: base,
		IssuedAt: t0.Add(-time.Minute), ExpiresAt: t0.Add(48 * time.Hour), Authority: "HQ",
		FaceModelID: "dlib-resnet-v1", Key: e.key, Recipients: []age.Recipient{e.id.Recipient()},
		TempDir: e.dir,
	}
}

// build writes a bundle file and returns its path.
func (e *env) build(t testing.TB, o BuildOptions, changes []watchlist.Change) string {
	t.Helper()
	path := filepath.Join(e.dir, fmt.Sprintf("b-%d-%d-%d.cpwl", o.BaseSequence, o.Sequence, rand.Int()))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := Build(context.Background(), f, &watchlist.SliceSource{Changes: changes}, o); err != nil {
		t.Fatal(err)
	}
	return path
}

// delta builds a delta bundle from prev to next.
func (e *env) delta(t testing.TB, o BuildOptions, prev, next []watchlist.Change) string {
	t.Helper()
	src, st, err := Diff(&watchlist.SliceSource{Changes: prev}, func() (watchlist.ChangeSource, error) {
		return &watchlist.SliceSource{Changes: next}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	o.State = st
	path := filepath.Join(e.dir, fmt.Sprintf("d-%d-%d-%d.cpwl", o.BaseSequence, o.Sequence, rand.Int()))
	var buf bytes.Buffer
	if _, err := Build(context.Background(), &buf, src, o); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// openStore opens a real encrypted watchlist store in dir.
func openStore(t testing.TB, dir string) *watchlist.Store {
	t.Helper()
	kek := filepath.Join(dir, "kek")
	if _, err := os.Stat(kek); err != nil {
		if err := seal.GenerateKeyFile(kek); err != nil {
			t.Fatal(err)
		}
	}
	s, err := watchlist.Open(filepath.Join(dir, "watchlist.db"), seal.FileKey{Path: kek}, watchlist.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// records returns n synthetic puts: mostly documents, every tenth a person
// with a face template. seed varies the content.
func records(n int, seed uint64) []watchlist.Change {
	g := &genSource{n: n, r: rand.New(rand.NewPCG(seed, 7))}
	out := make([]watchlist.Change, 0, n)
	for c, err := g.Next(); err == nil; c, err = g.Next() {
		out = append(out, c)
	}
	return out
}

// genSource generates the records of records() one at a time, so that
// benchmarks can stream a million of them.
type genSource struct {
	n, i int
	r    *rand.Rand
}

func (g *genSource) Next() (watchlist.Change, error) {
	if g.i >= g.n {
		return watchlist.Change{}, io.EOF
	}
	i, r := g.i, g.r
	g.i++
	if i%10 == 9 {
		id := fmt.Sprintf("P%07d", i)
		vec := make([]float32, 128)
		for j := range vec {
			vec[j] = r.Float32()*2 - 1
		}
		return watchlist.Change{Op: watchlist.OpPut, Kind: watchlist.KindPerson, ID: id, Person: &watchlist.PersonAlert{
			ID: id, Name: watchlist.Name{Surname: fmt.Sprintf("SURNAME%d", r.IntN(1e6)), GivenNames: "GIVEN", MRZ: []string{fmt.Sprintf("SURNAME%d<<GIVEN", i)}},
			Birth: "1980-03-12", Nationality: "UTO", Sex: "M", Category: "wanted", Action: watchlist.ActionRefer, Source: "national",
			Faces: []watchlist.FaceTemplate{{ID: id + "-f1", ModelID: "dlib-resnet-v1", Vector: vec}},
		}}, nil
	}
	id := fmt.Sprintf("D%07d", i)
	return watchlist.Change{Op: watchlist.OpPut, Kind: watchlist.KindDocument, ID: id, Document: &watchlist.DocumentAlert{
		ID: id, IssuingState: "UTO", DocumentType: "P", Number: fmt.Sprintf("X%08d", r.IntN(1e8)),
		Status: "stolen", Source: "SLTD", Action: watchlist.ActionAlertOnly, ReportedAt: "2025-01-02",
	}}, nil
}

// mutate returns next: prev with some records changed, some removed and
// some added.
func mutate(prev []watchlist.Change, seed uint64) []watchlist.Change {
	next := make([]watchlist.Change, 0, len(prev))
	for i, c := range prev {
		switch {
		case i%7 == 3:
			continue // removed
		case i%5 == 1 && c.Kind == watchlist.KindDocument:
			d := *c.Document
			d.Status = "revoked"
			c.Document = &d
		}
		next = append(next, c)
	}
	extra := records(len(prev)/10+1, seed)
	for _, c := range extra {
		c.ID = fmt.Sprintf("N%d-%s", seed, c.ID)
		if c.Document != nil {
			d := *c.Document
			d.ID = c.ID
			c.Document = &d
		} else {
			p := *c.Person
			p.ID = c.ID
			c.Person = &p
		}
		next = append(next, c)
	}
	return next
}

func stateOf(t testing.TB, cs []watchlist.Change) *State {
	t.Helper()
	var st State
	for i := range cs {
		if err := st.Add(&cs[i]); err != nil {
			t.Fatal(err)
		}
	}
	return &st
}
