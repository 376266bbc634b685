package trust

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func keys(t *testing.T, n int) ([]ed25519.PrivateKey, []ed25519.PublicKey) {
	t.Helper()
	var privs []ed25519.PrivateKey
	var pubs []ed25519.PublicKey
	for range n {
		k, err := GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		privs = append(privs, k)
		pubs = append(pubs, k.Public().(ed25519.PublicKey))
	}
	return privs, pubs
}

func TestThresholdAndUpdates(t *testing.T) {
	rk, rpub := keys(t, 3)
	_, spub := keys(t, 2)
	r, err := New(rpub, 2, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.AddSigner("hq-2026", spub[0], now.Add(-time.Hour), now.AddDate(1, 0, 0)); err != nil {
		t.Fatal(err)
	}
	one, _ := Sign(r, rk[0])
	if _, err := Parse(one); !errors.Is(err, ErrThreshold) {
		t.Fatalf("1 of 2 signatures: err = %v", err)
	}
	// Co-signing completes it; the same key twice does not count twice.
	dup, _ := AddSignatures(one, rk[0])
	if _, err := Parse(dup); !errors.Is(err, ErrThreshold) {
		t.Fatalf("same key twice: err = %v", err)
	}
	v1file, err := AddSignatures(one, rk[2])
	if err != nil {
		t.Fatal(err)
	}
	v1, err := Parse(v1file)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v1.Authorize(KeyID(spub[0]), now); err != nil {
		t.Fatalf("authorize: %v", err)
	}

	// Version 2 rotates: adds a signer, revokes the old one.
	v2 := v1.Next(now)
	v2.AddSigner("hq-2027", spub[1], now, now.AddDate(1, 0, 0))
	v2.RevokeSigner(KeyID(spub[0]), "rotation", now)
	v2file, _ := Sign(v2, rk[1], rk[2])
	v2r, err := v1.Update(v2file)
	if err != nil {
		t.Fatal(err)
	}

	notRoot, _ := keys(t, 2)
	forged := v1.Next(now)
	forgedFile, err := Sign(forged, rk[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Sign(forged, notRoot[0]); err == nil {
		t.Fatal("signed with a key that is not a root key")
	}

	tests := []struct {
		name string
		file []byte
		want error
	}{
		{"replay of installed version", v1file, ErrNotNewer},
		{"one signature only", forgedFile, ErrThreshold},
		{"tampered after signing", bytes.Replace(v2file, []byte("hq-2027"), []byte("hq-2028"), 1), ErrThreshold},
		{"garbage", []byte("{"), ErrFormat},
		{"unknown field", []byte(`{"signed":{},"signatures":[],"x":1}`), ErrFormat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := v1.Update(tc.file); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	// Replaying v1 over v2 is a rollback.
	if _, err := v2r.Update(v1file); !errors.Is(err, ErrNotNewer) && !errors.Is(err, ErrThreshold) {
		t.Fatalf("rollback to v1: err = %v", err)
	}

	// Signer status.
	if _, err := v2r.Authorize(KeyID(spub[0]), now); !errors.Is(err, ErrSignerRevoked) {
		t.Errorf("revoked signer: %v", err)
	}
	if _, err := v2r.Authorize(KeyID(spub[1]), now.AddDate(2, 0, 0)); !errors.Is(err, ErrSignerExpired) {
		t.Errorf("expired signer: %v", err)
	}
	if _, err := v2r.Authorize(KeyID(spub[1]), now.Add(-time.Minute)); !errors.Is(err, ErrSignerExpired) {
		t.Errorf("not yet valid signer: %v", err)
	}
	if _, err := v2r.Authorize("0011223344556677", now); !errors.Is(err, ErrUnknownSigner) {
		t.Errorf("unknown signer: %v", err)
	}
}

func TestRootRotationNeedsBothQuorums(t *testing.T) {
	rk, rpub := keys(t, 2)
	nk, npub := keys(t, 2)
	r, _ := New(rpub, 2, now)
	f1, _ := Sign(r, rk...)
	v1, err := Parse(f1)
	if err != nil {
		t.Fatal(err)
	}
	next := v1.Next(now)
	next.RootKeys = nil
	for _, p := range npub {
		next.RootKeys = append(next.RootKeys, RootKey{KeyID: KeyID(p), PublicKey: EncodePublicKey(p)})
	}
	onlyNew, _ := Sign(next, nk...)
	if _, err := v1.Update(onlyNew); !errors.Is(err, ErrThreshold) {
		t.Fatalf("new root signed only by new keys: %v", err)
	}
	// Old keys cannot sign a file naming only new root keys through Sign,
	// so splice their signatures in by hand.
	var env envelope
	json.Unmarshal(onlyNew, &env)
	msg := message(env.Signed)
	for _, k := range rk {
		env.Signatures = append(env.Signatures, Signature{KeyID: KeyID(k.Public().(ed25519.PublicKey)), Sig: base64.StdEncoding.EncodeToString(ed25519.Sign(k, msg))})
	}
	both, _ := json.Marshal(env)
	if _, err := v1.Update(both); err != nil {
		t.Fatalf("rotation signed by both quorums: %v", err)
	}
}

func TestKeyFilesAndInstall(t *testing.T) {
	dir := t.TempDir()
	k, _ := GenerateKey()
	p := filepath.Join(dir, "signing.key")
	if err := WritePrivateKey(p, k); err != nil {
		t.Fatal(err)
	}
	if err := WritePrivateKey(p, k); err == nil {
		t.Fatal("overwrote a key")
	}
	got, err := ReadPrivateKey(p)
	if err != nil || !got.Equal(k) {
		t.Fatalf("read back: %v", err)
	}
	pub, err := ReadPublicKey(p + ".pub")
	if err != nil || !pub.Equal(k.Public()) {
		t.Fatalf("public: %v", err)
	}
	if pub2, err := ReadPublicKey(EncodePublicKey(pub)); err != nil || !pub2.Equal(pub) {
		t.Fatalf("base64 public: %v", err)
	}
	os.Chmod(p, 0o644)
	if _, err := ReadPrivateKey(p); !errors.Is(err, ErrKeyPermissions) {
		t.Fatalf("0644 key: %v", err)
	}

	rk, rpub := keys(t, 1)
	r, _ := New(rpub, 1, now)
	f1, _ := Sign(r, rk...)
	installed := filepath.Join(dir, "trust.json")
	if _, err := Install(installed, f1); err != nil {
		t.Fatal(err)
	}
	if _, err := Install(installed, f1); !errors.Is(err, ErrNotNewer) {
		t.Fatalf("reinstall same version: %v", err)
	}
	f2, _ := Sign(r.Next(now), rk...)
	if got, err := Install(installed, f2); err != nil || got.Version != 2 {
		t.Fatalf("install v2: %v", err)
	}
	if l, err := Load(installed); err != nil || l.Version != 2 {
		t.Fatalf("load: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	rk := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))
	r, _ := New([]ed25519.PublicKey{rk.Public().(ed25519.PublicKey)}, 1, now)
	r.AddSigner("s", rk.Public().(ed25519.PublicKey), now, now.Add(time.Hour))
	good, _ := Sign(r, rk)
	f.Add(good)
	f.Add([]byte(`{"signed":{"type":"checkpoint-trust/v1","version":1,"threshold":1,"root_keys":[]},"signatures":[]}`))
	f.Add([]byte("{}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := Parse(b)
		if err == nil && (got.Threshold < 1 || got.Version == 0) {
			t.Fatalf("accepted an invalid root: %+v", got)
		}
	})
}
