package bundle

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/klauspost/compress/zstd"

	"github.com/checkpoint-edge/checkpoint/sync/trust"
	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// Default limits; Options override them.
const (
	DefaultMaxBundleSize = 4 << 30
	DefaultMaxRawSize    = 32 << 30
	DefaultMaxLineSize   = 16 << 20
	// maxWindow bounds the memory a zstd frame may ask for.
	maxWindow = 16 << 20
)

// Store is what Install applies bundles to; *watchlist.Store implements it.
type Store interface {
	Meta() watchlist.Meta
	ReplaceAll(ctx context.Context, meta watchlist.Meta, src watchlist.ChangeSource) error
	ApplyDelta(ctx context.Context, meta watchlist.Meta, baseSeq uint64, src watchlist.ChangeSource) error
}

// Options configure verification.
type Options struct {
	// Trust lists the authorised signing keys. Required.
	Trust *trust.Root
	// Identities decrypt bundles (the unit's or the fleet's age identity).
	Identities []age.Identity
	// AllowUnencrypted accepts bundles that are signed but not encrypted.
	AllowUnencrypted bool
	// Now is the clock (tests); nil = time.Now.
	Now func() time.Time
	// MaxBundleSize bounds the file; MaxRawSize the decompressed payload;
	// MaxLineSize one record. 0 = the defaults.
	MaxBundleSize int64
	MaxRawSize    int64
	MaxLineSize   int
	// Progress, if set, is told how many bytes of the file each phase
	// ("verify", then "apply") has read.
	Progress func(phase string, done, total int64)
	// Logger receives counts and durations, never record content. nil
	// discards.
	Logger *slog.Logger
}

func (o *Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func (o *Options) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (o *Options) maxBundle() int64 { return orDefault(o.MaxBundleSize, DefaultMaxBundleSize) }
func (o *Options) maxRaw() int64    { return orDefault(o.MaxRawSize, DefaultMaxRawSize) }
func (o *Options) maxLine() int     { return int(orDefault(int64(o.MaxLineSize), DefaultMaxLineSize)) }

func orDefault(v, d int64) int64 {
	if v > 0 {
		return v
	}
	return d
}

// Verified describes a bundle that passed verification.
type Verified struct {
	Header    *Header
	Encrypted bool
	// FileSize is the size of the bundle file.
	FileSize int64
	// SignerName is the signer's name in the root of trust.
	SignerName string
}

// Verify checks a bundle completely without applying it: decryption,
// signature and signer, header policy against installed (nil skips the
// version checks, e.g. to inspect a file), payload hash, decompression
// bounds and every record. For full bundles it also checks the state hash.
func Verify(ctx context.Context, path string, installed *watchlist.Meta, opts Options) (*Verified, error) {
	v, err := verify(ctx, path, installed, opts, true)
	if err != nil {
		return nil, err
	}
	return &v.Verified, nil
}

// verify checks a bundle. With records set it also decodes and validates
// every record and, for a full bundle, recomputes the state hash; Install
// leaves both to its apply pass, where the store checks each record and
// the state hash before committing, so the first pass only authenticates
// and bounds the payload (decryption, hash, sizes, record count).
func verify(ctx context.Context, path string, installed *watchlist.Meta, opts Options, records bool) (*opened, error) {
	if opts.Trust == nil {
		return nil, errors.New("bundle: no root of trust")
	}
	src, v, err := openBundle(path, installed, &opts, "verify")
	if err != nil {
		return nil, err
	}
	defer src.close()
	p, err := newPayload(src, v.Header, &opts)
	if err != nil {
		return nil, err
	}
	defer p.close()
	if !records {
		return v, p.scan(ctx)
	}
	var st State
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		c, err := p.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if v.Header.Full() {
			if err := st.Add(&c); err != nil {
				return nil, err
			}
		}
	}
	if v.Header.Full() {
		h := v.Header
		if st.Hash.String() != h.StateHash || st.Documents != h.Documents || st.Persons != h.Persons || st.Faces != h.Faces {
			return nil, fmt.Errorf("%w: records do not hash to the signed state", ErrStateMismatch)
		}
	}
	return v, nil
}

// Install verifies the bundle at path against the store's installed
// version, then applies it through the store's atomic swap. The file is
// read a second time for the apply, checked again against the same hash;
// any error leaves the store unchanged.
func Install(ctx context.Context, path string, store Store, opts Options) (*Verified, error) {
	log := opts.logger()
	installed := SignedBase(store)
	t0 := time.Now()
	v, err := verify(ctx, path, &installed, opts, false)
	if err != nil {
		log.Warn("bundle refused", "err", err, "installed_sequence", installed.Sequence)
		return nil, err
	}
	t1 := time.Now()
	src, v2, err := openBundle(path, &installed, &opts, "apply")
	if err != nil {
		return nil, err
	}
	defer src.close()
	if !bytes.Equal(v2.headerBytes, v.headerBytes) {
		return nil, fmt.Errorf("%w: file changed during install", ErrFormat)
	}
	p, err := newPayload(src, v2.Header, &opts)
	if err != nil {
		return nil, err
	}
	defer p.close()
	h := v.Header
	meta := h.Meta(opts.now())
	if h.Full() {
		err = store.ReplaceAll(ctx, meta, p)
	} else {
		err = store.ApplyDelta(ctx, meta, h.BaseSequence, p)
	}
	if err != nil {
		err = storeErr(err)
		log.Warn("bundle apply failed; installed version kept", "err", err, "sequence", h.Sequence,
			"installed_sequence", installed.Sequence)
		return nil, err
	}
	log.Info("bundle installed", "watchlist", h.WatchlistID, "sequence", h.Sequence, "base", h.BaseSequence,
		"puts", h.Puts, "deletes", h.Deletes, "verify", t1.Sub(t0), "apply", time.Since(t1))
	return &v.Verified, nil
}

// storeErr adds this package's sentinels to the store's refusals.
func storeErr(err error) error {
	switch {
	case errors.Is(err, watchlist.ErrStateMismatch):
		return fmt.Errorf("%w: %w", ErrStateMismatch, err)
	case errors.Is(err, watchlist.ErrBaseMismatch):
		return fmt.Errorf("%w: %w", ErrBaseMismatch, err)
	case errors.Is(err, watchlist.ErrNotNewer):
		return fmt.Errorf("%w: %w", ErrRollback, err)
	}
	return err
}

// opened is a bundle whose preamble has been read and checked.
type opened struct {
	Verified
	headerBytes []byte
}

// source is the decrypted stream of a bundle file.
type source struct {
	f     *os.File
	file  *fileReader
	inner *errReader
}

func (s *source) close() { s.f.Close() }

func openBundle(path string, installed *watchlist.Meta, o *Options, phase string) (*source, *opened, error) {
	src, v, err := openFile(path, o, phase)
	if err != nil {
		return nil, nil, err
	}
	if err := checkHeader(v, installed, o, v.FileSize); err != nil {
		src.close()
		return nil, nil, err
	}
	return src, v, nil
}

// openFile opens, decrypts and authenticates a bundle of any kind, leaving
// the policy checks to the caller.
func openFile(path string, o *Options, phase string) (*source, *opened, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("bundle: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("bundle: %w", err)
	}
	if st.Size() > o.maxBundle() {
		f.Close()
		return nil, nil, fmt.Errorf("%w: file is %d bytes, limit %d", ErrTooLarge, st.Size(), o.maxBundle())
	}
	src := &source{f: f}
	src.file = &fileReader{r: bufio.NewReaderSize(f, 256<<10), total: st.Size(), phase: phase, progress: o.Progress}
	v, err := src.start(o)
	if err == nil {
		v.FileSize = st.Size()
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return src, v, nil
}

// start detects encryption, decrypts, and reads and authenticates the
// preamble.
func (s *source) start(o *Options) (*opened, error) {
	v := new(opened)
	peek, err := s.file.r.Peek(len(ageMagic))
	switch {
	case err == nil && string(peek) == ageMagic:
		if len(o.Identities) == 0 {
			return nil, fmt.Errorf("%w: no identity to decrypt with", ErrNotForThisUnit)
		}
		ar, err := age.Decrypt(s.file, o.Identities...)
		if err != nil {
			var nm *age.NoIdentityMatchError
			switch {
			case errors.As(err, &nm):
				return nil, fmt.Errorf("%w: %v", ErrNotForThisUnit, err)
			case s.file.eof:
				return nil, fmt.Errorf("%w: in encryption header", ErrTruncated)
			}
			return nil, fmt.Errorf("%w: %v", ErrDecrypt, err)
		}
		s.inner = &errReader{r: ar, file: s.file}
		v.Encrypted = true
	case len(peek) >= len(Magic) && string(peek[:len(Magic)]) == Magic:
		if !o.AllowUnencrypted {
			return nil, ErrUnencrypted
		}
		s.inner = &errReader{r: s.file, file: s.file}
	case err != nil && (strings.HasPrefix(ageMagic, string(peek)) || strings.HasPrefix(Magic, string(peek))):
		return nil, fmt.Errorf("%w: file too short to be a bundle", ErrTruncated)
	default:
		return nil, fmt.Errorf("%w: not a bundle (no age or bundle magic)", ErrFormat)
	}
	h, header, sig, err := readPreamble(s.inner)
	if err != nil {
		return nil, err
	}
	if err := checkSignature(o.Trust, h, header, sig, o.now()); err != nil {
		return nil, err
	}
	if err := h.validate(); err != nil {
		return nil, err
	}
	v.Header, v.headerBytes = h, header
	if i := signerIndex(o.Trust, h.KeyID); i >= 0 {
		v.SignerName = o.Trust.Signers[i].Name
	}
	return v, nil
}

func signerIndex(r *trust.Root, keyID string) int {
	for i, s := range r.Signers {
		if s.KeyID == keyID {
			return i
		}
	}
	return -1
}

// checkSignature authorises the signer and verifies the header signature.
func checkSignature(root *trust.Root, h *Header, header, sig []byte, now time.Time) error {
	if root == nil {
		return errors.New("bundle: no root of trust")
	}
	pub, err := root.Authorize(h.KeyID, now)
	switch {
	case errors.Is(err, trust.ErrSignerRevoked):
		return fmt.Errorf("%w: %w", ErrSignerRevoked, err)
	case errors.Is(err, trust.ErrSignerExpired):
		return fmt.Errorf("%w: %w", ErrSignerExpired, err)
	case err != nil:
		return fmt.Errorf("%w: %w", ErrUnknownSigner, err)
	}
	if len(sig) != ed25519.SignatureSize || !ed25519.Verify(pub, signedMessage(header), sig) {
		return fmt.Errorf("%w: header signature does not verify with key %s", ErrBadSignature, h.KeyID)
	}
	return nil
}

// checkHeader applies the unit's policy to an authenticated header.
func checkHeader(v *opened, installed *watchlist.Meta, o *Options, fileSize int64) error {
	h := v.Header
	if h.IsChannel() {
		return fmt.Errorf("%w: a %q bundle (channel %q) is not a watchlist", ErrWrongKind, h.Kind, h.Channel)
	}
	now := o.now()
	if now.After(h.ExpiresAt) {
		return fmt.Errorf("%w: sequence %d expired at %s", ErrExpired, h.Sequence, h.ExpiresAt.Format(time.RFC3339))
	}
	if h.PayloadSize > fileSize {
		return fmt.Errorf("%w: payload of %d bytes announced in a %d-byte file", ErrTruncated, h.PayloadSize, fileSize)
	}
	if h.RawSize > o.maxRaw() {
		return fmt.Errorf("%w: decompressed payload of %d bytes, limit %d", ErrTooLarge, h.RawSize, o.maxRaw())
	}
	if installed == nil {
		return nil
	}
	if installed.WatchlistID != "" && installed.WatchlistID != h.WatchlistID {
		return fmt.Errorf("%w: bundle for %q, installed %q", ErrWatchlistMismatch, h.WatchlistID, installed.WatchlistID)
	}
	if h.Sequence <= installed.Sequence {
		return fmt.Errorf("%w: bundle sequence %d, installed %d", ErrRollback, h.Sequence, installed.Sequence)
	}
	if !h.Full() && installed.Unsigned {
		return fmt.Errorf("%w: delta from %d, but the installed watchlist is an unsigned local import (a full bundle replaces it)", ErrBaseMismatch, h.BaseSequence)
	}
	if !h.Full() && h.BaseSequence != installed.Sequence {
		return fmt.Errorf("%w: delta from %d, installed %d", ErrBaseMismatch, h.BaseSequence, installed.Sequence)
	}
	return nil
}

// fileReader counts and reports the bytes read from the bundle file and
// remembers whether the file ended.
type fileReader struct {
	r        *bufio.Reader
	n, total int64
	eof      bool
	phase    string
	progress func(string, int64, int64)
	last     int64
}

func (f *fileReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	f.n += int64(n)
	if err == io.EOF {
		f.eof = true
	}
	// Reported at the first read (the phase has started), then every MiB.
	if f.progress != nil && (f.last == 0 || f.n-f.last >= 1<<20 || err == io.EOF) {
		f.last = f.n
		f.progress(f.phase, f.n, f.total)
	}
	return n, err
}

// errReader turns the decrypting reader's errors into sentinels and keeps
// the first one, so that it wins over the parse errors it causes.
type errReader struct {
	r    io.Reader
	file *fileReader
	err  error
}

func (e *errReader) Read(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		switch {
		case errors.Is(err, io.ErrUnexpectedEOF):
			err = fmt.Errorf("%w: encrypted stream ends early", ErrTruncated)
		case e.file.eof:
			// The last chunk failed to authenticate: it was cut short or
			// altered; the two cannot be told apart.
			err = fmt.Errorf("%w (%w): last encrypted chunk does not authenticate", ErrTruncated, ErrDecrypt)
		default:
			err = fmt.Errorf("%w: %v", ErrDecrypt, err)
		}
		e.err = err
	}
	return n, err
}

// payload streams and checks the records of a bundle. It is the
// watchlist.ChangeSource handed to the store: Next returns io.EOF only
// once the whole payload has been read and matches the signed hash, size
// and counts, so a store that aborts on error never commits a bad bundle.
type payload struct {
	h       *Header
	src     *source
	lim     *io.LimitedReader
	hash    hash.Hash
	zr      *zstd.Decoder
	raw     *rawLimit
	br      *bufio.Reader
	maxLine int
	line    int64
	puts    int64
	deletes int64
	err     error
	buf     []byte
}

func newPayload(src *source, h *Header, o *Options) (*payload, error) {
	p := &payload{h: h, src: src, hash: sha256.New(), maxLine: o.maxLine()}
	p.lim = &io.LimitedReader{R: src.inner, N: h.PayloadSize}
	zr, err := zstd.NewReader(io.TeeReader(p.lim, p.hash),
		zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(maxWindow))
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	p.zr = zr
	p.raw = &rawLimit{r: zr, limit: h.RawSize}
	p.br = bufio.NewReaderSize(p.raw, 64<<10)
	return p, nil
}

func (p *payload) close() {
	if p.zr != nil {
		p.zr.Close()
	}
}

// Next implements watchlist.ChangeSource.
func (p *payload) Next() (watchlist.Change, error) {
	if p.err != nil {
		return watchlist.Change{}, p.err
	}
	c, err := p.next()
	if err != nil {
		p.err = p.finish(err)
		return watchlist.Change{}, p.err
	}
	return c, nil
}

func (p *payload) next() (watchlist.Change, error) {
	var c watchlist.Change
	line, err := p.readLine()
	if err != nil {
		return c, err
	}
	p.line++
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("%w: record %d: %v", ErrFormat, p.line, err)
	}
	if dec.More() {
		return c, fmt.Errorf("%w: record %d: trailing data", ErrFormat, p.line)
	}
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("%w: record %d: %w", ErrFormat, p.line, err)
	}
	switch c.Op {
	case watchlist.OpPut:
		p.puts++
	case watchlist.OpDelete:
		if p.h.Full() {
			return c, fmt.Errorf("%w: record %d: delete in a full bundle", ErrFormat, p.line)
		}
		p.deletes++
	}
	if p.puts > p.h.Puts || p.deletes > p.h.Deletes {
		return c, fmt.Errorf("%w: more records than the header announces", ErrFormat)
	}
	return c, nil
}

// scan reads the whole payload as lines without decoding them, checking
// the hash, the bounds and the number of records.
func (p *payload) scan(ctx context.Context) error {
	want := p.h.Puts + p.h.Deletes
	for {
		if p.line%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		_, err := p.readLine()
		if err == nil {
			p.line++
			if p.line > want {
				err = fmt.Errorf("%w: more records than the header announces", ErrFormat)
			} else {
				continue
			}
		}
		if err == io.EOF && p.line != want {
			err = fmt.Errorf("%w: %d records, header says %d", ErrFormat, p.line, want)
		}
		// Counted as lines, so finish checks the total, not the split.
		p.puts, p.deletes = p.h.Puts, p.h.Deletes
		if err = p.finish(err); err != io.EOF {
			return err
		}
		return nil
	}
}

// readLine returns the next line without its newline, bounded by maxLine.
func (p *payload) readLine() ([]byte, error) {
	p.buf = p.buf[:0]
	for {
		frag, err := p.br.ReadSlice('\n')
		if len(p.buf)+len(frag) > p.maxLine+1 {
			return nil, fmt.Errorf("%w: record %d longer than %d bytes", ErrTooLarge, p.line+1, p.maxLine)
		}
		switch err {
		case nil:
			if len(p.buf) == 0 {
				return frag[:len(frag)-1], nil
			}
			p.buf = append(p.buf, frag[:len(frag)-1]...)
			return p.buf, nil
		case bufio.ErrBufferFull:
			p.buf = append(p.buf, frag...)
		case io.EOF:
			if len(p.buf)+len(frag) > 0 {
				return nil, fmt.Errorf("%w: last record has no newline", ErrFormat)
			}
			return nil, io.EOF
		default:
			return nil, err
		}
	}
}

// finish decides the error to report when the record stream stops with
// cause (io.EOF at a clean end). The whole payload is read and hashed
// first, so that damage is reported as such rather than as the parse
// error it caused.
func (p *payload) finish(cause error) error {
	io.Copy(p.hash, p.lim) // drain what the decompressor left
	if p.src.inner.err != nil {
		return p.src.inner.err
	}
	if p.lim.N > 0 {
		return fmt.Errorf("%w: payload ends %d bytes early", ErrTruncated, p.lim.N)
	}
	if hex.EncodeToString(p.hash.Sum(nil)) != p.h.PayloadSHA256 {
		return fmt.Errorf("%w: payload does not match the signed hash", ErrBadSignature)
	}
	if cause != io.EOF {
		if errors.Is(cause, ErrTooLarge) || errors.Is(cause, ErrFormat) {
			return cause
		}
		return fmt.Errorf("%w: payload: %v", ErrFormat, cause)
	}
	if p.raw.n != p.h.RawSize {
		return fmt.Errorf("%w: decompressed %d bytes, header says %d", ErrFormat, p.raw.n, p.h.RawSize)
	}
	if p.puts != p.h.Puts || p.deletes != p.h.Deletes {
		return fmt.Errorf("%w: %d puts and %d deletes, header says %d and %d", ErrFormat, p.puts, p.deletes, p.h.Puts, p.h.Deletes)
	}
	var one [1]byte
	if n, _ := io.ReadFull(p.src.inner, one[:]); n > 0 {
		return fmt.Errorf("%w: data after the payload", ErrFormat)
	}
	if p.src.inner.err != nil {
		return p.src.inner.err
	}
	return io.EOF
}

// rawLimit stops decompression past the announced size: a decompression
// bomb is refused after RawSize bytes, whatever the frames claim.
type rawLimit struct {
	r        io.Reader
	n, limit int64
}

func (l *rawLimit) Read(p []byte) (int, error) {
	if l.n >= l.limit {
		// Allow one probe read to see EOF; any byte beyond is a bomb.
		var b [1]byte
		n, err := l.r.Read(b[:])
		if n > 0 {
			return 0, fmt.Errorf("%w: payload decompresses beyond the announced %d bytes", ErrTooLarge, l.limit)
		}
		return 0, err
	}
	if int64(len(p)) > l.limit-l.n {
		p = p[:l.limit-l.n]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	return n, err
}
