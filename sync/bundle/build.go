package bundle

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"filippo.io/age"
	"github.com/klauspost/compress/zstd"

	"github.com/checkpoint-edge/checkpoint/sync/trust"
	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// BuildOptions describe the bundle Build writes.
type BuildOptions struct {
	WatchlistID  string
	Sequence     uint64
	BaseSequence uint64 // 0 = full snapshot
	IssuedAt     time.Time
	ExpiresAt    time.Time
	Authority    string
	FaceModelID  string
	// Key is the issuing authority's signing key; it must be listed in the
	// units' root of trust.
	Key ed25519.PrivateKey
	// Recipients are the age recipients (fleet key or unit keys). Empty
	// writes an unencrypted bundle, which units refuse unless told
	// otherwise: for tests and for inspection only.
	Recipients []age.Recipient
	// State is the resulting state (hash and counts). Deltas need it (the
	// changes alone do not determine it); for full snapshots it is computed
	// from the records and, if set, must agree.
	State *State
	// TempDir holds the compressed payload while the header is computed; it
	// is encrypted there with a throw-away key. "" = os.TempDir().
	TempDir string
}

// Signed is a bundle's header as signed, published next to the bundle
// (FILE.header.json) so that a publisher can index it without the
// decryption key. It holds no record content.
type Signed struct {
	Header    json.RawMessage `json:"header"`
	Signature []byte          `json:"signature"`
}

// Decode parses the header (without verifying the signature).
func (s *Signed) Decode() (*Header, error) {
	h := new(Header)
	if err := json.Unmarshal(s.Header, h); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	return h, h.validate()
}

// Verify checks the signature against the root of trust at time now.
func (s *Signed) Verify(root *trust.Root, now time.Time) (*Header, error) {
	h, err := s.Decode()
	if err != nil {
		return nil, err
	}
	return h, checkSignature(root, h, s.Header, s.Signature, now)
}

// Build reads changes from src and writes a signed (and, with recipients,
// encrypted) bundle to w.
func Build(ctx context.Context, w io.Writer, src watchlist.ChangeSource, opts BuildOptions) (*Signed, error) {
	if len(opts.Key) != ed25519.PrivateKeySize {
		return nil, errors.New("bundle: build: no signing key")
	}
	if !opts.Full() && opts.State == nil {
		return nil, errors.New("bundle: build: a delta needs the resulting state")
	}
	if err := watchlist.CheckSequence(opts.Sequence); err != nil {
		return nil, fmt.Errorf("bundle: build: %w", err)
	}
	h := &Header{
		Format: FormatVersion, WatchlistID: opts.WatchlistID, Sequence: opts.Sequence,
		BaseSequence: opts.BaseSequence, IssuedAt: opts.IssuedAt.UTC(), ExpiresAt: opts.ExpiresAt.UTC(),
		Authority: opts.Authority, KeyID: trust.KeyID(opts.Key.Public().(ed25519.PublicKey)),
		FaceModelID: opts.FaceModelID,
	}

	// The payload goes to a temporary file first because the header
	// carries its size and hash. It is encrypted to a key that only lives
	// in this function, so the records never rest in clear on disk.
	eph, err := age.GenerateX25519Identity()
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	tmp, err := os.CreateTemp(opts.TempDir, ".bundle-payload-*")
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	defer func() { tmp.Close(); os.Remove(tmp.Name()) }()

	enc, err := age.Encrypt(tmp, eph.Recipient())
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	ph := sha256.New()
	pc := &countWriter{w: io.MultiWriter(enc, ph)}
	zw, err := zstd.NewWriter(pc, zstd.WithEncoderLevel(zstd.SpeedDefault))
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	rc := &countWriter{w: zw}
	je := json.NewEncoder(rc)
	je.SetEscapeHTML(false)

	var st State
	seen := map[string]struct{}{}
	for n := 0; ; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		c, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("bundle: build: %w", err)
		}
		if err := c.Validate(); err != nil {
			return nil, fmt.Errorf("bundle: build: change %d: %w", n+1, err)
		}
		k := string(c.Kind) + "\x00" + c.ID
		if _, dup := seen[k]; dup {
			return nil, fmt.Errorf("bundle: build: change %d: %s %q appears twice", n+1, c.Kind, c.ID)
		}
		seen[k] = struct{}{}
		switch c.Op {
		case watchlist.OpPut:
			h.Puts++
			if opts.Full() {
				if err := st.Add(&c); err != nil {
					return nil, err
				}
			}
		case watchlist.OpDelete:
			if opts.Full() {
				return nil, fmt.Errorf("bundle: build: change %d: delete in a full snapshot", n+1)
			}
			h.Deletes++
		}
		if err := je.Encode(&c); err != nil {
			return nil, fmt.Errorf("bundle: build: %w", err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	if opts.Full() {
		if opts.State != nil && (opts.State.Hash.String() != st.Hash.String() ||
			opts.State.Documents != st.Documents || opts.State.Persons != st.Persons || opts.State.Faces != st.Faces) {
			return nil, fmt.Errorf("%w: records disagree with the given state", ErrStateMismatch)
		}
	} else {
		st = *opts.State
	}
	h.Documents, h.Persons, h.Faces, h.StateHash = st.Documents, st.Persons, st.Faces, st.Hash.String()
	h.PayloadSize, h.RawSize = pc.n, rc.n
	h.PayloadSHA256 = hex.EncodeToString(ph.Sum(nil))
	if err := h.validate(); err != nil {
		return nil, err
	}
	header, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	sig := ed25519.Sign(opts.Key, signedMessage(header))

	out := w
	var ac io.WriteCloser
	if len(opts.Recipients) > 0 {
		if ac, err = age.Encrypt(w, opts.Recipients...); err != nil {
			return nil, fmt.Errorf("bundle: %w", err)
		}
		out = ac
	}
	if err := writePreamble(out, header, sig); err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	pr, err := age.Decrypt(tmp, eph)
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	if n, err := io.Copy(out, pr); err != nil || n != h.PayloadSize {
		return nil, fmt.Errorf("bundle: copy payload (%d of %d bytes): %v", n, h.PayloadSize, err)
	}
	if ac != nil {
		if err := ac.Close(); err != nil {
			return nil, fmt.Errorf("bundle: %w", err)
		}
	}
	return &Signed{Header: header, Signature: sig}, nil
}

// Full reports whether the options describe a full snapshot.
func (o *BuildOptions) Full() bool { return o.BaseSequence == 0 }

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
