package hub

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"filippo.io/age"

	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/sync/outbox"
)

// Options configure a Hub.
type Options struct {
	// BundleDir is served under /v1/bundles/; empty disables it. Every
	// replica serves the same directory (shared storage, see README).
	BundleDir string
	// Identities decrypt hand-carried exports (POST /v1/imports).
	Identities []age.Identity
	// Roots verify the certificates that sign exports (the fleet CA).
	Roots *x509.CertPool
	// Operators, if not empty, restricts operator rights to operator
	// certificates (pki.IssueOperator) with these ids; empty accepts any
	// operator certificate of the fleet CA. Unit certificates never have
	// operator rights.
	Operators []string
	// Limits bound requests (zero fields: DefaultLimits).
	Limits Limits
	// SpoolDir holds imports while they are verified (still encrypted);
	// default os.TempDir().
	SpoolDir string
	// Alerts publishes officer-confirmed hits to other posts (nil: off).
	Alerts *AlertPublisher
	Logger *slog.Logger
	// Now defaults to time.Now.
	Now func() time.Time
}

// Hub is the headquarters HTTP service over a Store.
type Hub struct {
	store   Store
	opts    Options
	log     *slog.Logger
	now     func() time.Time
	limits  *limiter
	feed    *broadcaster
	metrics *hubMetrics
	etags   etagCache

	cancel    context.CancelFunc
	wg        sync.WaitGroup
	streams   chan struct{} // closed to end live-feed streams (shutdown)
	streamsMu sync.Once

	mu     sync.Mutex
	closed bool
}

// New serves store. The Hub owns it: Close closes it.
func New(store Store, o Options) (*Hub, error) {
	if store == nil {
		return nil, errors.New("hub: no store")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.SpoolDir == "" {
		o.SpoolDir = os.TempDir()
	}
	o.Limits = o.Limits.orDefault()
	h := &Hub{store: store, opts: o, log: o.Logger, now: o.Now, feed: newBroadcaster(), streams: make(chan struct{})}
	h.limits = newLimiter(o.Limits, o.Now)
	h.metrics = newHubMetrics(h)
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		h.store.Watch(ctx, func(recs []Stored) {
			h.metrics.feedEvents.Add(float64(len(recs)))
			h.feed.publish(recs)
		})
	}()
	if o.Alerts != nil {
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			o.Alerts.run(ctx, h)
		}()
	}
	return h, nil
}

// Open is New over the bbolt store at path (the embedded default).
func Open(path string, kp seal.KeyProvider, o Options) (*Hub, error) {
	st, err := OpenBolt(path, kp, BoltOptions{Logger: o.Logger, Now: o.Now})
	if err != nil {
		return nil, err
	}
	h, err := New(st, o)
	if err != nil {
		st.Close()
		return nil, err
	}
	return h, nil
}

// Store returns the hub's store.
func (h *Hub) Store() Store { return h.store }

// Close stops the feed and closes the store. It is idempotent.
func (h *Hub) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	h.mu.Unlock()
	h.CloseStreams()
	h.cancel()
	err := h.store.Close()
	h.wg.Wait()
	return err
}

// FeedSubscribers is the number of consoles on the live feed.
func (h *Hub) FeedSubscribers() int { return h.feed.count() }

// CloseStreams ends every live-feed stream (they otherwise last until the
// console disconnects), so that http.Server.Shutdown can finish; Server
// registers it.
func (h *Hub) CloseStreams() { h.streamsMu.Do(func() { close(h.streams) }) }

// RotateKEK re-wraps the store's data key under newKP's key; stored
// results are not re-encrypted.
func (h *Hub) RotateKEK(ctx context.Context, newKP seal.KeyProvider) error {
	if err := h.store.RotateKEK(ctx, newKP); err != nil {
		return err
	}
	h.log.Info("hub: key-encryption key rotated")
	return nil
}

// Ingest stores a batch through the store, then counts and logs it
// (unit id and counts only) and reports audit anchors that do not extend.
func (h *Hub) Ingest(ctx context.Context, req IngestRequest) (IngestResult, error) {
	start := h.now()
	res, err := h.store.Ingest(ctx, req)
	if err != nil {
		return res, err
	}
	h.metrics.ackLatency.Observe(h.now().Sub(start).Seconds())
	h.metrics.ingested.WithLabelValues(req.Source).Add(float64(res.New))
	h.metrics.duplicates.Add(float64(res.Duplicates))
	h.log.Info("results ingested", "unit", req.Unit, "source", req.Source, "new", res.New, "duplicates", res.Duplicates)
	if a := res.Audit; a != nil {
		switch a.Status {
		case "truncated", "forked", "invalid":
			h.metrics.anchorFails.WithLabelValues(a.Status).Inc()
			h.log.Error("audit chain does not extend the head headquarters anchored: unit flagged",
				"unit", req.Unit, "status", a.Status, "anchored_seq", a.Head.Seq, "reported_seq", req.Audit.Head.Seq,
				"detail", a.Detail, "new_flag", res.AuditFlag != "")
		}
	}
	return res, nil
}

// IngestRecords is Ingest of plain records (tests, tools).
func (h *Hub) IngestRecords(ctx context.Context, unit string, recs []outbox.Record, source string) (IngestResult, error) {
	return h.Ingest(ctx, IngestRequest{Unit: unit, Records: recs, Source: source})
}

// Results answers a query.
func (h *Hub) Results(ctx context.Context, q Query) (Page, error) { return h.store.Results(ctx, q) }

// Units lists the units.
func (h *Hub) Units(ctx context.Context) ([]UnitInfo, error) { return h.store.Units(ctx) }

// importChunk is how many records of an import go in one transaction.
const importChunk = 2000

// Import is ImportContext without a deadline.
func (h *Hub) Import(r io.Reader) (IngestResult, error) {
	return h.ImportContext(context.Background(), r)
}

// ImportContext verifies and ingests a hand-carried export (see outbox.Export)
// without holding it in memory: the encrypted file is spooled to an
// unlinked temporary file, scanned once to verify its signature, then
// again to store its records in transactions of importChunk.
func (h *Hub) ImportContext(ctx context.Context, r io.Reader) (IngestResult, error) {
	if len(h.opts.Identities) == 0 {
		return IngestResult{}, ErrNoIdentity
	}
	if h.opts.Roots == nil {
		return IngestResult{}, errors.New("hub: no CA configured to verify imports")
	}
	f, err := os.CreateTemp(h.opts.SpoolDir, "checkpoint-import-*")
	if err != nil {
		return IngestResult{}, fmt.Errorf("%w: spool: %w", ErrUnavailable, err)
	}
	os.Remove(f.Name()) // nothing left behind, whatever happens
	defer f.Close()
	if _, err := io.Copy(f, r); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return IngestResult{}, fmt.Errorf("%w: import larger than %d bytes", errTooLarge, mbe.Limit)
		}
		return IngestResult{}, fmt.Errorf("%w: read: %w", outbox.ErrBadExport, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return IngestResult{}, err
	}
	info, err := outbox.ScanExport(f, h.opts.Identities, h.opts.Roots, func(outbox.Record) error { return ctx.Err() })
	if err != nil {
		return IngestResult{}, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return IngestResult{}, err
	}
	total := IngestResult{Unit: info.Unit, Acked: []string{}}
	var chunk []outbox.Record
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		res, err := h.Ingest(ctx, IngestRequest{Unit: info.Unit, Records: chunk, Source: SourceImport})
		if err != nil {
			return err
		}
		total.Acked = append(total.Acked, res.Acked...)
		total.New += res.New
		total.Duplicates += res.Duplicates
		chunk = chunk[:0]
		return nil
	}
	_, err = outbox.ScanExport(f, h.opts.Identities, h.opts.Roots, func(rec outbox.Record) error {
		chunk = append(chunk, rec)
		if len(chunk) == importChunk {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	return total, err
}

func (h *Hub) isOperator(id, role string) bool {
	return role == "operator" && (len(h.opts.Operators) == 0 || slices.Contains(h.opts.Operators, id))
}

// Server returns an http.Server for the hub's handler with its timeouts
// and header limit; serve it with tls.NewListener(ln, tlsCfg).
func (h *Hub) Server(tlsCfg *tls.Config, errLog *slog.Logger) *http.Server {
	l := h.opts.Limits
	srv := &http.Server{
		Handler:           h.Handler(),
		TLSConfig:         tlsCfg,
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		ReadTimeout:       l.ReadTimeout,
		WriteTimeout:      l.WriteTimeout,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
	}
	if errLog != nil {
		srv.ErrorLog = slog.NewLogLogger(errLog.Handler(), slog.LevelDebug)
	}
	srv.RegisterOnShutdown(h.CloseStreams)
	return srv
}
