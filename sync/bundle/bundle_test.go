package bundle

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/klauspost/compress/zstd"

	"github.com/checkpoint-edge/checkpoint/sync/trust"
	"github.com/checkpoint-edge/checkpoint/watchlist"
)

func TestInstallFullThenDelta(t *testing.T) {
	e := newEnv(t)
	store := openStore(t, t.TempDir())
	v1 := records(500, 1)
	full := e.build(t, e.buildOpts(1, 0), v1)
	v, err := Install(context.Background(), full, store, e.opts())
	if err != nil {
		t.Fatal(err)
	}
	if !v.Encrypted || v.SignerName != "hq-2026" || v.Header.Puts != 500 {
		t.Fatalf("verified = %+v", v)
	}
	m := store.Meta()
	want := stateOf(t, v1)
	if m.Sequence != 1 || m.StateHash != want.Hash.String() || m.Documents != want.Documents || m.Persons != want.Persons || m.Faces != want.Faces {
		t.Fatalf("meta after full = %+v, want state %s", m, want.Hash.String())
	}

	v2 := mutate(v1, 2)
	d := e.delta(t, e.buildOpts(2, 1), v1, v2)
	v, err = Install(context.Background(), d, store, e.opts())
	if err != nil {
		t.Fatal(err)
	}
	if v.Header.Deletes == 0 || v.Header.Puts == 0 {
		t.Fatalf("delta carries %d puts, %d deletes", v.Header.Puts, v.Header.Deletes)
	}
	m = store.Meta()
	want = stateOf(t, v2)
	if m.Sequence != 2 || m.StateHash != want.Hash.String() || m.Documents != want.Documents || m.Persons != want.Persons {
		t.Fatalf("meta after delta = %+v, want %s", m, want.Hash.String())
	}
	// A delta is much smaller than the full snapshot it replaces.
	fs, _ := os.Stat(full)
	ds, _ := os.Stat(d)
	if ds.Size() >= fs.Size() {
		t.Errorf("delta %d bytes >= full %d bytes", ds.Size(), fs.Size())
	}
}

// refusal runs Install and checks the sentinel and that the store kept its
// version.
func refusal(t *testing.T, store Store, path string, opts Options, want error) {
	t.Helper()
	before := store.Meta()
	_, err := Install(context.Background(), path, store, opts)
	if _, any := want.(errAny); any && !refused(err) || !any && !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
	if after := store.Meta(); after.Sequence != before.Sequence || after.StateHash != before.StateHash {
		t.Fatalf("store changed after refusal: %d %s -> %d %s", before.Sequence, before.StateHash, after.Sequence, after.StateHash)
	}
}

func TestRefusals(t *testing.T) {
	e := newEnv(t)
	v1 := records(200, 1)
	v2 := mutate(v1, 2)
	v3 := mutate(v2, 3)
	full1 := e.build(t, e.buildOpts(1, 0), v1)
	delta12 := e.delta(t, e.buildOpts(2, 1), v1, v2)
	delta23 := e.delta(t, e.buildOpts(3, 2), v2, v3)

	// installed returns a store at sequence 1.
	installed := func(t *testing.T) *watchlist.Store {
		s := openStore(t, t.TempDir())
		if _, err := Install(context.Background(), full1, s, e.opts()); err != nil {
			t.Fatal(err)
		}
		return s
	}

	otherKey, _ := trust.GenerateKey()
	expiredRoot := func() *trust.Root {
		r := e.root.Next(t0)
		r.Signers[0].NotAfter = t0.Add(-time.Hour)
		return r
	}
	revokedRoot := func() *trust.Root {
		r := e.root.Next(t0)
		r.RevokeSigner(r.Signers[0].KeyID, "key compromise", t0)
		return r
	}

	tests := []struct {
		name  string
		setup func(t *testing.T) (Store, string, Options)
		want  error
	}{
		{"unknown signer", func(t *testing.T) (Store, string, Options) {
			o := e.buildOpts(1, 0)
			o.Key = otherKey
			return openStore(t, t.TempDir()), e.build(t, o, v1), e.opts()
		}, ErrUnknownSigner},
		{"signer expired", func(t *testing.T) (Store, string, Options) {
			o := e.opts()
			o.Trust = expiredRoot()
			return openStore(t, t.TempDir()), full1, o
		}, ErrSignerExpired},
		{"signer revoked", func(t *testing.T) (Store, string, Options) {
			o := e.opts()
			o.Trust = revokedRoot()
			return openStore(t, t.TempDir()), full1, o
		}, ErrSignerRevoked},
		{"bad signature", func(t *testing.T) (Store, string, Options) {
			return openStore(t, t.TempDir()), craft(t, e, v1, func(h *Header, sig []byte) { sig[5] ^= 1 }), e.opts()
		}, ErrBadSignature},
		{"replay of installed", func(t *testing.T) (Store, string, Options) {
			return installed(t), full1, e.opts()
		}, ErrRollback},
		{"rollback to older", func(t *testing.T) (Store, string, Options) {
			s := installed(t)
			if _, err := Install(context.Background(), delta12, s, e.opts()); err != nil {
				t.Fatal(err)
			}
			return s, full1, e.opts()
		}, ErrRollback},
		{"delta on another base", func(t *testing.T) (Store, string, Options) {
			return installed(t), delta23, e.opts()
		}, ErrBaseMismatch},
		{"delta on empty store", func(t *testing.T) (Store, string, Options) {
			return openStore(t, t.TempDir()), delta12, e.opts()
		}, ErrBaseMismatch},
		{"delta diverges", func(t *testing.T) (Store, string, Options) {
			o := e.buildOpts(2, 1)
			wrong := mutate(v1, 9) // state of another list
			src, _, err := Diff(&watchlist.SliceSource{Changes: v1}, func() (watchlist.ChangeSource, error) {
				return &watchlist.SliceSource{Changes: v2}, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			o.State = stateOf(t, wrong)
			path := filepath.Join(t.TempDir(), "diverge.cpwl")
			f, _ := os.Create(path)
			if _, err := Build(context.Background(), f, src, o); err != nil {
				t.Fatal(err)
			}
			f.Close()
			return installed(t), path, e.opts()
		}, ErrStateMismatch},
		{"full with wrong state", func(t *testing.T) (Store, string, Options) {
			return openStore(t, t.TempDir()), craft(t, e, v1, func(h *Header, sig []byte) {
				h.StateHash = strings.Repeat("ab", 32)
			}), e.opts()
		}, ErrStateMismatch},
		{"expired", func(t *testing.T) (Store, string, Options) {
			o := e.opts()
			o.Now = func() time.Time { return t0.Add(49 * time.Hour) }
			return openStore(t, t.TempDir()), full1, o
		}, ErrExpired},
		{"file too large", func(t *testing.T) (Store, string, Options) {
			o := e.opts()
			o.MaxBundleSize = 1000
			return openStore(t, t.TempDir()), full1, o
		}, ErrTooLarge},
		{"decompressed too large", func(t *testing.T) (Store, string, Options) {
			o := e.opts()
			o.MaxRawSize = 1000
			return openStore(t, t.TempDir()), full1, o
		}, ErrTooLarge},
		{"record too long", func(t *testing.T) (Store, string, Options) {
			o := e.opts()
			o.MaxLineSize = 100
			return openStore(t, t.TempDir()), full1, o
		}, ErrTooLarge},
		{"decompression bomb", func(t *testing.T) (Store, string, Options) {
			return openStore(t, t.TempDir()), bomb(t, e), e.opts()
		}, ErrTooLarge},
		{"not for this unit", func(t *testing.T) (Store, string, Options) {
			o := e.opts()
			other, _ := age.GenerateX25519Identity()
			o.Identities = []age.Identity{other}
			return openStore(t, t.TempDir()), full1, o
		}, ErrNotForThisUnit},
		{"unencrypted", func(t *testing.T) (Store, string, Options) {
			o := e.buildOpts(1, 0)
			o.Recipients = nil
			return openStore(t, t.TempDir()), e.build(t, o, v1), e.opts()
		}, ErrUnencrypted},
		{"other watchlist", func(t *testing.T) (Store, string, Options) {
			o := e.buildOpts(2, 0)
			o.WatchlistID = "other"
			return installed(t), e.build(t, o, v2), e.opts()
		}, ErrWatchlistMismatch},
		{"not a bundle", func(t *testing.T) (Store, string, Options) {
			p := filepath.Join(t.TempDir(), "x")
			os.WriteFile(p, []byte("{\"op\":\"put\"}\n{\"hello\": 1}\n"), 0o600)
			return openStore(t, t.TempDir()), p, e.opts()
		}, ErrFormat},
		{"empty file", func(t *testing.T) (Store, string, Options) {
			p := filepath.Join(t.TempDir(), "x")
			os.WriteFile(p, nil, 0o600)
			return openStore(t, t.TempDir()), p, e.opts()
		}, ErrTruncated},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, path, o := tc.setup(t)
			refusal(t, s, path, o, tc.want)
		})
	}
}

// craft writes an encrypted bundle of cs by hand, letting edit change the
// header or the signature once the payload is known.
func craft(t *testing.T, e *env, cs []watchlist.Change, edit func(h *Header, sig []byte)) string {
	t.Helper()
	var raw bytes.Buffer
	je := json.NewEncoder(&raw)
	je.SetEscapeHTML(false)
	for i := range cs {
		je.Encode(&cs[i])
	}
	st := stateOf(t, cs)
	h := &Header{Format: FormatVersion, WatchlistID: "national", Sequence: 1, IssuedAt: t0.Add(-time.Minute),
		ExpiresAt: t0.Add(time.Hour), KeyID: trust.KeyID(e.key.Public().(ed25519.PublicKey)), FaceModelID: "dlib-resnet-v1",
		Documents: st.Documents, Persons: st.Persons, Faces: st.Faces, StateHash: st.Hash.String(),
		Puts: int64(len(cs)), RawSize: int64(raw.Len())}
	return craftRaw(t, e, h, raw.Bytes(), edit)
}

func craftRaw(t *testing.T, e *env, h *Header, raw []byte, edit func(h *Header, sig []byte)) string {
	t.Helper()
	zw, _ := zstd.NewWriter(nil)
	payload := zw.EncodeAll(raw, nil)
	sum := sha256.Sum256(payload)
	h.PayloadSize, h.PayloadSHA256 = int64(len(payload)), hex.EncodeToString(sum[:])
	var sig []byte
	header, _ := json.Marshal(h)
	sig = ed25519.Sign(e.key, signedMessage(header))
	if edit != nil {
		edit(h, sig)
		// A header edit is signed again: the authority itself lies. A
		// signature edit stays: forgery.
		if header2, _ := json.Marshal(h); !bytes.Equal(header2, header) {
			header = header2
			sig = ed25519.Sign(e.key, signedMessage(header))
		}
	}
	path := filepath.Join(t.TempDir(), "crafted.cpwl")
	f, _ := os.Create(path)
	defer f.Close()
	w, _ := age.Encrypt(f, e.id.Recipient())
	writePreamble(w, header, sig)
	w.Write(payload)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// bomb is a correctly signed bundle whose 1 KiB header-announced payload
// decompresses to 64 MiB.
func bomb(t *testing.T, e *env) string {
	raw := bytes.Repeat([]byte{' '}, 64<<20)
	h := &Header{Format: FormatVersion, WatchlistID: "national", Sequence: 1, IssuedAt: t0.Add(-time.Minute),
		ExpiresAt: t0.Add(time.Hour), KeyID: trust.KeyID(e.key.Public().(ed25519.PublicKey)),
		StateHash: strings.Repeat("00", 32), Puts: 1, RawSize: 1024}
	return craftRaw(t, e, h, raw, nil)
}

func TestTruncated(t *testing.T) {
	e := newEnv(t)
	full := e.build(t, e.buildOpts(1, 0), records(3000, 1))
	b, _ := os.ReadFile(full)
	dir := t.TempDir()
	cuts := []int{1, 10, 30, 100, 200, len(b) / 3, 64 << 10, 64<<10 + 16 + 200, len(b) / 2, len(b) - 17, len(b) - 1}
	for _, n := range cuts {
		if n <= 0 || n >= len(b) {
			continue
		}
		p := filepath.Join(dir, "cut")
		os.WriteFile(p, b[:n], 0o600)
		_, err := Verify(context.Background(), p, nil, e.opts())
		if !errors.Is(err, ErrTruncated) {
			t.Errorf("cut at %d of %d: err = %v, want ErrTruncated", n, len(b), err)
		}
	}
	// The inner (decrypted) file cut short.
	o := e.buildOpts(1, 0)
	o.Recipients = nil
	inner, _ := os.ReadFile(e.build(t, o, records(300, 1)))
	opts := e.opts()
	opts.AllowUnencrypted = true
	for _, n := range []int{3, 12, 40, len(inner) / 2, len(inner) - 1} {
		p := filepath.Join(dir, "innercut")
		os.WriteFile(p, inner[:n], 0o600)
		if _, err := Verify(context.Background(), p, nil, opts); !errors.Is(err, ErrTruncated) {
			t.Errorf("inner cut at %d of %d: err = %v, want ErrTruncated", n, len(inner), err)
		}
	}
}

// refused reports whether err is one of the package's refusals.
func refused(err error) bool {
	for _, s := range []error{ErrFormat, ErrBadSignature, ErrUnknownSigner, ErrSignerExpired, ErrSignerRevoked,
		ErrRollback, ErrBaseMismatch, ErrWatchlistMismatch, ErrStateMismatch, ErrExpired, ErrTooLarge,
		ErrTruncated, ErrNotForThisUnit, ErrDecrypt, ErrUnencrypted, ErrWrongKind} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

func TestTamperAnyByte(t *testing.T) {
	e := newEnv(t)
	cs := records(1200, 1) // two age chunks
	enc, _ := os.ReadFile(e.build(t, e.buildOpts(1, 0), cs))
	o := e.buildOpts(1, 0)
	o.Recipients = nil
	inner, _ := os.ReadFile(e.build(t, o, cs))
	dir := t.TempDir()

	check := func(name string, file []byte, opts Options) {
		step := max(1, len(file)/120)
		offsets := []int{0, 1, 7, 8, 11, 12, 13, len(file) - 1, len(file) - 2}
		for i := 0; i < len(file); i += step {
			offsets = append(offsets, i)
		}
		for _, off := range offsets {
			c := bytes.Clone(file)
			c[off] ^= 0x20
			p := filepath.Join(dir, name)
			os.WriteFile(p, c, 0o600)
			_, err := Verify(context.Background(), p, nil, opts)
			if err == nil || !refused(err) {
				t.Fatalf("%s: flipped byte %d of %d: err = %v", name, off, len(file), err)
			}
		}
	}
	t.Logf("encrypted file %d bytes (%d age chunks), inner %d bytes", len(enc), len(enc)/(64<<10)+1, len(inner))
	check("encrypted", enc, e.opts())
	opts := e.opts()
	opts.AllowUnencrypted = true
	check("inner", inner, opts)

	// And through Install, a few, against a real store that must not move.
	store := openStore(t, t.TempDir())
	for _, off := range []int{len(enc) / 4, len(enc) / 2, len(enc) - 3} {
		c := bytes.Clone(enc)
		c[off] ^= 1
		p := filepath.Join(dir, "inst")
		os.WriteFile(p, c, 0o600)
		refusal(t, store, p, e.opts(), errAny{})
	}
}

// errAny matches any refusal in refusal().
type errAny struct{}

func (errAny) Error() string { return "any refusal" }

func TestTrustUpdateRevokesSigner(t *testing.T) {
	e := newEnv(t)
	full := e.build(t, e.buildOpts(1, 0), records(50, 1))
	if _, err := Verify(context.Background(), full, nil, e.opts()); err != nil {
		t.Fatal(err)
	}
	next := e.root.Next(t0)
	next.RevokeSigner(next.Signers[0].KeyID, "lost laptop", t0)
	file, err := trust.Sign(next, e.rootKeys[1], e.rootKeys[2])
	if err != nil {
		t.Fatal(err)
	}
	r, err := e.root.Update(file)
	if err != nil {
		t.Fatal(err)
	}
	o := e.opts()
	o.Trust = r
	if _, err := Verify(context.Background(), full, nil, o); !errors.Is(err, ErrSignerRevoked) {
		t.Fatalf("after revocation: err = %v", err)
	}
}

func TestFreshness(t *testing.T) {
	m := watchlist.Meta{Sequence: 4, IssuedAt: t0, ExpiresAt: t0.Add(48 * time.Hour)}
	tests := []struct {
		name  string
		m     watchlist.Meta
		now   time.Time
		stale bool
	}{
		{"fresh", m, t0.Add(time.Hour), false},
		{"old", m, t0.Add(30 * time.Hour), true},
		{"expired", m, t0.Add(49 * time.Hour), true},
		{"none", watchlist.Meta{}, t0, true},
	}
	for _, tc := range tests {
		f := CheckFreshness(tc.m, tc.now, 24*time.Hour)
		if f.Stale != tc.stale || (f.Stale && f.Reason == "") {
			t.Errorf("%s: %+v", tc.name, f)
		}
	}
}
