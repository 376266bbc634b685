package watchlist

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/internal/seal"
)

// testKey writes a fresh 0600 key file and returns its provider.
func testKey(t testing.TB) seal.KeyProvider {
	t.Helper()
	p := filepath.Join(t.TempDir(), "watchlist.kek")
	if err := seal.GenerateKeyFile(p); err != nil {
		t.Fatal(err)
	}
	return seal.FileKey{Path: p}
}

// testStore is an open store on a temporary file.
type testStore struct {
	*Store
	Path string
	Key  seal.KeyProvider
}

// MustOpen opens a new store in t.TempDir and closes it at the end of the
// test.
func MustOpen(t testing.TB, opts ...Options) *testStore {
	t.Helper()
	path := filepath.Join(t.TempDir(), "watchlist.db")
	kp := testKey(t)
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	s, err := Open(path, kp, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &testStore{Store: s, Path: path, Key: kp}
}

// Reopen closes and reopens the store with the same key.
func (ts *testStore) Reopen(t testing.TB, o Options) {
	t.Helper()
	if err := ts.Store.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(ts.Path, ts.Key, o)
	if err != nil {
		t.Fatal(err)
	}
	ts.Store = s
	t.Cleanup(func() { s.Close() })
}

func docPut(d DocumentAlert) Change {
	return Change{Op: OpPut, Kind: KindDocument, ID: d.ID, Document: &d}
}

func personPut(p PersonAlert) Change {
	FillMRZ(&p)
	return Change{Op: OpPut, Kind: KindPerson, ID: p.ID, Person: &p}
}

func testMeta(seq uint64) Meta {
	return Meta{WatchlistID: "test", Sequence: seq, IssuedAt: time.Now().UTC().Add(-time.Hour), ExpiresAt: time.Now().UTC().Add(48 * time.Hour), FaceModelID: "dlib-resnet-v1"}
}

func mustReplace(t testing.TB, s *Store, seq uint64, changes ...Change) {
	t.Helper()
	if err := s.ReplaceAll(context.Background(), testMeta(seq), &SliceSource{Changes: changes}); err != nil {
		t.Fatal(err)
	}
}

// hashOf is the state hash of a set of puts, computed independently of the
// store.
func hashOf(t testing.TB, changes []Change) string {
	t.Helper()
	var h StateHash
	for _, c := range changes {
		var rec any = c.Document
		if c.Kind == KindPerson {
			rec = c.Person
		}
		d, err := RecordDigest(c.Kind, c.ID, rec)
		if err != nil {
			t.Fatal(err)
		}
		h.Add(d)
	}
	return h.String()
}

// randVec is a deterministic random unit vector (synth cannot be imported
// from the package's own tests: it imports watchlist).
func randVec(seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	v := make([]float32, FaceDim)
	var n float64
	for i := range v {
		x := r.NormFloat64()
		v[i], n = float32(x), n+x*x
	}
	for i := range v {
		v[i] = float32(float64(v[i]) / math.Sqrt(n))
	}
	return v
}
