package bundle

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"
)

// LoadIdentities reads age identities from "file:PATH", "credential:NAME"
// (a systemd credential in $CREDENTIALS_DIRECTORY) or a bare path. Files
// must not be accessible to anyone but their owner.
func LoadIdentities(spec string) ([]age.Identity, error) {
	kind, arg, ok := strings.Cut(spec, ":")
	path := spec
	if ok {
		switch kind {
		case "file":
			path = arg
		case "credential":
			dir := os.Getenv("CREDENTIALS_DIRECTORY")
			if dir == "" {
				return nil, fmt.Errorf("bundle: credential %q: $CREDENTIALS_DIRECTORY is not set", arg)
			}
			path = filepath.Join(dir, arg)
		default:
			return nil, fmt.Errorf("bundle: unknown identity source %q (want file: or credential:)", kind)
		}
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("bundle: identity: %w", err)
	}
	// systemd credentials are root-owned 0400 in a private directory; a
	// plain file gets the same check as seal's key files.
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s is %v", ErrIdentityPermissions, path, st.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("bundle: identity: %w", err)
	}
	defer clear(b)
	ids, err := age.ParseIdentities(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("bundle: identity %s: %w", path, err)
	}
	return ids, nil
}

// ParseRecipients reads age recipients: each spec is an "age1…" string or
// a file of them, one per line ('#' comments allowed).
func ParseRecipients(specs []string) ([]age.Recipient, error) {
	var out []age.Recipient
	for _, s := range specs {
		if strings.HasPrefix(s, "age1") {
			r, err := age.ParseX25519Recipient(s)
			if err != nil {
				return nil, fmt.Errorf("bundle: recipient: %w", err)
			}
			out = append(out, r)
			continue
		}
		b, err := os.ReadFile(s)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("bundle: recipient %q is neither an age1 key nor a file", s)
		}
		if err != nil {
			return nil, fmt.Errorf("bundle: recipient: %w", err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			if strings.HasPrefix(line, "AGE-SECRET-KEY-") {
				id, err := age.ParseX25519Identity(line)
				if err != nil {
					return nil, fmt.Errorf("bundle: recipient file %s: %w", s, err)
				}
				out = append(out, id.Recipient())
				continue
			}
			r, err := age.ParseX25519Recipient(line)
			if err != nil {
				return nil, fmt.Errorf("bundle: recipient file %s: %w", s, err)
			}
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("bundle: no recipients")
	}
	return out, nil
}
