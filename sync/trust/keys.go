package trust

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/checkpoint-edge/checkpoint/internal/atomicfile"
)

// KeyID names a public key: the first 8 bytes of its SHA-256, in hex. It
// is a label for look-ups, not a security boundary: signatures are always
// checked against the full key listed in the trust file.
func KeyID(pub ed25519.PublicKey) string {
	s := sha256.Sum256(pub)
	return hex.EncodeToString(s[:8])
}

// EncodePublicKey is the text form of a public key used in trust files and
// on the command line: standard base64 of the 32 raw bytes.
func EncodePublicKey(pub ed25519.PublicKey) string {
	return base64.StdEncoding.EncodeToString(pub)
}

// DecodePublicKey reads the EncodePublicKey form.
func DecodePublicKey(s string) (ed25519.PublicKey, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: bad public key %q", ErrFormat, s)
	}
	return ed25519.PublicKey(b), nil
}

// GenerateKey returns a new Ed25519 key pair.
func GenerateKey() (ed25519.PrivateKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	return priv, err
}

// WritePrivateKey writes priv as PKCS#8 PEM with mode 0600 (readable by
// OpenSSL) and its public key next to it as path+".pub". It refuses to
// overwrite an existing key.
func WritePrivateKey(path string, priv ed25519.PrivateKey) error {
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("trust: %s exists: refusing to overwrite a key", path)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return fmt.Errorf("trust: %w", err)
	}
	if err := atomicfile.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return err
	}
	clear(der)
	pubDER, err := x509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		return fmt.Errorf("trust: %w", err)
	}
	return atomicfile.WriteFile(path+".pub", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644)
}

// ReadPrivateKey reads a key written by WritePrivateKey, refusing files
// that anyone but the owner can access.
func ReadPrivateKey(path string) (ed25519.PrivateKey, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("trust: key file: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s is %v", ErrKeyPermissions, path, st.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("trust: key file: %w", err)
	}
	defer clear(b)
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%w: %s holds no PEM private key", ErrFormat, path)
	}
	defer clear(blk.Bytes)
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrFormat, path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: %s is not an Ed25519 key", ErrFormat, path)
	}
	return priv, nil
}

// ReadPublicKey reads a public key from a file: a PEM public key (the .pub
// written by WritePrivateKey), a PEM private key (its public half), or the
// base64 text form. A string that is not a file is decoded as base64.
func ReadPublicKey(pathOrBase64 string) (ed25519.PublicKey, error) {
	b, err := os.ReadFile(pathOrBase64)
	if errors.Is(err, fs.ErrNotExist) {
		return DecodePublicKey(pathOrBase64)
	}
	if err != nil {
		return nil, fmt.Errorf("trust: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return DecodePublicKey(string(b))
	}
	switch blk.Type {
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrFormat, pathOrBase64, err)
		}
		pub, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("%w: %s is not an Ed25519 key", ErrFormat, pathOrBase64)
		}
		return pub, nil
	case "PRIVATE KEY":
		priv, err := ReadPrivateKey(pathOrBase64)
		if err != nil {
			return nil, err
		}
		return priv.Public().(ed25519.PublicKey), nil
	}
	return nil, fmt.Errorf("%w: %s: unexpected PEM block %q", ErrFormat, pathOrBase64, blk.Type)
}
