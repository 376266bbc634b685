package channel

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/sync/bundle"
	"github.com/checkpoint-edge/checkpoint/sync/trust"
	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// t0 is the tests' "now".
var t0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// env is headquarters (a signing key in a root of trust) and a unit (its
// age identity).
type env struct {
	key  ed25519.PrivateKey
	root *trust.Root
	id   *age.X25519Identity
	dir  string
}

func newEnv(t testing.TB) *env {
	t.Helper()
	rk, _ := trust.GenerateKey()
	r, err := trust.New([]ed25519.PublicKey{rk.Public().(ed25519.PublicKey)}, 1, t0.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{dir: t.TempDir()}
	e.key, _ = trust.GenerateKey()
	if err := r.AddSigner("hq", e.key.Public().(ed25519.PublicKey), t0.AddDate(0, -1, 0), t0.AddDate(1, 0, 0)); err != nil {
		t.Fatal(err)
	}
	file, _ := trust.Sign(r, rk)
	if e.root, err = trust.Parse(file); err != nil {
		t.Fatal(err)
	}
	e.id, _ = age.GenerateX25519Identity()
	return e
}

func (e *env) opts() bundle.Options {
	return bundle.Options{Trust: e.root, Identities: []age.Identity{e.id}, Now: func() time.Time { return t0 }}
}

func (e *env) buildOpts(kind, ch string, seq uint64) bundle.ChannelBuildOptions {
	return bundle.ChannelBuildOptions{Kind: kind, Channel: ch, Sequence: seq, IssuedAt: t0.Add(-time.Minute),
		ExpiresAt: t0.Add(6 * time.Hour), Authority: "HQ", Key: e.key, Recipients: []age.Recipient{e.id.Recipient()}}
}

var fileN int

// build writes a channel bundle and returns its path.
func (e *env) build(t testing.TB, o bundle.ChannelBuildOptions, recs []bundle.Record) string {
	t.Helper()
	var buf bytes.Buffer
	if _, err := bundle.BuildChannel(&buf, recs, o); err != nil {
		t.Fatal(err)
	}
	fileN++
	path := filepath.Join(e.dir, fmt.Sprintf("%s-%s-%d-%d.cpwl", o.Kind, o.Channel, o.Sequence, fileN))
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// recs returns n records; tag varies their content; every third expires
// an hour after t0.
func recs(n int, tag string) []bundle.Record {
	out := make([]bundle.Record, n)
	for i := range out {
		out[i] = bundle.Record{ID: fmt.Sprintf("R%05d", i), Data: json.RawMessage(fmt.Sprintf(`{"n":%d,"tag":%q}`, i, tag))}
		if i%3 == 2 {
			out[i].ExpiresAt = t0.Add(time.Hour)
		}
	}
	return out
}

func openStore(t testing.TB, dir string) *Store {
	t.Helper()
	kek := filepath.Join(dir, "kek")
	if _, err := os.Stat(kek); err != nil {
		if err := seal.GenerateKeyFile(kek); err != nil {
			t.Fatal(err)
		}
	}
	s, err := Open(filepath.Join(dir, "channels.db"), seal.FileKey{Path: kek}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// recorder is a consumer that checks each record's data is an object
// with "n" and remembers what it was loaded with.
type recorder struct {
	mu     sync.Mutex
	loads  int
	loaded map[string][]bundle.Record // channel -> records
	states map[string]State
}

func newRecorder() *recorder {
	return &recorder{loaded: map[string][]bundle.Record{}, states: map[string]State{}}
}

var errNoN = errors.New("record without n")

func (r *recorder) Validate(channel string, recs []bundle.Record) error {
	for _, rec := range recs {
		var d struct {
			N *int `json:"n"`
		}
		if err := json.Unmarshal(rec.Data, &d); err != nil || d.N == nil {
			return fmt.Errorf("%s: %w", rec.ID, errNoN)
		}
	}
	return nil
}

func (r *recorder) Load(st State, recs []bundle.Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.loads++
	r.loaded[st.Channel] = recs
	r.states[st.Channel] = st
}

func (r *recorder) get(ch string) ([]bundle.Record, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.loaded[ch], r.loads
}

// emptySource is a watchlist.ChangeSource with no changes.
type emptySource struct{}

func (emptySource) Next() (watchlist.Change, error) { return watchlist.Change{}, io.EOF }
