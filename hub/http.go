package hub

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/checkpoint-edge/checkpoint/internal/cli"
	"github.com/checkpoint-edge/checkpoint/sync/outbox"
	"github.com/checkpoint-edge/checkpoint/sync/pki"
)

// Limits of the original API, kept for callers; DefaultLimits holds the
// values in force.
const (
	MaxBatchBytes  = 16 << 20
	MaxBatchItems  = 10000
	MaxImportBytes = 1 << 30
)

// Handler returns the hub's HTTP API (see api/hub.openapi.yaml). It must be
// served with a TLS configuration that verifies client certificates
// (pki.ServerConfig), ideally through Server (timeouts): every route
// except /healthz and /v1/bundles/ needs the caller's certificate.
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
	mux.HandleFunc("POST /v1/units/{unit}/audit/reset", h.postAuditReset)
	mux.HandleFunc("GET /v1/entries", h.getEntries)
	mux.HandleFunc("GET /v1/hits/stream", h.getHitStream)
	mux.HandleFunc("POST /v1/imports", h.postImport)
	mux.HandleFunc("GET /metrics", h.getMetrics)
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

// retry answers 429 or 503 with Retry-After in whole seconds (at least 1).
func retry(w http.ResponseWriter, code int, after time.Duration, err error) {
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(after.Seconds())))))
	fail(w, code, err)
}

// peer returns the verified caller's id and role or answers 401/403.
func (h *Hub) peer(w http.ResponseWriter, r *http.Request) (id, role string, ok bool) {
	id, role, err := pki.Peer(r.TLS)
	if err != nil {
		code := http.StatusForbidden
		if errors.Is(err, pki.ErrNoPeerCert) {
			code = http.StatusUnauthorized
		}
		fail(w, code, err)
		return "", "", false
	}
	return id, role, true
}

// unitCaller is peer for routes that only units may use.
func (h *Hub) unitCaller(w http.ResponseWriter, r *http.Request) (string, bool) {
	id, role, ok := h.peer(w, r)
	if !ok {
		return "", false
	}
	if role != pki.RoleUnit {
		fail(w, http.StatusForbidden, errors.New("hub: only unit certificates may upload results"))
		return "", false
	}
	return id, true
}

// operator is peer for routes that only operators may use.
func (h *Hub) operator(w http.ResponseWriter, r *http.Request) (string, bool) {
	id, role, ok := h.peer(w, r)
	if !ok {
		return "", false
	}
	if !h.isOperator(id, role) {
		fail(w, http.StatusForbidden, errors.New("hub: operator certificate required"))
		return "", false
	}
	return id, true
}

func (h *Hub) refuse(w http.ResponseWriter, unit string, rf *refusal) {
	h.metrics.refused.WithLabelValues(rf.reason).Inc()
	h.log.Warn("request refused", "unit", unit, "reason", rf.reason, "retry_after", rf.retryAfter.Round(time.Second).String())
	retry(w, rf.code, rf.retryAfter, fmt.Errorf("hub: %s; retry later", strings.ReplaceAll(rf.reason, "_", " ")))
}

func (h *Hub) postResults(w http.ResponseWriter, r *http.Request) {
	unit, ok := h.unitCaller(w, r)
	if !ok {
		return
	}
	l := h.opts.Limits
	if r.ContentLength > l.MaxBatchBytes {
		h.metrics.refused.WithLabelValues("too_large").Inc()
		fail(w, http.StatusRequestEntityTooLarge, fmt.Errorf("%w: %d bytes (at most %d)", errTooLarge, r.ContentLength, l.MaxBatchBytes))
		return
	}
	release, rf := h.limits.admit(unit, r.ContentLength)
	if rf != nil {
		h.refuse(w, unit, rf)
		return
	}
	defer release()
	body := &countingReader{r: http.MaxBytesReader(w, r.Body, l.MaxBatchBytes)}
	recs, anchor, err := decodeBatch(body, l.MaxBatchItems)
	h.limits.charge(unit, len(recs), body.n)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) || errors.Is(err, errTooLarge) {
			h.metrics.refused.WithLabelValues("too_large").Inc()
			fail(w, http.StatusRequestEntityTooLarge, fmt.Errorf("%w: at most %d bytes and %d items", errTooLarge, l.MaxBatchBytes, l.MaxBatchItems))
			return
		}
		h.metrics.refused.WithLabelValues("bad_batch").Inc()
		fail(w, http.StatusBadRequest, err)
		return
	}
	req := IngestRequest{Unit: unit, Records: recs, Source: SourceUpload, Audit: anchor, payloadsChecked: true}
	if anchor != nil && len(r.TLS.PeerCertificates) > 0 {
		req.UnitKey = r.TLS.PeerCertificates[0].PublicKey
	}
	res, err := h.Ingest(r.Context(), req)
	if err != nil {
		h.ingestFailed(w, unit, err)
		return
	}
	writeJSON(w, http.StatusOK, outbox.BatchResponse{Unit: unit, Acked: res.Acked, Audit: res.Audit})
}

func (h *Hub) ingestFailed(w http.ResponseWriter, unit string, err error) {
	switch {
	case errors.Is(err, context.Canceled):
		// The unit gave up (its request timeout) or the link dropped:
		// nothing was committed, nobody to answer.
		h.metrics.refused.WithLabelValues("client_gone").Inc()
		h.log.Debug("ingest abandoned by the client", "unit", unit)
	case errors.Is(err, errTooLarge):
		h.metrics.refused.WithLabelValues("too_large").Inc()
		fail(w, http.StatusRequestEntityTooLarge, err)
	case errors.Is(err, ErrBadBatch) || errors.Is(err, outbox.ErrBadExport) || errors.Is(err, ErrNoIdentity):
		h.metrics.refused.WithLabelValues("bad_batch").Inc()
		h.log.Warn("batch refused", "unit", unit, "err", err)
		fail(w, http.StatusBadRequest, err)
	default:
		// Nothing was acknowledged; the unit keeps its records and resends.
		h.metrics.refused.WithLabelValues("unavailable").Inc()
		h.log.Error("ingest failed", "unit", unit, "err", err)
		retry(w, http.StatusServiceUnavailable, 2*time.Second, ErrUnavailable)
	}
}

func (h *Hub) postImport(w http.ResponseWriter, r *http.Request) {
	carrier, _, ok := h.peer(w, r)
	if !ok {
		return
	}
	l := h.opts.Limits
	if r.ContentLength > l.MaxImportBytes {
		fail(w, http.StatusRequestEntityTooLarge, fmt.Errorf("%w: import of %d bytes (at most %d)", errTooLarge, r.ContentLength, l.MaxImportBytes))
		return
	}
	release, rf := h.limits.admitImport()
	if rf != nil {
		h.refuse(w, carrier, rf)
		return
	}
	defer release()
	// A large file over a slow link may take longer than ReadTimeout:
	// the read deadline moves while bytes arrive.
	rc := http.NewResponseController(w)
	body := &progressReader{r: http.MaxBytesReader(w, r.Body, l.MaxImportBytes), rc: rc, idle: l.ReadTimeout}
	res, err := h.ImportContext(r.Context(), body)
	if err != nil {
		h.ingestFailed(w, carrier, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// progressReader extends the connection's read deadline on every read.
type progressReader struct {
	r    io.Reader
	rc   *http.ResponseController
	idle time.Duration
}

func (p *progressReader) Read(b []byte) (int, error) {
	p.rc.SetReadDeadline(time.Now().Add(p.idle))
	return p.r.Read(b)
}

// progressWriter extends the connection's write deadline on every write,
// so a long download that keeps moving is not cut by WriteTimeout.
type progressWriter struct {
	http.ResponseWriter
	rc   *http.ResponseController
	idle time.Duration
}

func (p *progressWriter) Write(b []byte) (int, error) {
	p.rc.SetWriteDeadline(time.Now().Add(p.idle))
	return p.ResponseWriter.Write(b)
}

func (h *Hub) getResults(w http.ResponseWriter, r *http.Request) {
	caller, role, ok := h.peer(w, r)
	if !ok {
		return
	}
	q, err := parseQuery(r)
	if err != nil {
		fail(w, http.StatusBadRequest, err)
		return
	}
	if !h.isOperator(caller, role) {
		// A unit reads its own results only: a stolen unit must not read
		// what other desks sent.
		if role != pki.RoleUnit || (q.Unit != "" && q.Unit != caller) {
			fail(w, http.StatusForbidden, errors.New("hub: only operator certificates may read other units' results"))
			return
		}
		q.Unit = caller
	}
	page, err := h.store.Results(r.Context(), q)
	switch {
	case errors.Is(err, ErrUnknownUnit):
		fail(w, http.StatusNotFound, err)
		return
	case errors.Is(err, ErrBadQuery):
		fail(w, http.StatusBadRequest, err)
		return
	case err != nil:
		h.log.Error("results query failed", "err", err)
		retry(w, http.StatusServiceUnavailable, 2*time.Second, ErrUnavailable)
		return
	}
	if page.Results == nil {
		page.Results = []Stored{}
	}
	writeJSON(w, http.StatusOK, page)
}

// parseQuery reads GET /v1/results parameters.
func parseQuery(r *http.Request) (Query, error) {
	v := r.URL.Query()
	q := Query{Unit: v.Get("unit"), Kind: v.Get("kind"), Decision: v.Get("decision"), Category: v.Get("category"),
		Entry: v.Get("entry"), Order: v.Get("order"), Cursor: v.Get("cursor")}
	var errs []error
	var err error
	if q.After, err = parseUint(v.Get("after")); err != nil {
		errs = append(errs, err)
	}
	limit, err := parseUint(v.Get("limit"))
	errs = append(errs, err)
	q.Limit = int(min(limit, MaxPage))
	if q.Since, err = parseTime(v.Get("since")); err != nil {
		errs = append(errs, err)
	}
	if q.Until, err = parseTime(v.Get("until")); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return q, fmt.Errorf("%w: %w", ErrBadQuery, err)
	}
	return q, nil
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return t, fmt.Errorf("bad time %q (want RFC 3339)", s)
	}
	return t, nil
}

func (h *Hub) getUnits(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.operator(w, r); !ok {
		return
	}
	units, err := h.store.Units(r.Context())
	if err != nil {
		retry(w, http.StatusServiceUnavailable, 2*time.Second, ErrUnavailable)
		return
	}
	if units == nil {
		units = []UnitInfo{}
	}
	writeJSON(w, http.StatusOK, struct {
		Units []UnitInfo `json:"units"`
	}{units})
}

func (h *Hub) postAuditReset(w http.ResponseWriter, r *http.Request) {
	op, ok := h.operator(w, r)
	if !ok {
		return
	}
	unit := r.PathValue("unit")
	if err := pki.ValidUnitID(unit); err != nil {
		fail(w, http.StatusBadRequest, err)
		return
	}
	err := h.store.ResetAudit(r.Context(), unit)
	switch {
	case errors.Is(err, ErrUnknownUnit):
		fail(w, http.StatusNotFound, err)
	case err != nil:
		retry(w, http.StatusServiceUnavailable, 2*time.Second, ErrUnavailable)
	default:
		h.log.Warn("audit anchor reset: the unit's next head will be adopted as is", "unit", unit, "operator", op)
		writeJSON(w, http.StatusOK, struct {
			Unit  string `json:"unit"`
			Reset bool   `json:"reset"`
		}{unit, true})
	}
}

func (h *Hub) getEntries(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.operator(w, r); !ok {
		return
	}
	v := r.URL.Query()
	q := EntryQuery{Entry: v.Get("entry")}
	limit, err1 := parseUint(v.Get("limit"))
	since, err2 := parseTime(v.Get("since"))
	until, err3 := parseTime(v.Get("until"))
	if err := errors.Join(err1, err2, err3); err != nil {
		fail(w, http.StatusBadRequest, fmt.Errorf("%w: %w", ErrBadQuery, err))
		return
	}
	q.Limit, q.Since, q.Until = int(min(limit, MaxPage)), since, until
	sums, err := h.store.EntryHits(r.Context(), q)
	if err != nil {
		retry(w, http.StatusServiceUnavailable, 2*time.Second, ErrUnavailable)
		return
	}
	if sums == nil {
		sums = []EntrySummary{}
	}
	writeJSON(w, http.StatusOK, struct {
		Entries []EntrySummary `json:"entries"`
	}{sums})
}

// feedHeartbeat keeps proxies from closing an idle stream and finds dead
// consoles; feedWriteTimeout bounds one write to a console.
const (
	feedHeartbeat    = 15 * time.Second
	feedWriteTimeout = 30 * time.Second
	feedBuffer       = 1024
)

// getHitStream is the live feed: server-sent events, one per HIT or
// officer decision committed by any replica.
func (h *Hub) getHitStream(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.operator(w, r); !ok {
		return
	}
	rc := http.NewResponseController(w)
	sub := h.feed.subscribe(feedBuffer)
	defer h.feed.unsubscribe(sub)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	write := func(s string) bool {
		rc.SetWriteDeadline(time.Now().Add(feedWriteTimeout))
		if _, err := io.WriteString(w, s); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write(": checkpoint hit feed\nretry: 2000\n\n") {
		return
	}
	tick := time.NewTicker(feedHeartbeat)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-h.streams:
			return
		case <-sub.dropped:
			write("event: lagged\ndata: {}\n\n")
			return
		case <-tick.C:
			if !write(": ping\n\n") {
				return
			}
		case e := <-sub.ch:
			b, err := json.Marshal(&e)
			if err != nil {
				continue
			}
			if !write(fmt.Sprintf("id: %s.%d\nevent: %s\ndata: %s\n\n", e.Unit, e.UnitSeq, e.EventName(), b)) {
				return
			}
		}
	}
}

func (h *Hub) getMetrics(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.operator(w, r); !ok {
		return
	}
	h.MetricsHandler().ServeHTTP(w, r)
}

// MetricsHandler serves the hub's Prometheus metrics (mounted on
// --metrics-listen, loopback, or GET /metrics for operator certificates).
func (h *Hub) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(h.metrics.reg, promhttp.HandlerOpts{})
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
// Range + If-Range and revalidate with If-None-Match. The ETag is the
// file's SHA-256, so every replica serving the same shared directory gives
// the same one.
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
	pw := &progressWriter{ResponseWriter: w, rc: http.NewResponseController(w), idle: h.opts.Limits.WriteTimeout}
	http.ServeContent(pw, r, "", st.ModTime(), f)
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
