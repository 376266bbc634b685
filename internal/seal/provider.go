package seal

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/checkpoint-edge/checkpoint/internal/atomicfile"
)

// KeyProvider supplies the key-encryption key.
type KeyProvider interface {
	// KEK returns a copy of the 32-byte key; the caller wipes it.
	KEK() ([]byte, error)
	// String describes the source without revealing the key.
	String() string
}

// FileKey reads the KEK from a file that only its owner may read.
type FileKey struct{ Path string }

func (f FileKey) String() string { return "file:" + f.Path }

// KEK implements KeyProvider.
func (f FileKey) KEK() ([]byte, error) {
	st, err := os.Stat(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNoKey, f.Path)
	}
	if err != nil {
		return nil, fmt.Errorf("seal: key file: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s is %v", ErrKeyPermissions, f.Path, st.Mode().Perm())
	}
	b, err := os.ReadFile(f.Path)
	if err != nil {
		return nil, fmt.Errorf("seal: key file: %w", err)
	}
	defer Wipe(b)
	return decodeKey(b)
}

// CredentialKey reads the KEK from a systemd credential (LoadCredential= or
// LoadCredentialEncrypted=, the latter sealed to the TPM by systemd-creds).
type CredentialKey struct {
	Name string
	// Dir overrides $CREDENTIALS_DIRECTORY (tests).
	Dir string
}

func (c CredentialKey) String() string { return "credential:" + c.Name }

// KEK implements KeyProvider.
func (c CredentialKey) KEK() ([]byte, error) {
	dir := c.Dir
	if dir == "" {
		dir = os.Getenv("CREDENTIALS_DIRECTORY")
	}
	if dir == "" {
		return nil, fmt.Errorf("%w: credential %q: $CREDENTIALS_DIRECTORY is not set (not started by systemd with LoadCredential=?)", ErrNoKey, c.Name)
	}
	b, err := os.ReadFile(filepath.Join(dir, c.Name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: credential %q", ErrNoKey, c.Name)
	}
	if err != nil {
		return nil, fmt.Errorf("seal: credential %q: %w", c.Name, err)
	}
	defer Wipe(b)
	return decodeKey(b)
}

// EnvKey reads the KEK from an environment variable. For tests and demos
// only: the environment of a process is visible to its owner and to root.
type EnvKey struct{ Var string }

func (e EnvKey) String() string { return "env:" + e.Var }

// KEK implements KeyProvider.
func (e EnvKey) KEK() ([]byte, error) {
	v, ok := os.LookupEnv(e.Var)
	if !ok || v == "" {
		return nil, fmt.Errorf("%w: environment variable %s", ErrNoKey, e.Var)
	}
	return decodeKey([]byte(v))
}

// ParseProvider turns "file:PATH", "credential:NAME" or "env:VAR" into a
// KeyProvider. A bare path means a key file.
func ParseProvider(spec string) (KeyProvider, error) {
	kind, arg, ok := strings.Cut(spec, ":")
	if !ok {
		if spec == "" {
			return nil, errors.New("seal: empty key provider")
		}
		return FileKey{Path: spec}, nil
	}
	if arg == "" {
		return nil, fmt.Errorf("seal: key provider %q: missing argument", spec)
	}
	switch kind {
	case "file":
		return FileKey{Path: arg}, nil
	case "credential":
		return CredentialKey{Name: arg}, nil
	case "env":
		return EnvKey{Var: arg}, nil
	}
	return nil, fmt.Errorf("seal: unknown key provider %q (want file:, credential: or env:)", kind)
}

// GenerateKeyFile writes a new random key, hex-encoded, to path with mode
// 0600. It refuses to overwrite an existing key.
func GenerateKeyFile(path string) error {
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("seal: %s exists: refusing to overwrite a key", path)
	}
	k := NewKey()
	defer Wipe(k)
	buf := make([]byte, hex.EncodedLen(len(k))+1)
	hex.Encode(buf, k)
	buf[len(buf)-1] = '\n'
	defer Wipe(buf)
	return atomicfile.WriteFile(path, buf, 0o600)
}

// decodeKey accepts 32 raw bytes, 64 hex digits or standard base64 of 32
// bytes, ignoring surrounding white space.
func decodeKey(b []byte) ([]byte, error) {
	if len(b) == KeySize {
		return bytes.Clone(b), nil
	}
	t := bytes.TrimSpace(b)
	if len(t) == 2*KeySize {
		k := make([]byte, KeySize)
		if _, err := hex.Decode(k, t); err == nil {
			return k, nil
		}
	}
	k := make([]byte, base64.StdEncoding.DecodedLen(len(t)))
	n, err := base64.StdEncoding.Decode(k, t)
	if err == nil && n == KeySize {
		return k[:n], nil
	}
	return nil, ErrKeyFormat
}
