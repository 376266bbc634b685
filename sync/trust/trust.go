package trust

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"time"

	"github.com/checkpoint-edge/checkpoint/internal/atomicfile"
)

// FileType marks a trust file so that a bundle or other signed JSON cannot
// be passed off as one.
const FileType = "checkpoint-trust/v1"

// sigContext separates trust-file signatures from every other use of the
// root keys.
const sigContext = "checkpoint/trust/v1\x00"

// maxFileSize bounds what Parse reads: a trust file is a few kilobytes.
const maxFileSize = 1 << 20

// RootKey is one of the n keys whose quorum signs trust files.
type RootKey struct {
	KeyID     string `json:"key_id"`
	PublicKey string `json:"public_key"`
}

// Signer is an issuing-authority key allowed to sign watchlist bundles.
type Signer struct {
	KeyID     string    `json:"key_id"`
	Name      string    `json:"name,omitempty"`
	PublicKey string    `json:"public_key"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	Revoked   bool      `json:"revoked,omitempty"`
	// RevokedAt is informational: a revoked key is refused for every
	// bundle, whatever date it claims, since a stolen key can backdate.
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	Reason    string     `json:"reason,omitempty"`
}

// Root is the signed content of a trust file.
type Root struct {
	Type      string    `json:"type"`
	Version   uint64    `json:"version"`
	IssuedAt  time.Time `json:"issued_at"`
	Threshold int       `json:"threshold"`
	RootKeys  []RootKey `json:"root_keys"`
	Signers   []Signer  `json:"signers"`

	raw []byte // the signed file this Root was parsed from, if any
}

// Signature is one root key's signature over the signed body.
type Signature struct {
	KeyID string `json:"key_id"`
	Sig   string `json:"sig"`
}

type envelope struct {
	Signed     json.RawMessage `json:"signed"`
	Signatures []Signature     `json:"signatures"`
}

// New returns version 1 of a trust root with the given root keys and
// threshold and no signers.
func New(rootKeys []ed25519.PublicKey, threshold int, now time.Time) (*Root, error) {
	r := &Root{Type: FileType, Version: 1, IssuedAt: now.UTC(), Threshold: threshold}
	for _, k := range rootKeys {
		r.RootKeys = append(r.RootKeys, RootKey{KeyID: KeyID(k), PublicKey: EncodePublicKey(k)})
	}
	return r, r.Validate()
}

// Validate checks the root's internal consistency.
func (r *Root) Validate() error {
	if r.Type != FileType {
		return fmt.Errorf("%w: type %q, want %q", ErrFormat, r.Type, FileType)
	}
	if r.Version == 0 {
		return fmt.Errorf("%w: version 0", ErrFormat)
	}
	if len(r.RootKeys) == 0 || r.Threshold < 1 || r.Threshold > len(r.RootKeys) {
		return fmt.Errorf("%w: threshold %d of %d root keys", ErrFormat, r.Threshold, len(r.RootKeys))
	}
	seen := map[string]bool{}
	for _, k := range r.RootKeys {
		pub, err := DecodePublicKey(k.PublicKey)
		if err != nil {
			return err
		}
		if KeyID(pub) != k.KeyID {
			return fmt.Errorf("%w: root key id %q does not match its key", ErrFormat, k.KeyID)
		}
		if seen[k.KeyID] {
			return fmt.Errorf("%w: duplicate root key %s", ErrFormat, k.KeyID)
		}
		seen[k.KeyID] = true
	}
	seen = map[string]bool{}
	for _, s := range r.Signers {
		pub, err := DecodePublicKey(s.PublicKey)
		if err != nil {
			return err
		}
		if KeyID(pub) != s.KeyID {
			return fmt.Errorf("%w: signer key id %q does not match its key", ErrFormat, s.KeyID)
		}
		if seen[s.KeyID] {
			return fmt.Errorf("%w: duplicate signer %s", ErrFormat, s.KeyID)
		}
		if !s.NotAfter.After(s.NotBefore) {
			return fmt.Errorf("%w: signer %s: not_after is not after not_before", ErrFormat, s.KeyID)
		}
		seen[s.KeyID] = true
	}
	return nil
}

// Next returns a copy of r with the version incremented, ready to be
// changed and signed.
func (r *Root) Next(now time.Time) *Root {
	n := &Root{
		Type: r.Type, Version: r.Version + 1, IssuedAt: now.UTC(), Threshold: r.Threshold,
		RootKeys: slices.Clone(r.RootKeys), Signers: slices.Clone(r.Signers),
	}
	return n
}

// AddSigner lists a bundle-signing key valid from notBefore to notAfter.
func (r *Root) AddSigner(name string, pub ed25519.PublicKey, notBefore, notAfter time.Time) error {
	id := KeyID(pub)
	if i := r.signerIndex(id); i >= 0 {
		return fmt.Errorf("%w: signer %s already listed", ErrFormat, id)
	}
	r.Signers = append(r.Signers, Signer{
		KeyID: id, Name: name, PublicKey: EncodePublicKey(pub),
		NotBefore: notBefore.UTC(), NotAfter: notAfter.UTC(),
	})
	return r.Validate()
}

// RevokeSigner marks a signing key revoked.
func (r *Root) RevokeSigner(keyID, reason string, at time.Time) error {
	i := r.signerIndex(keyID)
	if i < 0 {
		return fmt.Errorf("%w: %s", ErrUnknownSigner, keyID)
	}
	at = at.UTC()
	r.Signers[i].Revoked, r.Signers[i].RevokedAt, r.Signers[i].Reason = true, &at, reason
	return nil
}

func (r *Root) signerIndex(keyID string) int {
	return slices.IndexFunc(r.Signers, func(s Signer) bool { return s.KeyID == keyID })
}

// Authorize returns the public key of signer keyID if it may sign at time
// at: listed, not revoked, within its validity period.
func (r *Root) Authorize(keyID string, at time.Time) (ed25519.PublicKey, error) {
	i := r.signerIndex(keyID)
	if i < 0 {
		return nil, fmt.Errorf("%w: %s", ErrUnknownSigner, keyID)
	}
	s := r.Signers[i]
	if s.Revoked {
		return nil, fmt.Errorf("%w: %s", ErrSignerRevoked, keyID)
	}
	if at.Before(s.NotBefore) || at.After(s.NotAfter) {
		return nil, fmt.Errorf("%w: %s valid %s to %s", ErrSignerExpired, keyID,
			s.NotBefore.Format(time.RFC3339), s.NotAfter.Format(time.RFC3339))
	}
	return DecodePublicKey(s.PublicKey)
}

// Bytes returns the signed file r was parsed from or last signed into.
func (r *Root) Bytes() []byte { return r.raw }

// Sign serialises r and signs it with keys, which must be root keys of r.
// Fewer than Threshold keys give a partial file that AddSignatures can
// complete (custodians sign one after another).
func Sign(r *Root, keys ...ed25519.PrivateKey) ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	body, err := json.MarshalIndent(r, "  ", "  ")
	if err != nil {
		return nil, fmt.Errorf("trust: %w", err)
	}
	out, err := addSignatures(envelope{Signed: body}, r, keys)
	if err == nil {
		r.raw = out
	}
	return out, err
}

// AddSignatures adds signatures by keys to a (possibly partially) signed
// trust file, without otherwise changing it.
func AddSignatures(file []byte, keys ...ed25519.PrivateKey) ([]byte, error) {
	env, r, err := decode(file)
	if err != nil {
		return nil, err
	}
	return addSignatures(env, r, keys)
}

// message is what root keys sign: the signed body with insignificant white
// space removed (JSON encoders re-indent embedded raw JSON), prefixed with
// the signature context.
func message(signed []byte) []byte {
	var b bytes.Buffer
	b.WriteString(sigContext)
	if err := json.Compact(&b, signed); err != nil {
		b.Write(signed) // undecodable bodies fail later anyway
	}
	return b.Bytes()
}

func addSignatures(env envelope, r *Root, keys []ed25519.PrivateKey) ([]byte, error) {
	msg := message(env.Signed)
	for _, k := range keys {
		pub := k.Public().(ed25519.PublicKey)
		id := KeyID(pub)
		if !slices.ContainsFunc(r.RootKeys, func(rk RootKey) bool { return rk.KeyID == id && rk.PublicKey == EncodePublicKey(pub) }) {
			return nil, fmt.Errorf("%w: key %s is not a root key of this trust file", ErrFormat, id)
		}
		env.Signatures = slices.DeleteFunc(env.Signatures, func(s Signature) bool { return s.KeyID == id })
		env.Signatures = append(env.Signatures, Signature{KeyID: id, Sig: base64.StdEncoding.EncodeToString(ed25519.Sign(k, msg))})
	}
	out, err := json.MarshalIndent(env, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("trust: %w", err)
	}
	return append(out, '\n'), nil
}

func decode(file []byte) (envelope, *Root, error) {
	var env envelope
	if len(file) > maxFileSize {
		return env, nil, fmt.Errorf("%w: larger than %d bytes", ErrFormat, maxFileSize)
	}
	dec := json.NewDecoder(bytes.NewReader(file))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		return env, nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	r := new(Root)
	dec = json.NewDecoder(bytes.NewReader(env.Signed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(r); err != nil {
		return env, nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	if err := r.Validate(); err != nil {
		return env, nil, err
	}
	r.raw = file
	return env, r, nil
}

// Decode reads a trust file WITHOUT checking its signatures: only for
// showing and co-signing a partially signed file, never for trusting one.
func Decode(file []byte) (*Root, error) {
	_, r, err := decode(file)
	return r, err
}

// countValid counts distinct keys of by (root keys with threshold k) that
// produced a valid signature in env.
func countValid(env envelope, by *Root) int {
	msg := message(env.Signed)
	valid := map[string]bool{}
	for _, s := range env.Signatures {
		i := slices.IndexFunc(by.RootKeys, func(rk RootKey) bool { return rk.KeyID == s.KeyID })
		if i < 0 || valid[s.KeyID] {
			continue
		}
		pub, err := DecodePublicKey(by.RootKeys[i].PublicKey)
		if err != nil {
			continue
		}
		sig, err := base64.StdEncoding.DecodeString(s.Sig)
		if err != nil || !ed25519.Verify(pub, msg, sig) {
			continue
		}
		valid[s.KeyID] = true
	}
	return len(valid)
}

// Parse reads a trust file and checks that a threshold of its own root
// keys signed it. This is how a unit accepts its first trust file at
// install, pinning those root keys; later files go through Update.
func Parse(file []byte) (*Root, error) {
	env, r, err := decode(file)
	if err != nil {
		return nil, err
	}
	if n := countValid(env, r); n < r.Threshold {
		return nil, fmt.Errorf("%w: %d of %d required", ErrThreshold, n, r.Threshold)
	}
	return r, nil
}

// Update verifies a newer trust file against r: a higher version, signed
// by r's quorum and, if the root keys change, by the new quorum as well.
func (r *Root) Update(file []byte) (*Root, error) {
	env, next, err := decode(file)
	if err != nil {
		return nil, err
	}
	if n := countValid(env, r); n < r.Threshold {
		return nil, fmt.Errorf("%w: %d of %d installed root keys signed", ErrThreshold, n, r.Threshold)
	}
	if n := countValid(env, next); n < next.Threshold {
		return nil, fmt.Errorf("%w: %d of %d new root keys signed", ErrThreshold, n, next.Threshold)
	}
	if next.Version <= r.Version {
		return nil, fmt.Errorf("%w: version %d, installed %d", ErrNotNewer, next.Version, r.Version)
	}
	return next, nil
}

// Load reads and verifies the installed trust file at path.
func Load(path string) (*Root, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("trust: %w", err)
	}
	return Parse(b)
}

// Install verifies file as an update of the trust file at path (or, when
// none is installed yet, as a first install) and replaces it atomically.
func Install(path string, file []byte) (*Root, error) {
	var next *Root
	cur, err := Load(path)
	switch {
	case err == nil:
		next, err = cur.Update(file)
	case errors.Is(err, fs.ErrNotExist):
		next, err = Parse(file)
	}
	if err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(path, file, 0o644); err != nil {
		return nil, err
	}
	return next, nil
}
