package bundle

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"time"
	"unicode"
	"unicode/utf8"

	"filippo.io/age"
	"github.com/klauspost/compress/zstd"

	"github.com/checkpoint-edge/checkpoint/sync/trust"
)

// Bundle kinds. A header without a kind is a watchlist bundle; every other
// kind is a channel bundle (FORMAT.md, "Channel bundles").
const (
	KindWatchlist  = "watchlist"
	KindTrust      = "trust"      // CSCA master lists and CRLs for the passport chip
	KindAlerts     = "alerts"     // short-lived shared-hit alerts from headquarters
	KindPrearrival = "prearrival" // per-flight pre-arrival alerts for an arrival port
)

// DefaultMaxChannelRawSize bounds the decompressed payload of a channel
// bundle when Options.MaxRawSize is 0: its records are held in memory
// until the whole file has been authenticated.
const DefaultMaxChannelRawSize = 256 << 20

// maxRecordID bounds a record id.
const maxRecordID = 256

var kindRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)

// ValidKind reports whether k can name a channel kind (not "watchlist").
func ValidKind(k string) bool { return k != KindWatchlist && kindRE.MatchString(k) }

// ValidChannel reports whether c can name a channel (a folder of the
// publication layout).
func ValidChannel(c string) bool { return watchlistIDRE.MatchString(c) }

// IsChannel reports whether the header is a channel bundle's.
func (h *Header) IsChannel() bool { return h.Kind != "" }

// KindName is the bundle's kind, KindWatchlist for a watchlist bundle.
func (h *Header) KindName() string {
	if h.Kind == "" {
		return KindWatchlist
	}
	return h.Kind
}

// ChannelPath is the folder of a channel under the base URL or the
// publication directory: "<kind>/<channel>".
func ChannelPath(kind, channel string) string { return kind + "/" + channel }

func (h *Header) validateChannel() error {
	switch {
	case h.Format != FormatVersion:
		return fmt.Errorf("%w: header format %d, want %d", ErrFormat, h.Format, FormatVersion)
	case !ValidKind(h.Kind):
		return fmt.Errorf("%w: bad kind %q", ErrFormat, h.Kind)
	case !ValidChannel(h.Channel):
		return fmt.Errorf("%w: bad channel %q", ErrFormat, h.Channel)
	case h.WatchlistID != "" || h.FaceModelID != "" || h.StateHash != "":
		return fmt.Errorf("%w: a channel bundle carries watchlist fields", ErrFormat)
	case h.Sequence == 0 || h.BaseSequence != 0:
		return fmt.Errorf("%w: channel bundle sequence %d with base %d (channels are full replacements)", ErrFormat, h.Sequence, h.BaseSequence)
	case h.Documents != 0 || h.Persons != 0 || h.Faces != 0 || h.Deletes != 0:
		return fmt.Errorf("%w: a channel bundle carries watchlist counts", ErrFormat)
	case h.PayloadSize < 0 || h.RawSize < 0 || h.Puts < 0:
		return fmt.Errorf("%w: negative size or count", ErrFormat)
	case len(h.PayloadSHA256) != 64:
		return fmt.Errorf("%w: bad payload hash", ErrFormat)
	case !h.ExpiresAt.After(h.IssuedAt):
		return fmt.Errorf("%w: expires before it is issued", ErrFormat)
	}
	return nil
}

// Record is one line of a channel bundle's payload: an id unique in the
// bundle, an optional expiry after which consumers must ignore it, and the
// kind-specific data, which this package does not interpret.
type Record struct {
	ID        string          `json:"id"`
	ExpiresAt time.Time       `json:"expires_at,omitzero"`
	Data      json.RawMessage `json:"data"`
}

// Expired reports whether the record is past its own expiry at now.
func (r *Record) Expired(now time.Time) bool {
	return !r.ExpiresAt.IsZero() && !now.Before(r.ExpiresAt)
}

// Validate checks the envelope: an id of printable characters and some
// data.
func (r *Record) Validate() error {
	if r.ID == "" || len(r.ID) > maxRecordID || !utf8.ValidString(r.ID) {
		return fmt.Errorf("bad record id (1-%d bytes of UTF-8)", maxRecordID)
	}
	for _, c := range r.ID {
		if !unicode.IsPrint(c) {
			return errors.New("record id with a control character")
		}
	}
	d := bytes.TrimSpace(r.Data)
	if len(d) == 0 || bytes.Equal(d, []byte("null")) {
		return fmt.Errorf("record %q has no data", r.ID)
	}
	return nil
}

// ChannelBuildOptions describe the channel bundle BuildChannel writes.
type ChannelBuildOptions struct {
	Kind, Channel string
	// Sequence must increase with every bundle of the channel: units
	// refuse a sequence not newer than the one installed.
	Sequence            uint64
	IssuedAt, ExpiresAt time.Time
	Authority           string
	// Key signs; it must be listed in the units' root of trust.
	Key ed25519.PrivateKey
	// Recipients encrypt (fleet key or unit keys); empty writes an
	// unencrypted bundle, for tests and inspection only.
	Recipients []age.Recipient
}

// BuildChannel writes a signed (and, with recipients, encrypted) channel
// bundle carrying recs, the channel's whole content, to w. Records are
// compressed in memory, so the clear text never touches the disk.
func BuildChannel(w io.Writer, recs []Record, o ChannelBuildOptions) (*Signed, error) {
	if len(o.Key) != ed25519.PrivateKeySize {
		return nil, errors.New("bundle: build: no signing key")
	}
	h := &Header{Format: FormatVersion, Kind: o.Kind, Channel: o.Channel, Sequence: o.Sequence,
		IssuedAt: o.IssuedAt.UTC(), ExpiresAt: o.ExpiresAt.UTC(), Authority: o.Authority,
		KeyID: trust.KeyID(o.Key.Public().(ed25519.PublicKey)), Puts: int64(len(recs))}
	var raw bytes.Buffer
	je := json.NewEncoder(&raw)
	je.SetEscapeHTML(false)
	seen := make(map[string]struct{}, len(recs))
	for i := range recs {
		r := recs[i]
		if err := r.Validate(); err != nil {
			return nil, fmt.Errorf("bundle: build: record %d: %w", i+1, err)
		}
		if _, dup := seen[r.ID]; dup {
			return nil, fmt.Errorf("bundle: build: record %d: id %q appears twice", i+1, r.ID)
		}
		seen[r.ID] = struct{}{}
		// Compact so that one record is one line whatever the caller's
		// data looks like.
		var c bytes.Buffer
		if err := json.Compact(&c, r.Data); err != nil {
			return nil, fmt.Errorf("bundle: build: record %d: %w", i+1, err)
		}
		r.Data = c.Bytes()
		r.ExpiresAt = r.ExpiresAt.UTC()
		if err := je.Encode(&r); err != nil {
			return nil, fmt.Errorf("bundle: build: %w", err)
		}
	}
	zw, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault))
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	payload := zw.EncodeAll(raw.Bytes(), nil)
	zw.Close()
	sum := sha256.Sum256(payload)
	h.PayloadSize, h.RawSize, h.PayloadSHA256 = int64(len(payload)), int64(raw.Len()), hex.EncodeToString(sum[:])
	if err := h.validate(); err != nil {
		return nil, err
	}
	header, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	sig := ed25519.Sign(o.Key, signedMessage(header))
	out := w
	var ac io.WriteCloser
	if len(o.Recipients) > 0 {
		if ac, err = age.Encrypt(w, o.Recipients...); err != nil {
			return nil, fmt.Errorf("bundle: %w", err)
		}
		out = ac
	}
	if err := writePreamble(out, header, sig); err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	if _, err := out.Write(payload); err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	if ac != nil {
		if err := ac.Close(); err != nil {
			return nil, fmt.Errorf("bundle: %w", err)
		}
	}
	return &Signed{Header: header, Signature: sig}, nil
}

// ReadHeader decrypts and authenticates a bundle's header without reading
// its payload or applying any policy: for tools that dispatch by kind.
func ReadHeader(path string, opts Options) (*Verified, error) {
	if opts.Trust == nil {
		return nil, errors.New("bundle: no root of trust")
	}
	src, v, err := openFile(path, &opts, "verify")
	if err != nil {
		return nil, err
	}
	src.close()
	return &v.Verified, nil
}

// ReadChannel verifies a channel bundle completely and returns its
// records: decryption, signer, signature, kind and channel, expiry, sizes
// (the decompressed payload is bounded by MaxRawSize, else
// DefaultMaxChannelRawSize), every record's envelope, and the payload
// hash. Records are returned only once the whole file has checked out.
// The installed sequence (rollback) is the caller's to check: it belongs
// to the unit's channel store.
func ReadChannel(ctx context.Context, path string, opts Options) (*Verified, []Record, error) {
	if opts.Trust == nil {
		return nil, nil, errors.New("bundle: no root of trust")
	}
	if opts.MaxRawSize <= 0 {
		opts.MaxRawSize = DefaultMaxChannelRawSize
	}
	src, v, err := openFile(path, &opts, "verify")
	if err != nil {
		return nil, nil, err
	}
	defer src.close()
	h := v.Header
	switch {
	case !h.IsChannel():
		return nil, nil, fmt.Errorf("%w: a watchlist bundle is not a channel bundle", ErrWrongKind)
	case opts.now().After(h.ExpiresAt):
		return nil, nil, fmt.Errorf("%w: %s/%s sequence %d expired at %s", ErrExpired, h.Kind, h.Channel, h.Sequence, h.ExpiresAt.Format(time.RFC3339))
	case h.PayloadSize > v.FileSize:
		return nil, nil, fmt.Errorf("%w: payload of %d bytes announced in a %d-byte file", ErrTruncated, h.PayloadSize, v.FileSize)
	case h.RawSize > opts.MaxRawSize:
		return nil, nil, fmt.Errorf("%w: decompressed payload of %d bytes, limit %d", ErrTooLarge, h.RawSize, opts.MaxRawSize)
	}
	p, err := newPayload(src, h, &opts)
	if err != nil {
		return nil, nil, err
	}
	defer p.close()
	recs := make([]Record, 0, min(h.Puts, 1<<16))
	seen := make(map[string]struct{}, min(h.Puts, 1<<16))
	for {
		if p.line%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
		}
		r, err := p.nextRecord(seen)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		recs = append(recs, r)
	}
	return &v.Verified, recs, nil
}

// nextRecord decodes the next channel record; io.EOF only once the whole
// payload matches the signed hash, size and count.
func (p *payload) nextRecord(seen map[string]struct{}) (Record, error) {
	if p.err != nil {
		return Record{}, p.err
	}
	r, err := p.decodeRecord(seen)
	if err != nil {
		p.err = p.finish(err)
		return Record{}, p.err
	}
	return r, nil
}

func (p *payload) decodeRecord(seen map[string]struct{}) (Record, error) {
	var r Record
	line, err := p.readLine()
	if err != nil {
		return r, err
	}
	p.line++
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return r, fmt.Errorf("%w: record %d: %v", ErrFormat, p.line, err)
	}
	if dec.More() {
		return r, fmt.Errorf("%w: record %d: trailing data", ErrFormat, p.line)
	}
	if err := r.Validate(); err != nil {
		return r, fmt.Errorf("%w: record %d: %v", ErrFormat, p.line, err)
	}
	if _, dup := seen[r.ID]; dup {
		return r, fmt.Errorf("%w: record %d: id appears twice", ErrFormat, p.line)
	}
	seen[r.ID] = struct{}{}
	// The line buffer is reused: keep a copy of the data.
	r.Data = bytes.Clone(r.Data)
	p.puts++
	if p.puts > p.h.Puts {
		return r, fmt.Errorf("%w: more records than the header announces", ErrFormat)
	}
	return r, nil
}

// publishChannel publishes a channel bundle under dir/<kind>/<channel>/.
func publishChannel(dir, bundlePath string, h *Header, now time.Time, keep int) (*IndexEntry, error) {
	return publishIn(filepath.Join(dir, h.Kind, h.Channel), &Index{Format: IndexFormat, Kind: h.Kind, Channel: h.Channel},
		bundlePath, h, now, keep)
}

// NextSequence is the sequence for the next bundle of a channel published
// under dir: one past the index's latest, and never below the Unix time in
// seconds, so that a lost index does not make units refuse new bundles as
// rollbacks.
func NextSequence(dir, kind, channel string, now time.Time) (uint64, error) {
	next := uint64(max(now.Unix(), 1))
	f, err := os.Open(filepath.Join(dir, kind, channel, IndexFile))
	if errors.Is(err, fs.ErrNotExist) {
		return next, nil
	}
	if err != nil {
		return 0, fmt.Errorf("bundle: %w", err)
	}
	defer f.Close()
	ix, err := ReadIndex(f)
	if err != nil {
		return 0, err
	}
	return max(next, ix.Latest+1), nil
}

// name is what the index is for: "<kind>/<channel>" or the watchlist id.
func (ix *Index) name() string {
	if ix.Kind != "" || ix.Channel != "" {
		return ChannelPath(ix.Kind, ix.Channel)
	}
	return ix.WatchlistID
}

func (ix *Index) validName() bool {
	if ix.Kind != "" || ix.Channel != "" {
		return ValidKind(ix.Kind) && ValidChannel(ix.Channel) && ix.WatchlistID == ""
	}
	return watchlistIDRE.MatchString(ix.WatchlistID)
}

// IsFor reports whether the index is the one of kind and channel (kind
// KindWatchlist or "": the watchlist named channel).
func (ix *Index) IsFor(kind, channel string) bool {
	if kind == "" || kind == KindWatchlist {
		return ix.Kind == "" && ix.Channel == "" && ix.WatchlistID == channel
	}
	return ix.Kind == kind && ix.Channel == channel
}
