package pull

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/checkpoint-edge/checkpoint/internal/backoff"
	"github.com/checkpoint-edge/checkpoint/sync/bundle"
)

// Config configures a Puller.
type Config struct {
	// BaseURL is where the publication layout is served, e.g.
	// https://hub.example:8443/v1/bundles/.
	BaseURL     string
	WatchlistID string
	// TLS is the unit's mutual-TLS configuration (pki.ClientConfig).
	// Client, if set, is used instead (it must carry its own TLS).
	TLS    *tls.Config
	Client *http.Client
	// Dir holds partial and finished downloads; created 0700.
	Dir string
	// Store receives the bundles; Bundle verifies them (trust root,
	// identities, limits).
	Store  bundle.Store
	Bundle bundle.Options
	// Target, if set, replaces WatchlistID and Store: what is pulled and
	// where it is installed (a channel: sync/channel.Target).
	Target Target
	// RateLimit caps downloads in bytes per second (0 = unlimited).
	RateLimit int64
	// Interval is the polling period (0 = 15 min), spread by ±Jitter
	// (a fraction, 0 = 0.2) so that a fleet does not poll in step.
	Interval time.Duration
	Jitter   float64
	// Backoff spaces retries after failures (zero = 1 s to 5 min).
	Backoff Backoff
	// MaxAttempts bounds attempts without progress per download (0 = 8).
	MaxAttempts int
	Clock       Clock
	Logger      *slog.Logger
}

// Link is the state of the link to the hub, for status pages.
type Link struct {
	State       string    `json:"state"` // "unknown", "up", "down"
	LastAttempt time.Time `json:"last_attempt,omitzero"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	Failures    int       `json:"consecutive_failures"`
	// Installed is the sequence installed by the last successful pull.
	Installed uint64 `json:"installed"`
	Latest    uint64 `json:"latest"`
}

// Link states.
const (
	LinkUnknown = "unknown"
	LinkUp      = "up"
	LinkDown    = "down"
)

// Result describes one pull.
type Result struct {
	// NotModified means the index was unchanged (304).
	NotModified bool `json:"not_modified"`
	// Installed lists the sequences installed, in order.
	Installed []uint64 `json:"installed"`
	// Sequence is the installed sequence afterwards; Latest the hub's.
	Sequence  uint64  `json:"sequence"`
	Latest    uint64  `json:"latest"`
	Downloads []Stats `json:"downloads"`
	// FellBack is set when a delta was refused and the full bundle used.
	FellBack bool `json:"fell_back,omitempty"`
}

// Puller pulls bundles from the hub. Its methods are safe for concurrent
// use; pulls are serialised.
type Puller struct {
	cfg    Config
	target Target
	client *http.Client
	base   *url.URL
	log    *slog.Logger

	pullMu sync.Mutex // one pull at a time
	etag   string
	index  *bundle.Index

	mu     sync.Mutex
	link   Link
	closed bool
}

// New validates cfg and prepares the download directory.
func New(cfg Config) (*Puller, error) {
	if cfg.Target == nil {
		if cfg.Store == nil || cfg.Bundle.Trust == nil {
			return nil, errors.New("pull: config needs a store and a root of trust")
		}
		if cfg.WatchlistID == "" || strings.ContainsAny(cfg.WatchlistID, "/\\") {
			return nil, fmt.Errorf("pull: bad watchlist id %q", cfg.WatchlistID)
		}
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("pull: bad base URL %q", cfg.BaseURL)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	if cfg.Dir == "" {
		return nil, errors.New("pull: config needs a download directory")
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("pull: %w", err)
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 15 * time.Minute
	}
	if cfg.Jitter <= 0 {
		cfg.Jitter = 0.2
	}
	if cfg.Backoff.Min <= 0 {
		cfg.Backoff.Min = time.Second
	}
	if cfg.Backoff.Max <= 0 {
		cfg.Backoff.Max = 5 * time.Minute
	}
	if cfg.Clock == nil {
		cfg.Clock = backoff.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	client := cfg.Client
	if client == nil {
		if u.Scheme != "https" || cfg.TLS == nil {
			return nil, errors.New("pull: the hub must be reached over HTTPS with mutual TLS (config.TLS)")
		}
		tr := &http.Transport{
			TLSClientConfig:       cfg.TLS.Clone(),
			ForceAttemptHTTP2:     true,
			TLSHandshakeTimeout:   30 * time.Second,
			ResponseHeaderTimeout: 60 * time.Second,
			IdleConnTimeout:       90 * time.Second,
		}
		client = &http.Client{Transport: tr}
	}
	p := &Puller{cfg: cfg, target: cfg.Target, client: client, base: u, log: cfg.Logger, link: Link{State: LinkUnknown}}
	if cfg.Target == nil {
		p.target = watchlistTarget{&p.cfg}
	}
	return p, nil
}

// Link returns the link state.
func (p *Puller) Link() Link {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.link
}

// Close stops the Puller's idle connections. It is idempotent; the store
// is not closed.
func (p *Puller) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.closed = true
		p.client.CloseIdleConnections()
	}
	return nil
}

func (p *Puller) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

func (p *Puller) fileURL(name string) string {
	var path strings.Builder
	for _, seg := range strings.Split(p.target.Path(), "/") {
		path.WriteString(url.PathEscape(seg) + "/")
	}
	return p.base.ResolveReference(&url.URL{Path: path.String() + url.PathEscape(name)}).String()
}

// Run pulls until ctx ends: every Interval (jittered) after a success,
// with backoff after failures. Refused bundles are logged and retried at
// the next poll. It returns nil when ctx is cancelled.
func (p *Puller) Run(ctx context.Context) error {
	failures := 0
	for {
		_, err := p.Once(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, ErrClosed) {
			return err
		}
		var d time.Duration
		if err != nil {
			d = p.cfg.Backoff.Delay(failures)
			failures++
			p.log.Warn("pull failed", "target", p.target.Path(), "err", err, "retry_in", d)
		} else {
			failures = 0
			j := (p.cfg.Backoff.rand()*2 - 1) * p.cfg.Jitter
			d = time.Duration(float64(p.cfg.Interval) * (1 + j))
		}
		if sleep(ctx, p.cfg.Clock, d) != nil {
			return nil
		}
	}
}

// Once fetches the index and installs what the unit is missing.
func (p *Puller) Once(ctx context.Context) (*Result, error) {
	if p.isClosed() {
		return nil, ErrClosed
	}
	p.pullMu.Lock()
	defer p.pullMu.Unlock()
	res, err := p.once(ctx)
	p.mu.Lock()
	p.link.LastAttempt = p.cfg.Clock.Now()
	switch {
	case err == nil:
		p.link.State, p.link.LastSuccess, p.link.LastError, p.link.Failures = LinkUp, p.link.LastAttempt, "", 0
		p.link.Installed, p.link.Latest = res.Sequence, res.Latest
	case isLinkError(err):
		p.link.State, p.link.LastError = LinkDown, err.Error()
		p.link.Failures++
	default:
		// The hub answered: the link is up, the content was refused.
		p.link.State, p.link.LastError = LinkUp, err.Error()
		p.link.Failures++
	}
	p.mu.Unlock()
	return res, err
}

// isLinkError tells transport failures from refusals of content.
func isLinkError(err error) bool {
	for _, s := range []error{bundle.ErrFormat, bundle.ErrBadSignature, bundle.ErrUnknownSigner, bundle.ErrSignerExpired,
		bundle.ErrSignerRevoked, bundle.ErrRollback, bundle.ErrBaseMismatch, bundle.ErrStateMismatch, bundle.ErrExpired,
		bundle.ErrTooLarge, bundle.ErrNotForThisUnit, bundle.ErrDecrypt, bundle.ErrWatchlistMismatch, ErrIndex, ErrChecksum, ErrNotFound,
		bundle.ErrWrongKind, bundle.ErrChannelMismatch, bundle.ErrRejected} {
		if errors.Is(err, s) {
			return false
		}
	}
	return true
}

func (p *Puller) once(ctx context.Context) (*Result, error) {
	res := &Result{}
	ix, notModified, err := p.fetchIndex(ctx)
	if err != nil {
		return nil, err
	}
	res.NotModified = notModified
	res.Latest = ix.Latest
	installed := p.target.Installed()
	res.Sequence = installed
	plan, err := ix.Plan(installed)
	if t, ok := p.target.(interface{ needsFull() bool }); ok && t.needsFull() {
		plan, err = fullOnly(ix).Plan(installed)
	}
	if err != nil {
		return res, fmt.Errorf("%w: %w", ErrIndex, err)
	}
	for _, e := range plan {
		err := p.install(ctx, e, res)
		if err == nil {
			continue
		}
		if e.Base != 0 && (errors.Is(err, bundle.ErrStateMismatch) || errors.Is(err, bundle.ErrBaseMismatch)) {
			// The local list diverged from headquarters': keep it, and
			// replace it with the full bundle.
			p.log.Warn("delta refused; falling back to a full bundle", "sequence", e.Sequence, "err", err)
			full, ferr := fullOnly(ix).Plan(0)
			if ferr != nil || len(full) == 0 || full[0].Sequence <= p.target.Installed() {
				return res, err
			}
			res.FellBack = true
			if err := p.install(ctx, full[0], res); err != nil {
				return res, err
			}
			break
		}
		return res, err
	}
	res.Sequence = p.target.Installed()
	return res, nil
}

// fullOnly is ix without its deltas.
func fullOnly(ix *bundle.Index) *bundle.Index {
	c := *ix
	c.Bundles = nil
	var best *bundle.IndexEntry
	for i, e := range ix.Bundles {
		if e.Base == 0 && (best == nil || e.Sequence > best.Sequence) {
			best = &ix.Bundles[i]
		}
	}
	if best != nil {
		c.Bundles = []bundle.IndexEntry{*best}
		c.Latest = best.Sequence
	}
	return &c
}

func (p *Puller) install(ctx context.Context, e bundle.IndexEntry, res *Result) error {
	dst := filepath.Join(p.cfg.Dir, e.File)
	st, err := Download(ctx, p.client, p.fileURL(e.File), dst, DownloadOptions{
		Size: e.Size, SHA256: e.SHA256, RateLimit: p.cfg.RateLimit, MaxAttempts: p.cfg.MaxAttempts,
		Backoff: p.cfg.Backoff, Clock: p.cfg.Clock, Logger: p.log,
	})
	res.Downloads = append(res.Downloads, st)
	if err != nil {
		return err
	}
	// The file is ours and private; it is removed whatever the verdict
	// (a refused bundle is fetched again only if the index changes).
	defer os.Remove(dst)
	v, err := p.target.Install(ctx, dst)
	if err != nil {
		return err
	}
	res.Installed = append(res.Installed, v.Header.Sequence)
	p.log.Info("bundle pulled", "target", p.target.Path(), "sequence", v.Header.Sequence, "base", v.Header.BaseSequence,
		"bytes", st.Bytes, "size", st.Size, "requests", st.Requests, "resumes", st.Resumes)
	return nil
}

// fetchIndex gets index.json, conditionally on the ETag of the last one.
func (p *Puller) fetchIndex(ctx context.Context) (*bundle.Index, bool, error) {
	u := p.fileURL(bundle.IndexFile)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, false, fmt.Errorf("pull: %w", err)
	}
	if p.index != nil && p.etag != "" {
		req.Header.Set("If-None-Match", p.etag)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, false, fmt.Errorf("pull: index: %w", err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNotModified:
		if p.index == nil {
			return nil, false, fmt.Errorf("%w: 304 without a cached index", ErrHTTP)
		}
		return p.index, true, nil
	case http.StatusOK:
	case http.StatusNotFound:
		return nil, false, fmt.Errorf("%w: %s", ErrNotFound, u)
	default:
		io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil, false, fmt.Errorf("%w: index: %s", ErrHTTP, resp.Status)
	}
	ix, err := bundle.ReadIndex(resp.Body)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %w", ErrIndex, err)
	}
	if err := p.target.CheckIndex(ix); err != nil {
		return nil, false, err
	}
	p.index, p.etag = ix, resp.Header.Get("ETag")
	return ix, false, nil
}
