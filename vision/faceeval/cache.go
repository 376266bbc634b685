package faceeval

import (
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/checkpoint-edge/checkpoint/internal/atomicfile"
)

// Entry is what the pipeline found in one photo.
type Entry struct {
	// SHA256 is the photo file's checksum: the cache key, so a changed
	// photo is embedded again and a moved folder is not.
	SHA256 string `json:"sha256"`
	Faces  int    `json:"faces"`
	// The primary face (none when Faces is 0).
	Vec      []float32 `json:"vec,omitempty"`
	Yaw      float64   `json:"yaw,omitempty"`
	InterEye float64   `json:"inter_eye,omitempty"`
	Pass     bool      `json:"pass,omitempty"`
	Reasons  []string  `json:"reasons,omitempty"`
	Err      string    `json:"err,omitempty"`
}

// Cache keeps embeddings across runs, for one pipeline configuration
// (key: model id and every option that changes embeddings).
type Cache struct {
	path    string
	key     string
	entries map[string]Entry
	dirty   bool
}

// cacheHeader is the first line of a cache file.
type cacheHeader struct {
	Key string `json:"key"`
}

// OpenCache opens (or starts) the cache for key in dir. A damaged or
// foreign file is ignored and rewritten: it is only a cache.
func OpenCache(dir, key string) (*Cache, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("embedding cache: %w", err)
	}
	sum := sha256.Sum256([]byte(key))
	c := &Cache{path: filepath.Join(dir, "embeddings-"+hex.EncodeToString(sum[:8])+".jsonl.gz"), key: key, entries: map[string]Entry{}}
	f, err := os.Open(c.path)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("embedding cache: %w", err)
	}
	defer f.Close()
	if err := c.read(f); err != nil {
		c.entries, c.dirty = map[string]Entry{}, true
	}
	return c, nil
}

func (c *Cache) read(r io.Reader) error {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<20)
	if !sc.Scan() {
		return errors.New("empty")
	}
	var h cacheHeader
	if err := json.Unmarshal(sc.Bytes(), &h); err != nil || h.Key != c.key {
		return errors.New("foreign cache")
	}
	for sc.Scan() {
		var e Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return err
		}
		c.entries[e.SHA256] = e
	}
	return sc.Err()
}

// Path is the cache file.
func (c *Cache) Path() string { return c.path }

// Len is the number of cached photos.
func (c *Cache) Len() int { return len(c.entries) }

// Get returns the entry of a photo with this checksum.
func (c *Cache) Get(sum string) (Entry, bool) {
	e, ok := c.entries[sum]
	return e, ok
}

// Put records a photo's entry.
func (c *Cache) Put(e Entry) {
	c.entries[e.SHA256] = e
	c.dirty = true
}

// Save writes the cache (0600, atomically) when it changed.
func (c *Cache) Save() error {
	if !c.dirty {
		return nil
	}
	keys := make([]string, 0, len(c.entries))
	for k := range c.entries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	err := atomicfile.Write(c.path, 0o600, func(w io.Writer) error {
		zw := gzip.NewWriter(w)
		enc := json.NewEncoder(zw)
		if err := enc.Encode(cacheHeader{Key: c.key}); err != nil {
			return err
		}
		for _, k := range keys {
			if err := enc.Encode(c.entries[k]); err != nil {
				return err
			}
		}
		return zw.Close()
	})
	if err != nil {
		return fmt.Errorf("embedding cache: %w", err)
	}
	c.dirty = false
	return nil
}

// FileSHA256 is the hex checksum of a file's bytes.
func FileSHA256(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}
