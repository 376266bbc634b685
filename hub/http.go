package hub

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/checkpoint-edge/checkpoint/internal/cli"
	"github.com/checkpoint-edge/checkpoint/sync/outbox"
	"github.com/checkpoint-edge/checkpoint/sync/pki"
)

// Limits on requests.
const (
	MaxBatchBytes  = 64 << 20
	MaxBatchItems  = 10000
	MaxImportBytes = 1 << 30
)

// Handler returns the hub's HTTP API (see api/hub.openapi.yaml). It must be
// served with a TLS configuration that verifies client certificates
// (pki.ServerConfig): every route except /healthz and /v1/bundles/ needs the
// caller's unit id from its certificate.
func (h *Hub) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	if h.opts.BundleDir != "" {
		mux.HandleFunc("GET /v1/bundles/{name...}", h.serveBundle)
	}
	mux.HandleFunc("POST /v1/results", h.postResults)
	mux.HandleFunc("GET /v1/results", h.getResults)
	mux.HandleFunc("GET /v1/units", h.getUnits)
	mux.HandleFunc("POST /v1/imports", h.postImport)
	return mux
}

type apiError struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	cli.WriteJSONLine(w, v)
}

func fail(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, apiError{Error: err.Error()})
}

// caller returns the verified unit id or answers 401/403.
func (h *Hub) caller(w http.ResponseWriter, r *http.Request) (string, bool) {
	unit, err := pki.UnitID(r.TLS)
	if err != nil {
		code := http.StatusForbidden
		if errors.Is(err, pki.ErrNoPeerCert) {
			code = http.StatusUnauthorized
		}
		fail(w, code, err)
		return "", false
	}
	return unit, true
}

func (h *Hub) postResults(w http.ResponseWriter, r *http.Request) {
	unit, ok := h.caller(w, r)
	if !ok {
		return
	}
	var b outbox.Batch
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBatchBytes))
	if err := dec.Decode(&b); err != nil {
		fail(w, http.StatusBadRequest, fmt.Errorf("%w: %w", ErrBadBatch, err))
		return
	}
	if len(b.Items) == 0 || len(b.Items) > MaxBatchItems {
		fail(w, http.StatusBadRequest, fmt.Errorf("%w: %d items (want 1-%d)", ErrBadBatch, len(b.Items), MaxBatchItems))
		return
	}
	res, err := h.Ingest(unit, b.Items, SourceUpload)
	if err != nil {
		h.ingestFailed(w, unit, err)
		return
	}
	writeJSON(w, http.StatusOK, outbox.BatchResponse{Unit: unit, Acked: res.Acked})
}

func (h *Hub) ingestFailed(w http.ResponseWriter, unit string, err error) {
	if errors.Is(err, ErrBadBatch) || errors.Is(err, outbox.ErrBadExport) || errors.Is(err, ErrNoIdentity) {
		h.log.Warn("batch refused", "unit", unit, "err", err)
		fail(w, http.StatusBadRequest, err)
		return
	}
	h.log.Error("ingest failed", "unit", unit, "err", err)
	fail(w, http.StatusServiceUnavailable, errors.New("hub: storage unavailable"))
}

func (h *Hub) postImport(w http.ResponseWriter, r *http.Request) {
	carrier, ok := h.caller(w, r)
	if !ok {
		return
	}
	res, err := h.Import(http.MaxBytesReader(w, r.Body, MaxImportBytes))
	if err != nil {
		h.ingestFailed(w, carrier, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (h *Hub) getResults(w http.ResponseWriter, r *http.Request) {
	caller, ok := h.caller(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	unit := q.Get("unit")
	if unit == "" {
		unit = caller
	}
	if err := pki.ValidUnitID(unit); err != nil {
		fail(w, http.StatusBadRequest, err)
		return
	}
	if unit != caller && !h.isOperator(caller) {
		// A stolen unit must not read what other desks sent.
		fail(w, http.StatusForbidden, errors.New("hub: only operator certificates may read other units' results"))
		return
	}
	after, err1 := parseUint(q.Get("after"))
	limit, err2 := parseUint(q.Get("limit"))
	if err := errors.Join(err1, err2); err != nil {
		fail(w, http.StatusBadRequest, err)
		return
	}
	res, err := h.Results(unit, after, int(min(limit, 10000)))
	if errors.Is(err, ErrUnknownUnit) {
		fail(w, http.StatusNotFound, err)
		return
	}
	if err != nil {
		h.log.Error("results query failed", "unit", unit, "err", err)
		fail(w, http.StatusInternalServerError, errors.New("hub: storage error"))
		return
	}
	if res == nil {
		res = []Stored{}
	}
	writeJSON(w, http.StatusOK, struct {
		Results []Stored `json:"results"`
	}{res})
}

func (h *Hub) getUnits(w http.ResponseWriter, r *http.Request) {
	caller, ok := h.caller(w, r)
	if !ok {
		return
	}
	if !h.isOperator(caller) {
		fail(w, http.StatusForbidden, errors.New("hub: only operator certificates may list units"))
		return
	}
	units, err := h.Units()
	if err != nil {
		fail(w, http.StatusInternalServerError, errors.New("hub: storage error"))
		return
	}
	if units == nil {
		units = []UnitInfo{}
	}
	writeJSON(w, http.StatusOK, struct {
		Units []UnitInfo `json:"units"`
	}{units})
}

func (h *Hub) isOperator(id string) bool {
	for _, o := range h.opts.Operators {
		if o == id {
			return true
		}
	}
	return false
}

func parseUint(s string) (uint64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("bad number %q", s)
	}
	return n, nil
}

// serveBundle serves a static file with a strong ETag, so units resume with
// Range + If-Range and revalidate with If-None-Match.
func (h *Hub) serveBundle(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if name == "" || !fs.ValidPath(name) || strings.HasPrefix(path.Base(name), ".") {
		http.NotFound(w, r)
		return
	}
	root, err := os.OpenRoot(h.opts.BundleDir)
	if err != nil {
		h.log.Error("bundle directory unavailable", "err", err)
		http.Error(w, "bundles unavailable", http.StatusServiceUnavailable)
		return
	}
	defer root.Close()
	f, err := root.Open(name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}
	tag, err := h.etags.get(name, st, f)
	if err != nil {
		http.Error(w, "read error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("ETag", tag)
	w.Header().Set("Cache-Control", "no-cache")
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/octet-stream")
	}
	http.ServeContent(w, r, "", st.ModTime(), f)
}

// etagCache remembers the sha256 of bundle files by size and mtime, so a
// 100 MB bundle is hashed once, not on every resumed request.
type etagCache struct {
	mu sync.Mutex
	m  map[string]etagEntry
}

type etagEntry struct {
	size  int64
	mtime time.Time
	tag   string
}

func (c *etagCache) get(name string, st os.FileInfo, f io.ReadSeeker) (string, error) {
	c.mu.Lock()
	e, ok := c.m[name]
	c.mu.Unlock()
	if ok && e.size == st.Size() && e.mtime.Equal(st.ModTime()) {
		return e.tag, nil
	}
	hs := sha256.New()
	if _, err := io.Copy(hs, f); err != nil {
		return "", err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	tag := `"` + hex.EncodeToString(hs.Sum(nil)) + `"`
	c.mu.Lock()
	if c.m == nil {
		c.m = make(map[string]etagEntry)
	}
	c.m[name] = etagEntry{size: st.Size(), mtime: st.ModTime(), tag: tag}
	c.mu.Unlock()
	return tag, nil
}
