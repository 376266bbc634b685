package channel

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"filippo.io/age"
	bolt "go.etcd.io/bbolt"

	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/sync/bundle"
	"github.com/checkpoint-edge/checkpoint/sync/trust"
)

func TestInstallReplaceAndLoad(t *testing.T) {
	e := newEnv(t)
	s := openStore(t, t.TempDir())
	reg := NewRegistry()
	rec := newRecorder()
	if err := reg.Register(bundle.KindPrearrival, rec); err != nil {
		t.Fatal(err)
	}
	var audited []State
	reg.OnInstall = func(st State) { audited = append(audited, st) }

	v1 := recs(30, "a")
	b1 := e.build(t, e.buildOpts(bundle.KindPrearrival, "LHR", 10), v1)
	v, err := Install(context.Background(), b1, s, reg, &Ref{bundle.KindPrearrival, "LHR"}, e.opts())
	if err != nil {
		t.Fatal(err)
	}
	if !v.Encrypted || v.SignerName != "hq" || v.Header.Kind != bundle.KindPrearrival || v.Header.Puts != 30 {
		t.Fatalf("verified = %+v", v.Header)
	}
	got, loads := rec.get("LHR")
	if loads != 1 || len(got) != 30 || string(got[7].Data) != string(v1[7].Data) || got[7].ID != v1[7].ID {
		t.Fatalf("consumer loaded %d records in %d loads", len(got), loads)
	}
	if len(audited) != 1 || audited[0].Sequence != 10 || audited[0].Records != 30 {
		t.Fatalf("OnInstall saw %+v", audited)
	}
	st, ok, err := s.State(bundle.KindPrearrival, "LHR")
	if err != nil || !ok || st.Sequence != 10 || st.Records != 30 || !st.ExpiresAt.Equal(t0.Add(6*time.Hour)) || st.KeyID == "" {
		t.Fatalf("state %+v %v %v", st, ok, err)
	}

	// A newer bundle replaces the whole content: fewer records, new data.
	v2 := recs(5, "b")
	b2 := e.build(t, e.buildOpts(bundle.KindPrearrival, "LHR", 11), v2)
	if _, err := Install(context.Background(), b2, s, reg, nil, e.opts()); err != nil {
		t.Fatal(err)
	}
	got, _ = rec.get("LHR")
	stored, st, err := s.Records(bundle.KindPrearrival, "LHR", t0)
	if err != nil || len(got) != 5 || len(stored) != 5 || st.Sequence != 11 || !bytes.Contains(stored[0].Data, []byte(`"b"`)) {
		t.Fatalf("after replace: consumer %d, store %d records at %d: %v", len(got), len(stored), st.Sequence, err)
	}

	// Another channel of the same kind is independent.
	b3 := e.build(t, e.buildOpts(bundle.KindPrearrival, "CDG", 1), recs(3, "c"))
	if _, err := Install(context.Background(), b3, s, reg, nil, e.opts()); err != nil {
		t.Fatalf("another channel at a lower sequence: %v", err)
	}
	states, _ := s.States()
	if len(states) != 2 || states[0].Channel != "CDG" || states[1].Channel != "LHR" {
		t.Fatalf("states %+v", states)
	}
	if err := s.Verify(); err != nil {
		t.Fatal(err)
	}

	// A fresh consumer gets everything at start.
	s.Close()
	s2, err := Open(s.Path(), seal.FileKey{Path: filepath.Join(filepath.Dir(s.Path()), "kek")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	reg2, rec2 := NewRegistry(), newRecorder()
	reg2.Register(bundle.KindPrearrival, rec2)
	if err := reg2.LoadAll(s2, t0); err != nil {
		t.Fatal(err)
	}
	if a, _ := rec2.get("LHR"); len(a) != 5 {
		t.Fatalf("LoadAll gave LHR %d records", len(a))
	}
	if c, loads := rec2.get("CDG"); len(c) != 3 || loads != 2 {
		t.Fatalf("LoadAll gave CDG %d records in %d loads", len(c), loads)
	}
	// Rollback protection survives the restart.
	if _, err := Install(context.Background(), b1, s2, reg2, nil, e.opts()); !errors.Is(err, bundle.ErrRollback) {
		t.Fatalf("old bundle after restart: %v, want ErrRollback", err)
	}
}

func TestRefusals(t *testing.T) {
	e := newEnv(t)
	good := e.build(t, e.buildOpts(bundle.KindPrearrival, "LHR", 5), recs(20, "a"))
	want := &Ref{bundle.KindPrearrival, "LHR"}
	// plain builds an unencrypted bundle and lets edit damage its bytes.
	plain := func(t *testing.T, edit func(b []byte) []byte) string {
		o := e.buildOpts(bundle.KindPrearrival, "LHR", 5)
		o.Recipients = nil
		b, _ := os.ReadFile(e.build(t, o, recs(20, "a")))
		p := filepath.Join(t.TempDir(), "x.cpwl")
		os.WriteFile(p, edit(b), 0o600)
		return p
	}
	headerLen := func(b []byte) int { return int(binary.BigEndian.Uint32(b[8:12])) }
	unencrypted := func() bundle.Options { o := e.opts(); o.AllowUnencrypted = true; return o }
	otherKey, _ := trust.GenerateKey()

	tests := []struct {
		name  string
		setup func(t *testing.T, s *Store) (path string, want *Ref, o bundle.Options)
		err   error
	}{
		{"bad signature", func(t *testing.T, s *Store) (string, *Ref, bundle.Options) {
			return plain(t, func(b []byte) []byte { b[12+headerLen(b)+5] ^= 1; return b }), want, unencrypted()
		}, bundle.ErrBadSignature},
		{"forged header", func(t *testing.T, s *Store) (string, *Ref, bundle.Options) {
			return plain(t, func(b []byte) []byte { return bytes.Replace(b, []byte(`"LHR"`), []byte(`"CDG"`), 1) }), nil, unencrypted()
		}, bundle.ErrBadSignature},
		{"tampered record", func(t *testing.T, s *Store) (string, *Ref, bundle.Options) {
			return plain(t, func(b []byte) []byte { b[len(b)-3] ^= 0x20; return b }), want, unencrypted()
		}, bundle.ErrBadSignature},
		{"unknown signer", func(t *testing.T, s *Store) (string, *Ref, bundle.Options) {
			o := e.buildOpts(bundle.KindPrearrival, "LHR", 5)
			o.Key = otherKey
			return e.build(t, o, recs(3, "x")), want, e.opts()
		}, bundle.ErrUnknownSigner},
		{"not for this unit", func(t *testing.T, s *Store) (string, *Ref, bundle.Options) {
			o := e.opts()
			other, _ := age.GenerateX25519Identity()
			o.Identities = []age.Identity{other}
			return good, want, o
		}, bundle.ErrNotForThisUnit},
		{"unencrypted", func(t *testing.T, s *Store) (string, *Ref, bundle.Options) {
			return plain(t, func(b []byte) []byte { return b }), want, e.opts()
		}, bundle.ErrUnencrypted},
		{"expired", func(t *testing.T, s *Store) (string, *Ref, bundle.Options) {
			o := e.opts()
			o.Now = func() time.Time { return t0.Add(7 * time.Hour) }
			return good, want, o
		}, bundle.ErrExpired},
		{"rollback", func(t *testing.T, s *Store) (string, *Ref, bundle.Options) {
			newer := e.build(t, e.buildOpts(bundle.KindPrearrival, "LHR", 6), recs(2, "n"))
			if _, err := Install(context.Background(), newer, s, regWith(bundle.KindPrearrival), want, e.opts()); err != nil {
				t.Fatal(err)
			}
			return good, want, e.opts()
		}, bundle.ErrRollback},
		{"replay", func(t *testing.T, s *Store) (string, *Ref, bundle.Options) {
			if _, err := Install(context.Background(), good, s, regWith(bundle.KindPrearrival), want, e.opts()); err != nil {
				t.Fatal(err)
			}
			return good, want, e.opts()
		}, bundle.ErrRollback},
		{"wrong kind for the channel asked", func(t *testing.T, s *Store) (string, *Ref, bundle.Options) {
			return e.build(t, e.buildOpts(bundle.KindAlerts, "LHR", 5), recs(2, "x")), want, e.opts()
		}, bundle.ErrWrongKind},
		{"kind without a consumer", func(t *testing.T, s *Store) (string, *Ref, bundle.Options) {
			return e.build(t, e.buildOpts("trust", "icao", 5), recs(2, "x")), nil, e.opts()
		}, bundle.ErrWrongKind},
		{"watchlist bundle", func(t *testing.T, s *Store) (string, *Ref, bundle.Options) {
			return watchlistBundle(t, e), nil, e.opts()
		}, bundle.ErrWrongKind},
		{"other channel", func(t *testing.T, s *Store) (string, *Ref, bundle.Options) {
			return e.build(t, e.buildOpts(bundle.KindPrearrival, "CDG", 5), recs(2, "x")), want, e.opts()
		}, bundle.ErrChannelMismatch},
		{"consumer rejects", func(t *testing.T, s *Store) (string, *Ref, bundle.Options) {
			bad := recs(4, "x")
			bad[2].Data = json.RawMessage(`{"no":"n"}`)
			return e.build(t, e.buildOpts(bundle.KindPrearrival, "LHR", 5), bad), want, e.opts()
		}, bundle.ErrRejected},
		{"truncated", func(t *testing.T, s *Store) (string, *Ref, bundle.Options) {
			b, _ := os.ReadFile(good)
			p := filepath.Join(t.TempDir(), "cut")
			os.WriteFile(p, b[:len(b)-20], 0o600)
			return p, want, e.opts()
		}, bundle.ErrTruncated},
		{"file too large", func(t *testing.T, s *Store) (string, *Ref, bundle.Options) {
			o := e.opts()
			o.MaxBundleSize = 200
			return good, want, o
		}, bundle.ErrTooLarge},
		{"decompressed too large", func(t *testing.T, s *Store) (string, *Ref, bundle.Options) {
			o := e.opts()
			o.MaxRawSize = 100
			return good, want, o
		}, bundle.ErrTooLarge},
		{"record too long", func(t *testing.T, s *Store) (string, *Ref, bundle.Options) {
			o := e.opts()
			o.MaxLineSize = 20
			return good, want, o
		}, bundle.ErrTooLarge},
		{"not a bundle", func(t *testing.T, s *Store) (string, *Ref, bundle.Options) {
			p := filepath.Join(t.TempDir(), "x")
			os.WriteFile(p, []byte(`{"id":"R1","data":{"n":1}}`+"\n"), 0o600)
			return p, want, e.opts()
		}, bundle.ErrFormat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openStore(t, t.TempDir())
			path, w, o := tc.setup(t, s)
			before, _ := s.States()
			reg := NewRegistry()
			rec := newRecorder()
			reg.Register(bundle.KindPrearrival, rec)
			reg.Register(bundle.KindAlerts, newRecorder())
			_, err := Install(context.Background(), path, s, reg, w, o)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			after, _ := s.States()
			if len(after) != len(before) || (len(after) > 0 && after[0].Sequence != before[0].Sequence) {
				t.Fatalf("refused install changed the store: %+v -> %+v", before, after)
			}
			if _, loads := rec.get("LHR"); loads != 0 {
				t.Fatal("refused install reached the consumer")
			}
		})
	}
}

func regWith(kind string) *Registry {
	r := NewRegistry()
	r.Register(kind, newRecorder())
	return r
}

// watchlistBundle is a real watchlist bundle (no kind in its header).
func watchlistBundle(t *testing.T, e *env) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "w.cpwl")
	f, _ := os.Create(p)
	defer f.Close()
	_, err := bundle.Build(context.Background(), f, &emptySource{}, bundle.BuildOptions{WatchlistID: "national", Sequence: 9,
		IssuedAt: t0.Add(-time.Minute), ExpiresAt: t0.Add(time.Hour), Key: e.key, Recipients: []age.Recipient{e.id.Recipient()}, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExpiry(t *testing.T) {
	e := newEnv(t)
	s := openStore(t, t.TempDir())
	reg, rec := NewRegistry(), newRecorder()
	reg.Register(bundle.KindAlerts, rec)
	all := recs(9, "a") // 3 of them expire at t0+1h; the bundle at t0+6h
	p := e.build(t, e.buildOpts(bundle.KindAlerts, "national", 3), all)
	if _, err := Install(context.Background(), p, s, reg, nil, e.opts()); err != nil {
		t.Fatal(err)
	}
	got, _ := rec.get("national")
	if len(got) != 9 {
		t.Fatalf("loaded %d at install", len(got))
	}
	// Records past their own expiry are not handed out, even before a purge.
	if r, _, _ := s.Records(bundle.KindAlerts, "national", t0.Add(2*time.Hour)); len(r) != 6 {
		t.Fatalf("%d records at t0+2h, want 6", len(r))
	}
	purged, err := reg.Expire(s, t0.Add(2*time.Hour))
	if err != nil || len(purged) != 1 || purged[0].Removed != 3 || purged[0].Expired {
		t.Fatalf("purge at t0+2h: %+v, %v", purged, err)
	}
	if got, _ = rec.get("national"); len(got) != 6 {
		t.Fatalf("consumer holds %d after the purge, want 6", len(got))
	}
	if err := s.Verify(); err != nil {
		t.Fatalf("after a purge: %v", err)
	}
	// Once the bundle expires, nothing is handed out, and the purge empties
	// the channel but keeps its sequence.
	if r, _, _ := s.Records(bundle.KindAlerts, "national", t0.Add(6*time.Hour)); len(r) != 0 {
		t.Fatalf("%d records from an expired channel", len(r))
	}
	purged, err = reg.Expire(s, t0.Add(6*time.Hour))
	if err != nil || len(purged) != 1 || purged[0].Removed != 6 || !purged[0].Expired {
		t.Fatalf("purge at expiry: %+v, %v", purged, err)
	}
	if got, _ = rec.get("national"); len(got) != 0 {
		t.Fatalf("consumer still holds %d records of an expired channel", len(got))
	}
	st, _, _ := s.State(bundle.KindAlerts, "national")
	if st.Sequence != 3 || st.Records != 0 || st.Purged != 9 {
		t.Fatalf("state after expiry %+v", st)
	}
	if again, _ := s.Purge(t0.Add(7 * time.Hour)); len(again) != 0 {
		t.Fatalf("second purge removed %+v", again)
	}
}

func TestStoreEncryptedAndTamperEvident(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	s := openStore(t, dir)
	rs := recs(10, "secret-marker")
	p := e.build(t, e.buildOpts(bundle.KindPrearrival, "LHR", 1), rs)
	if _, err := Install(context.Background(), p, s, regWith(bundle.KindPrearrival), nil, e.opts()); err != nil {
		t.Fatal(err)
	}
	s.Close()
	raw, _ := os.ReadFile(filepath.Join(dir, "channels.db"))
	if bytes.Contains(raw, []byte("secret-marker")) || bytes.Contains(raw, []byte("R00003")) {
		t.Fatal("record content in clear in the store file")
	}
	// Swap two sealed records: each is bound to its position.
	db, err := bolt.Open(filepath.Join(dir, "channels.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRecords).Bucket([]byte("prearrival/LHR"))
		a, c := bytes.Clone(b.Get(recordKey(1))), bytes.Clone(b.Get(recordKey(2)))
		b.Put(recordKey(1), c)
		return b.Put(recordKey(2), a)
	})
	db.Close()
	s2, err := Open(filepath.Join(dir, "channels.db"), seal.FileKey{Path: filepath.Join(dir, "kek")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, _, err := s2.Records(bundle.KindPrearrival, "LHR", t0); !errors.Is(err, ErrIntegrity) {
		t.Fatalf("swapped records: %v, want ErrIntegrity", err)
	}
	if err := s2.Verify(); !errors.Is(err, ErrIntegrity) {
		t.Fatalf("Verify: %v, want ErrIntegrity", err)
	}
	// A wrong key does not open the store.
	other := filepath.Join(t.TempDir(), "kek")
	seal.GenerateKeyFile(other)
	s2.Close()
	if _, err := Open(filepath.Join(dir, "channels.db"), seal.FileKey{Path: other}, Options{}); !errors.Is(err, seal.ErrWrongKey) {
		t.Fatalf("wrong KEK: %v", err)
	}
}

func TestRegistry(t *testing.T) {
	r := NewRegistry()
	if err := r.Register(bundle.KindTrust, newRecorder()); err != nil {
		t.Fatal(err)
	}
	if err := r.Register(bundle.KindTrust, newRecorder()); !errors.Is(err, ErrDuplicateKind) {
		t.Fatalf("second consumer: %v", err)
	}
	for _, k := range []string{"", "watchlist", "Trust", "a/b", "x y"} {
		if err := r.Register(k, newRecorder()); err == nil {
			t.Errorf("kind %q registered", k)
		}
	}
	if k := r.Kinds(); len(k) != 1 || k[0] != bundle.KindTrust {
		t.Fatalf("kinds %v", k)
	}
}
