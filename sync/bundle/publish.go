package bundle

import (
	"bytes"
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
	"slices"
	"time"

	"github.com/checkpoint-edge/checkpoint/internal/atomicfile"
	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// IndexFile is the name of the index in a watchlist's publication folder.
const IndexFile = "index.json"

// IndexFormat is the index format this package writes and reads.
const IndexFormat = 1

// maxIndexSize bounds what ReadIndex accepts.
const maxIndexSize = 4 << 20

var watchlistIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// Index lists the bundles published for one watchlist. It is not signed:
// each bundle is, and a unit that is fed an old index only stays on its
// version until the version goes stale (freeze protection).
type Index struct {
	Format int `json:"format"`
	// Kind and Channel name a channel's index; WatchlistID a watchlist's.
	Kind        string       `json:"kind,omitempty"`
	Channel     string       `json:"channel,omitempty"`
	WatchlistID string       `json:"watchlist_id,omitempty"`
	Latest      uint64       `json:"latest"`
	UpdatedAt   time.Time    `json:"updated_at"`
	Bundles     []IndexEntry `json:"bundles"`
}

// IndexEntry is one published bundle.
type IndexEntry struct {
	File      string    `json:"file"`
	Sequence  uint64    `json:"sequence"`
	Base      uint64    `json:"base"` // 0 = full
	Size      int64     `json:"size"`
	SHA256    string    `json:"sha256"`
	IssuedAt  time.Time `json:"issued_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// FileName is the conventional name of a bundle in the layout.
func FileName(h *Header) string {
	if h.Full() {
		return fmt.Sprintf("full-%020d.cpwl", h.Sequence)
	}
	return fmt.Sprintf("delta-%020d-%020d.cpwl", h.BaseSequence, h.Sequence)
}

// ReadIndex decodes an index strictly and checks it.
func ReadIndex(r io.Reader) (*Index, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxIndexSize+1))
	if err != nil {
		return nil, fmt.Errorf("bundle: index: %w", err)
	}
	if len(b) > maxIndexSize {
		return nil, fmt.Errorf("%w: index larger than %d bytes", ErrTooLarge, maxIndexSize)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	ix := new(Index)
	if err := dec.Decode(ix); err != nil {
		return nil, fmt.Errorf("%w: index: %v", ErrFormat, err)
	}
	if ix.Format != IndexFormat || !ix.validName() {
		return nil, fmt.Errorf("%w: index format %d for %q", ErrFormat, ix.Format, ix.name())
	}
	if ix.Latest > watchlist.MaxSequence {
		return nil, fmt.Errorf("%w: index latest sequence %d out of range", ErrFormat, ix.Latest)
	}
	for _, e := range ix.Bundles {
		if e.File != filepath.Base(e.File) || e.File == "." || e.File == ".." || e.Sequence <= e.Base ||
			e.Sequence > watchlist.MaxSequence || e.Size <= 0 || len(e.SHA256) != 64 {
			return nil, fmt.Errorf("%w: index entry %q", ErrFormat, e.File)
		}
	}
	return ix, nil
}

// Plan chooses what a unit at installed should download to reach the
// latest version: the cheapest (in bytes) chain of deltas starting at the
// installed version or at a full bundle. nil means up to date.
func (ix *Index) Plan(installed uint64) ([]IndexEntry, error) {
	if ix.Latest <= installed {
		return nil, nil
	}
	type node struct {
		cost int64
		path []IndexEntry
	}
	best := map[uint64]*node{}
	relax := func(seq uint64, cost int64, path []IndexEntry) {
		if n, ok := best[seq]; !ok || cost < n.cost {
			best[seq] = &node{cost, path}
		}
	}
	if installed > 0 {
		relax(installed, 0, nil)
	}
	entries := slices.Clone(ix.Bundles)
	// Deltas only go forwards, so one pass in order of base relaxes every
	// chain.
	slices.SortFunc(entries, func(a, b IndexEntry) int {
		return cmpU(a.Base, b.Base)
	})
	for _, e := range entries {
		if e.Base == 0 && e.Sequence > installed {
			relax(e.Sequence, e.Size, []IndexEntry{e})
		}
	}
	for _, e := range entries {
		if e.Base == 0 {
			continue
		}
		if n, ok := best[e.Base]; ok {
			relax(e.Sequence, n.cost+e.Size, append(slices.Clone(n.path), e))
		}
	}
	n, ok := best[ix.Latest]
	if !ok {
		return nil, fmt.Errorf("%w: no full bundle or delta chain reaches sequence %d from %d", ErrBaseMismatch, ix.Latest, installed)
	}
	return n.path, nil
}

func cmpU(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Publish copies a bundle into the static layout under dir
// (dir/<watchlist-id>/<file>) and updates the index. signed is the
// header published next to the bundle by Build; it is not verified here
// (units verify), only decoded. keepFull bounds how many full bundles stay
// listed (0 = all); deltas older than the oldest kept full are dropped.
func Publish(dir, bundlePath string, signed *Signed, now time.Time, keepFull int) (*IndexEntry, error) {
	h, err := signed.Decode()
	if err != nil {
		return nil, err
	}
	if h.IsChannel() {
		return publishChannel(dir, bundlePath, h, now, keepFull)
	}
	if !watchlistIDRE.MatchString(h.WatchlistID) {
		return nil, fmt.Errorf("%w: watchlist id %q cannot name a folder", ErrFormat, h.WatchlistID)
	}
	return publishIn(filepath.Join(dir, h.WatchlistID), &Index{Format: IndexFormat, WatchlistID: h.WatchlistID},
		bundlePath, h, now, keepFull)
}

// publishIn copies a bundle into the folder wdir and updates the index
// there, which starts as fresh and must keep fresh's name.
func publishIn(wdir string, fresh *Index, bundlePath string, h *Header, now time.Time, keepFull int) (*IndexEntry, error) {
	if err := os.MkdirAll(wdir, 0o755); err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	ix := fresh
	if f, err := os.Open(filepath.Join(wdir, IndexFile)); err == nil {
		ix, err = ReadIndex(f)
		f.Close()
		if err != nil {
			return nil, err
		}
		if ix.name() != fresh.name() {
			return nil, fmt.Errorf("%w: %s holds the index of %q, not %q", ErrFormat, wdir, ix.name(), fresh.name())
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	in, err := os.Open(bundlePath)
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	defer in.Close()
	e := IndexEntry{File: FileName(h), Sequence: h.Sequence, Base: h.BaseSequence, IssuedAt: h.IssuedAt, ExpiresAt: h.ExpiresAt}
	sum := sha256.New()
	err = atomicfile.Write(filepath.Join(wdir, e.File), 0o644, func(w io.Writer) error {
		n, err := io.Copy(io.MultiWriter(w, sum), in)
		e.Size = n
		return err
	})
	if err != nil {
		return nil, err
	}
	e.SHA256 = hex.EncodeToString(sum.Sum(nil))
	ix.Bundles = slices.DeleteFunc(ix.Bundles, func(o IndexEntry) bool { return o.File == e.File })
	ix.Bundles = append(ix.Bundles, e)
	if e.Sequence > ix.Latest {
		ix.Latest = e.Sequence
	}
	ix.UpdatedAt = now.UTC()
	pruned := ix.prune(keepFull)
	b, err := json.MarshalIndent(ix, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(wdir, IndexFile), append(b, '\n'), 0o644); err != nil {
		return nil, err
	}
	// Files leave after the index stops naming them, so a unit never
	// finds an index entry without its file.
	for _, f := range pruned {
		os.Remove(filepath.Join(wdir, f))
	}
	return &e, nil
}

// prune keeps the newest keepFull full bundles and the deltas from the
// oldest kept one on; it returns the files dropped.
func (ix *Index) prune(keepFull int) []string {
	slices.SortFunc(ix.Bundles, func(a, b IndexEntry) int {
		if c := cmpU(a.Sequence, b.Sequence); c != 0 {
			return c
		}
		return cmpU(a.Base, b.Base)
	})
	if keepFull <= 0 {
		return nil
	}
	var fulls []uint64
	for _, e := range ix.Bundles {
		if e.Base == 0 {
			fulls = append(fulls, e.Sequence)
		}
	}
	if len(fulls) <= keepFull {
		return nil
	}
	oldest := fulls[len(fulls)-keepFull]
	var dropped []string
	ix.Bundles = slices.DeleteFunc(ix.Bundles, func(e IndexEntry) bool {
		drop := e.Sequence < oldest || (e.Base != 0 && e.Base < oldest)
		if drop {
			dropped = append(dropped, e.File)
		}
		return drop
	})
	return dropped
}

// HeaderFile is the name of the detached signed header Build's callers
// write next to a bundle.
func HeaderFile(bundlePath string) string { return bundlePath + ".header.json" }

// ReadSigned reads a detached signed header.
func ReadSigned(path string) (*Signed, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	s := new(Signed)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(s); err != nil {
		return nil, fmt.Errorf("%w: signed header: %v", ErrFormat, err)
	}
	return s, nil
}
