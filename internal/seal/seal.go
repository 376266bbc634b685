package seal

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"
)

// KeySize is the size of every key this package handles.
const KeySize = 32

// Overhead is how many bytes Seal adds to a plaintext (nonce + tag).
const Overhead = chacha20poly1305.NonceSizeX + chacha20poly1305.Overhead

// Sealer encrypts and authenticates values under one data key. It is safe
// for concurrent use.
type Sealer struct {
	aead interface {
		Seal(dst, nonce, plaintext, additionalData []byte) []byte
		Open(dst, nonce, ciphertext, additionalData []byte) ([]byte, error)
	}
}

// NewSealer returns a Sealer for a 32-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != KeySize {
		return nil, ErrKeyFormat
	}
	a, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return &Sealer{aead: a}, nil
}

// Seal appends nonce||ciphertext||tag of plaintext to dst. The random
// 192-bit nonce makes nonce reuse negligible without any counter state.
func (s *Sealer) Seal(dst, plaintext, ad []byte) []byte {
	var nonce [chacha20poly1305.NonceSizeX]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		panic("seal: crypto/rand failed: " + err.Error()) // never happens on Linux
	}
	dst = append(dst, nonce[:]...)
	return s.aead.Seal(dst, nonce[:], plaintext, ad)
}

// Open authenticates and decrypts a value made by Seal with the same ad,
// appending the plaintext to dst. Any mismatch is ErrIntegrity.
func (s *Sealer) Open(dst, sealed, ad []byte) ([]byte, error) {
	if len(sealed) < Overhead {
		return nil, ErrIntegrity
	}
	n := chacha20poly1305.NonceSizeX
	out, err := s.aead.Open(dst, sealed[:n], sealed[n:], ad)
	if err != nil {
		return nil, ErrIntegrity
	}
	return out, nil
}

// NewKey returns a fresh random 32-byte key.
func NewKey() []byte {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		panic("seal: crypto/rand failed: " + err.Error())
	}
	return k
}

// WrapKey seals a data key under a key-encryption key. ad binds the wrapped
// key to its use (e.g. the store's identity).
func WrapKey(kek, dek, ad []byte) ([]byte, error) {
	s, err := NewSealer(kek)
	if err != nil {
		return nil, err
	}
	return s.Seal(nil, dek, ad), nil
}

// UnwrapKey opens a data key wrapped by WrapKey. A wrong KEK is ErrWrongKey.
func UnwrapKey(kek, wrapped, ad []byte) ([]byte, error) {
	s, err := NewSealer(kek)
	if err != nil {
		return nil, err
	}
	dek, err := s.Open(nil, wrapped, ad)
	if err != nil {
		return nil, ErrWrongKey
	}
	if len(dek) != KeySize {
		return nil, ErrKeyFormat
	}
	return dek, nil
}

// DeriveKey derives an independent subkey for purpose (e.g. "blind-index",
// "record") from a data key, so one leaked subkey does not expose the others.
func DeriveKey(key []byte, purpose string) []byte {
	k, err := hkdf.Key(sha256.New, key, nil, "checkpoint/seal/"+purpose, KeySize)
	if err != nil {
		panic("seal: hkdf: " + err.Error()) // only for impossible lengths
	}
	return k
}

// Wipe overwrites key material in place.
func Wipe(b []byte) {
	clear(b)
}
