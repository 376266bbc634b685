package seal

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestSealOpen(t *testing.T) {
	s, err := NewSealer(NewKey())
	if err != nil {
		t.Fatal(err)
	}
	ct := s.Seal(nil, []byte("HAPPY TRAVELLER"), []byte("docs/k1"))
	if bytes.Contains(ct, []byte("HAPPY")) {
		t.Fatal("plaintext visible in sealed value")
	}
	pt, err := s.Open(nil, ct, []byte("docs/k1"))
	if err != nil || string(pt) != "HAPPY TRAVELLER" {
		t.Fatalf("Open = %q, %v", pt, err)
	}
	tests := []struct {
		name string
		ct   []byte
		ad   string
	}{
		{"other record", ct, "docs/k2"},
		{"flipped byte", flip(ct, len(ct)/2), "docs/k1"},
		{"truncated", ct[:len(ct)-1], "docs/k1"},
		{"too short", ct[:10], "docs/k1"},
		{"empty", nil, "docs/k1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.Open(nil, tc.ct, []byte(tc.ad)); !errors.Is(err, ErrIntegrity) {
				t.Fatalf("err = %v, want ErrIntegrity", err)
			}
		})
	}
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x01
	return c
}

func TestWrapRotate(t *testing.T) {
	kek1, kek2, dek := NewKey(), NewKey(), NewKey()
	w, err := WrapKey(kek1, dek, []byte("store"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := UnwrapKey(kek2, w, []byte("store")); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("wrong KEK: err = %v", err)
	}
	got, err := UnwrapKey(kek1, w, []byte("store"))
	if err != nil || !bytes.Equal(got, dek) {
		t.Fatalf("unwrap: %v", err)
	}
	// Rotation: re-wrap under kek2, the data key is unchanged.
	w2, _ := WrapKey(kek2, got, []byte("store"))
	got2, err := UnwrapKey(kek2, w2, []byte("store"))
	if err != nil || !bytes.Equal(got2, dek) {
		t.Fatalf("rotated unwrap: %v", err)
	}
	if bytes.Equal(DeriveKey(dek, "a"), DeriveKey(dek, "b")) {
		t.Fatal("subkeys for different purposes are equal")
	}
}

func TestProviders(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "kek")
	if err := GenerateKeyFile(path); err != nil {
		t.Fatal(err)
	}
	if err := GenerateKeyFile(path); err == nil {
		t.Fatal("GenerateKeyFile overwrote an existing key")
	}
	k, err := FileKey{Path: path}.KEK()
	if err != nil || len(k) != KeySize {
		t.Fatalf("file key: %v", err)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := (FileKey{Path: path}).KEK(); !errors.Is(err, ErrKeyPermissions) {
		t.Fatalf("0640 key file: err = %v, want ErrKeyPermissions", err)
	}
	if _, err := (FileKey{Path: filepath.Join(dir, "nope")}).KEK(); !errors.Is(err, ErrNoKey) {
		t.Fatalf("missing key file: err = %v", err)
	}

	cred := t.TempDir()
	os.WriteFile(filepath.Join(cred, "watchlist.kek"), []byte(hex.EncodeToString(k)+"\n"), 0o400)
	t.Setenv("CREDENTIALS_DIRECTORY", cred)
	p, err := ParseProvider("credential:watchlist.kek")
	if err != nil {
		t.Fatal(err)
	}
	ck, err := p.KEK()
	if err != nil || !bytes.Equal(ck, k) {
		t.Fatalf("credential key: %v", err)
	}

	t.Setenv("CP_TEST_KEK", hex.EncodeToString(k))
	ek, err := EnvKey{Var: "CP_TEST_KEK"}.KEK()
	if err != nil || !bytes.Equal(ek, k) {
		t.Fatalf("env key: %v", err)
	}
	t.Setenv("CP_TEST_KEK", "short")
	if _, err := (EnvKey{Var: "CP_TEST_KEK"}).KEK(); !errors.Is(err, ErrKeyFormat) {
		t.Fatalf("bad env key: %v", err)
	}
	for _, bad := range []string{"", "tpm:x", "file:"} {
		if _, err := ParseProvider(bad); err == nil {
			t.Errorf("ParseProvider(%q) accepted", bad)
		}
	}
}
