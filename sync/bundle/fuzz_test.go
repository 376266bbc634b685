package bundle

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/checkpoint-edge/checkpoint/sync/trust"
	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// fuzzEnv is a fixed signer and trust root (seeded keys) so that seeds
// stay valid across runs.
func fuzzEnv(f *testing.F) (ed25519.PrivateKey, *trust.Root) {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	rk := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32))
	r, _ := trust.New([]ed25519.PublicKey{rk.Public().(ed25519.PublicKey)}, 1, t0)
	r.AddSigner("fuzz", key.Public().(ed25519.PublicKey), t0.AddDate(-1, 0, 0), t0.AddDate(1, 0, 0))
	file, _ := trust.Sign(r, rk)
	root, err := trust.Parse(file)
	if err != nil {
		f.Fatal(err)
	}
	return key, root
}

func fuzzOpts(root *trust.Root) Options {
	return Options{Trust: root, AllowUnencrypted: true, Now: func() time.Time { return t0 },
		MaxRawSize: 256 << 10, MaxLineSize: 64 << 10} // small bounds keep each run fast
}

func verifyBytes(t *testing.T, dir string, b []byte, o Options) error {
	p := filepath.Join(dir, "fuzz.cpwl")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Verify(context.Background(), p, nil, o)
	if err != nil && !refused(err) {
		t.Fatalf("error without a refusal sentinel: %v", err)
	}
	return err
}

// FuzzVerify feeds arbitrary files (unencrypted, so that the fuzzer
// reaches the bundle parser) to Verify: no panic, and every failure is a
// refusal.
func FuzzVerify(f *testing.F) {
	key, root := fuzzEnv(f)
	for _, n := range []int{0, 1, 20} {
		var buf bytes.Buffer
		_, err := Build(context.Background(), &buf, &watchlist.SliceSource{Changes: records(n, 1)}, BuildOptions{
			WatchlistID: "w", Sequence: 1, IssuedAt: t0, ExpiresAt: t0.Add(time.Hour), Key: key, TempDir: f.TempDir()})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
		f.Add(buf.Bytes()[:buf.Len()/2])
	}
	f.Add([]byte(Magic + "\x00\x00\x00\x02{}"))
	f.Add([]byte("age-encryption.org/v1\n-> X25519 abc\n--- xyz\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		verifyBytes(t, dir, b, fuzzOpts(root))
	})
}

// FuzzPayload signs whatever payload the fuzzer makes, so that the
// decompressor and the record parser are exercised behind a valid
// signature: no panic, no unbounded memory, every failure a refusal.
func FuzzPayload(f *testing.F) {
	key, root := fuzzEnv(f)
	zw, _ := zstd.NewWriter(nil)
	var raw bytes.Buffer
	for _, c := range records(12, 3) {
		json.NewEncoder(&raw).Encode(&c)
	}
	f.Add(zw.EncodeAll(raw.Bytes(), nil), int64(raw.Len()), int64(12))
	f.Add(zw.EncodeAll([]byte("{\"op\":\"delete\",\"kind\":\"document\",\"id\":\"x\"}\n"), nil), int64(46), int64(1))
	f.Add(zw.EncodeAll([]byte("\n\n{}\n"), nil), int64(4), int64(0))
	f.Add(zw.EncodeAll(bytes.Repeat([]byte("a"), 1<<16), nil), int64(10), int64(1))
	f.Add([]byte("not zstd"), int64(8), int64(1))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, payload []byte, rawSize, puts int64) {
		sum := sha256.Sum256(payload)
		h := &Header{Format: FormatVersion, WatchlistID: "w", Sequence: 1, IssuedAt: t0, ExpiresAt: t0.Add(time.Hour),
			KeyID: trust.KeyID(key.Public().(ed25519.PublicKey)), StateHash: new(State).Hash.String(),
			Puts: puts, RawSize: rawSize, PayloadSize: int64(len(payload)), PayloadSHA256: hex.EncodeToString(sum[:])}
		header, _ := json.Marshal(h)
		var file bytes.Buffer
		writePreamble(&file, header, ed25519.Sign(key, signedMessage(header)))
		file.Write(payload)
		verifyBytes(t, dir, file.Bytes(), fuzzOpts(root))
	})
}

// FuzzReadIndex: indexes come from the network.
func FuzzReadIndex(f *testing.F) {
	f.Add([]byte(`{"format":1,"watchlist_id":"national","latest":3,"updated_at":"2026-11-24T12:00:00Z","bundles":[{"file":"full-1.cpwl","sequence":1,"base":0,"size":10,"sha256":"` + string(bytes.Repeat([]byte("a"), 64)) + `","issued_at":"2026-11-24T12:00:00Z","expires_at":"2026-11-26T12:00:00Z"}]}`))
	f.Add([]byte(`{"format":1,"watchlist_id":"../x","bundles":[{"file":"../../etc/passwd"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ix, err := ReadIndex(bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, e := range ix.Bundles {
			if filepath.Base(e.File) != e.File || e.Sequence <= e.Base {
				t.Fatalf("accepted entry %+v", e)
			}
		}
		for _, s := range []uint64{0, 1, ix.Latest} {
			plan, err := ix.Plan(s)
			if err == nil && len(plan) > 0 && plan[len(plan)-1].Sequence != ix.Latest {
				t.Fatalf("plan from %d ends at %d, latest %d", s, plan[len(plan)-1].Sequence, ix.Latest)
			}
		}
	})
}
