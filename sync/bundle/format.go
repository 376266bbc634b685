package bundle

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// Magic starts every (decrypted) bundle.
const Magic = "CPWLBND1"

// FormatVersion is the header format this package writes and reads.
const FormatVersion = 1

// ageMagic starts every binary age file.
const ageMagic = "age-encryption.org/v1\n"

// sigContext separates bundle signatures from every other use of an
// issuing-authority key.
const sigContext = "checkpoint/bundle/v1\x00"

const (
	maxHeaderSize = 64 << 10
	sigSize       = 64
	// prefixSize is magic + header length.
	prefixSize = len(Magic) + 4
)

// Header describes a bundle. It is signed, and through PayloadSHA256 the
// signature covers the records too.
type Header struct {
	Format int `json:"format"`
	// Kind and Channel name a channel bundle (channel.go); both are empty
	// in a watchlist bundle, whose header bytes are unchanged by them.
	Kind        string `json:"kind,omitempty"`
	Channel     string `json:"channel,omitempty"`
	WatchlistID string `json:"watchlist_id"`
	Sequence    uint64 `json:"sequence"`
	// BaseSequence is the version a delta applies to; 0 = full snapshot.
	BaseSequence uint64    `json:"base_sequence"`
	IssuedAt     time.Time `json:"issued_at"`
	ExpiresAt    time.Time `json:"expires_at"`
	Authority    string    `json:"authority,omitempty"`
	KeyID        string    `json:"key_id"`
	FaceModelID  string    `json:"face_model_id,omitempty"`
	// Documents, Persons and Faces count the records of the resulting state.
	Documents int64 `json:"documents"`
	Persons   int64 `json:"persons"`
	Faces     int64 `json:"faces"`
	// Puts and Deletes count the changes in the payload.
	Puts    int64 `json:"puts"`
	Deletes int64 `json:"deletes"`
	// StateHash is watchlist.StateHash of the resulting state.
	StateHash string `json:"state_hash"`
	// PayloadSize and PayloadSHA256 describe the compressed payload;
	// RawSize is its decompressed size, which bounds decompression.
	PayloadSize   int64  `json:"payload_size"`
	PayloadSHA256 string `json:"payload_sha256"`
	RawSize       int64  `json:"raw_size"`
}

// Full reports whether the bundle is a full snapshot.
func (h *Header) Full() bool { return h.BaseSequence == 0 }

// Meta is the watchlist version the bundle installs.
func (h *Header) Meta(installedAt time.Time) watchlist.Meta {
	return watchlist.Meta{
		WatchlistID: h.WatchlistID, Sequence: h.Sequence, Authority: h.Authority,
		IssuedAt: h.IssuedAt, ExpiresAt: h.ExpiresAt, FaceModelID: h.FaceModelID,
		Documents: h.Documents, Persons: h.Persons, Faces: h.Faces,
		StateHash: h.StateHash, InstalledAt: installedAt.UTC(),
	}
}

func (h *Header) validate() error {
	if h.IsChannel() {
		return h.validateChannel()
	}
	switch {
	case h.Format != FormatVersion:
		return fmt.Errorf("%w: header format %d, want %d", ErrFormat, h.Format, FormatVersion)
	case h.WatchlistID == "" || len(h.WatchlistID) > 128:
		return fmt.Errorf("%w: bad watchlist id", ErrFormat)
	case h.Sequence == 0 || h.BaseSequence >= h.Sequence || h.Sequence > watchlist.MaxSequence:
		return fmt.Errorf("%w: sequence %d with base %d (sequences run from 1 to %d)", ErrFormat, h.Sequence, h.BaseSequence, uint64(watchlist.MaxSequence))
	case h.PayloadSize < 0 || h.RawSize < 0 || h.Puts < 0 || h.Deletes < 0 ||
		h.Documents < 0 || h.Persons < 0 || h.Faces < 0:
		return fmt.Errorf("%w: negative size or count", ErrFormat)
	case len(h.PayloadSHA256) != 64:
		return fmt.Errorf("%w: bad payload hash", ErrFormat)
	case h.Full() && h.Deletes != 0:
		return fmt.Errorf("%w: full bundle with deletes", ErrFormat)
	case !h.ExpiresAt.After(h.IssuedAt):
		return fmt.Errorf("%w: expires before it is issued", ErrFormat)
	}
	if _, err := watchlist.ParseStateHash(h.StateHash); err != nil {
		return fmt.Errorf("%w: %v", ErrFormat, err)
	}
	return nil
}

// signedMessage is what the issuing authority signs: a domain-separated
// SHA-256 of the exact header bytes.
func signedMessage(header []byte) []byte {
	h := sha256.New()
	h.Write([]byte(sigContext))
	h.Write(header)
	return h.Sum(nil)
}

// writePreamble writes magic, header length, header and signature.
func writePreamble(w io.Writer, header, sig []byte) error {
	var b bytes.Buffer
	b.WriteString(Magic)
	binary.Write(&b, binary.BigEndian, uint32(len(header)))
	b.Write(header)
	b.Write(sig)
	_, err := w.Write(b.Bytes())
	return err
}

// readPreamble reads what writePreamble wrote and decodes the header
// strictly. It does not verify the signature.
func readPreamble(r io.Reader) (h *Header, header, sig []byte, err error) {
	var pre [prefixSize]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, nil, nil, readErr(err, "preamble")
	}
	if string(pre[:len(Magic)]) != Magic {
		return nil, nil, nil, fmt.Errorf("%w: bad magic", ErrFormat)
	}
	n := binary.BigEndian.Uint32(pre[len(Magic):])
	if n == 0 || n > maxHeaderSize {
		return nil, nil, nil, fmt.Errorf("%w: header size %d", ErrFormat, n)
	}
	buf := make([]byte, int(n)+sigSize)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, nil, nil, readErr(err, "header")
	}
	header, sig = buf[:n], buf[n:]
	h = new(Header)
	dec := json.NewDecoder(bytes.NewReader(header))
	dec.DisallowUnknownFields()
	if err := dec.Decode(h); err != nil {
		return nil, nil, nil, fmt.Errorf("%w: header: %v", ErrFormat, err)
	}
	if dec.More() {
		return nil, nil, nil, fmt.Errorf("%w: trailing data in header", ErrFormat)
	}
	return h, header, sig, nil
}

// readErr turns a short read into ErrTruncated, keeping other errors
// (which already carry a sentinel from the decrypting reader).
func readErr(err error, what string) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%w: in %s", ErrTruncated, what)
	}
	return err
}

// State accumulates the state hash and record counts of a set of records.
type State struct {
	Hash      watchlist.StateHash
	Documents int64
	Persons   int64
	Faces     int64
}

// Digest returns the record digest of a put.
func Digest(c *watchlist.Change) ([32]byte, error) {
	switch c.Kind {
	case watchlist.KindDocument:
		return watchlist.RecordDigest(c.Kind, c.ID, c.Document)
	case watchlist.KindPerson:
		return watchlist.RecordDigest(c.Kind, c.ID, c.Person)
	}
	return [32]byte{}, fmt.Errorf("%w: unknown kind %q", ErrFormat, c.Kind)
}

// Add includes a put's record.
func (s *State) Add(c *watchlist.Change) error {
	d, err := Digest(c)
	if err != nil {
		return err
	}
	s.AddDigest(c, d)
	return nil
}

// AddDigest includes a put's record whose digest is already known.
func (s *State) AddDigest(c *watchlist.Change, d [32]byte) {
	s.Hash.Add(d)
	s.count(c, 1)
}

// SubDigest removes a record previously added.
func (s *State) SubDigest(c *watchlist.Change, d [32]byte) {
	s.Hash.Sub(d)
	s.count(c, -1)
}

func (s *State) count(c *watchlist.Change, sign int64) {
	switch c.Kind {
	case watchlist.KindDocument:
		s.Documents += sign
	case watchlist.KindPerson:
		s.Persons += sign
		if c.Person != nil {
			s.Faces += sign * int64(len(c.Person.Faces))
		}
	}
}
