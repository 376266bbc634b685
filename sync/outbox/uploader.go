package outbox

import (
	"bytes"
	"context"
	"crypto"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/checkpoint-edge/checkpoint/audit"
	"github.com/checkpoint-edge/checkpoint/internal/backoff"
)

// ResultsPath is the hub's ingestion endpoint.
const ResultsPath = "/v1/results"

// AuditSource is the unit's audit log as the uploader anchors it at
// headquarters (*audit.Log implements it).
type AuditSource interface {
	Proof(after uint64, maxEntries, maxBytes int) (audit.Head, []json.RawMessage, error)
}

// UploaderOptions configure an Uploader. Zero values take the defaults noted.
type UploaderOptions struct {
	// HubURL is the hub's base URL, e.g. https://hq.example:8443.
	HubURL string
	// HubURLs are further hub replicas, tried in turn after HubURL when a
	// hub is unreachable or answers 5xx/429; the uploader stays with the
	// one that last answered. A batch a timed-out replica may still commit
	// is deduplicated by its idempotency keys, and the hub's per-unit lock
	// keeps per-class order (hub/README.md).
	HubURLs []string
	// Audit, if set, is anchored at headquarters with every upload: its
	// signed head and the entries since the head headquarters last
	// acknowledged (audit.Anchor). AuditAckPath keeps that acknowledged
	// head for `checkpointctl audit verify --against-hq`. AuditSigner signs
	// the head (default: the TLS certificate's key).
	Audit        AuditSource
	AuditAckPath string
	AuditSigner  crypto.Signer
	// AuditMaxEntries bounds the entries sent per upload (default 256).
	AuditMaxEntries int
	// TLS is the unit's mutual-TLS client configuration (pki.ClientConfig).
	TLS *tls.Config
	// Transport overrides the HTTP transport built from TLS (tests).
	Transport http.RoundTripper
	// MaxItems (default 500) and MaxBytes (default 1 MiB) bound a batch; a
	// single larger item is still sent alone.
	MaxItems int
	MaxBytes int64
	// BytesPerSecond caps upload bandwidth on metered links; 0 = no cap.
	BytesPerSecond int64
	// RequestTimeout bounds one POST, so a stalled link is detected
	// (default 30 s).
	RequestTimeout time.Duration
	// MinBackoff (default 1 s) and MaxBackoff (default 5 min) bound the
	// exponential backoff after failures; each wait is jittered.
	MinBackoff, MaxBackoff time.Duration
	// PollInterval is how often an idle Run looks for work besides the
	// enqueue wake-up (default 10 s).
	PollInterval time.Duration
	Logger       *slog.Logger
	Clock        Clock
}

// Uploader drains an Outbox to the hub.
type Uploader struct {
	ob     *Outbox
	opts   UploaderOptions
	client *http.Client
	urls   []string
	log    *slog.Logger
	clock  Clock

	mu  sync.Mutex // one upload at a time keeps per-class order at the hub
	cur int        // index in urls of the hub that last answered
	// Audit anchoring (under mu): base is the head headquarters holds as
	// far as we know; sent and status describe the last anchor sent.
	base   audit.Head
	sent   audit.Head
	status string
}

// NewUploader prepares an uploader for ob. It does not start it.
func NewUploader(ob *Outbox, opts UploaderOptions) (*Uploader, error) {
	var urls []string
	for _, h := range append([]string{opts.HubURL}, opts.HubURLs...) {
		if h == "" {
			continue
		}
		if !strings.HasPrefix(h, "https://") && opts.Transport == nil {
			return nil, fmt.Errorf("outbox: uploader: hub URL %q must be https://", h)
		}
		urls = append(urls, strings.TrimRight(h, "/")+ResultsPath)
	}
	if len(urls) == 0 {
		return nil, errors.New("outbox: uploader: no hub URL")
	}
	if opts.TLS == nil && opts.Transport == nil {
		return nil, errors.New("outbox: uploader: no TLS configuration")
	}
	if opts.MaxItems <= 0 {
		opts.MaxItems = 500
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = 1 << 20
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = 30 * time.Second
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = time.Second
	}
	if opts.MaxBackoff < opts.MinBackoff {
		opts.MaxBackoff = max(5*time.Minute, opts.MinBackoff)
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 10 * time.Second
	}
	if opts.Clock == nil {
		opts.Clock = ob.clock
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tr := opts.Transport
	if tr == nil {
		tr = &http.Transport{
			TLSClientConfig:     opts.TLS,
			TLSHandshakeTimeout: opts.RequestTimeout,
			MaxIdleConnsPerHost: 2,
			IdleConnTimeout:     90 * time.Second,
		}
	}
	u := &Uploader{
		ob:     ob,
		opts:   opts,
		client: &http.Client{Transport: tr},
		urls:   urls,
		log:    log,
		clock:  opts.Clock,
	}
	if opts.Audit != nil {
		if u.opts.AuditMaxEntries <= 0 {
			u.opts.AuditMaxEntries = 256
		}
		if u.opts.AuditSigner == nil && opts.TLS != nil && len(opts.TLS.Certificates) > 0 {
			u.opts.AuditSigner, _ = opts.TLS.Certificates[0].PrivateKey.(crypto.Signer)
		}
		if u.opts.AuditSigner == nil {
			return nil, errors.New("outbox: uploader: audit anchoring needs a signing key")
		}
		if opts.AuditAckPath != "" {
			// Start from the head headquarters acknowledged last time; if
			// the file is gone, headquarters says which head it holds.
			if a, err := audit.LoadAck(opts.AuditAckPath); err == nil && a.Unit == ob.UnitID() {
				u.base, u.status = a.Head, a.Status
			}
		}
	}
	return u, nil
}

// Run uploads whenever there is work, until ctx is cancelled; it returns
// nil then. Failures are retried with jittered exponential backoff.
func (u *Uploader) Run(ctx context.Context) error {
	failures := 0
	for {
		n, err := u.UploadOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		var wait <-chan time.Time
		switch {
		case err != nil:
			failures++
			d := u.Backoff(failures)
			// A hub that said when to come back (429/503 Retry-After) is
			// not asked sooner, within MaxBackoff.
			var ra *retryAfterError
			if errors.As(err, &ra) && ra.after > d {
				d = min(ra.after, u.opts.MaxBackoff)
			}
			u.log.Debug("outbox upload failed; backing off", "err", err, "failures", failures, "wait", d)
			wait = u.clock.After(d)
		case n == 0:
			failures = 0
			wait = u.clock.After(u.opts.PollInterval)
		default:
			failures = 0
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-wait:
		case <-u.ob.Wake():
			// New work; after a failure still honour the backoff so that a
			// busy desk does not hammer a dead hub.
			if err != nil {
				select {
				case <-ctx.Done():
					return nil
				case <-wait:
				}
			}
		}
	}
}

// Drain uploads until the outbox is empty or an upload fails; progress (may
// be nil) is called after each batch with the totals so far. It returns the
// number of records the hub acknowledged.
func (u *Uploader) Drain(ctx context.Context, progress func(done, remaining int)) (int, error) {
	done := 0
	for {
		n, err := u.UploadOnce(ctx)
		done += n
		if err != nil {
			return done, err
		}
		if progress != nil {
			progress(done, u.ob.Status().Depth)
		}
		if n == 0 {
			return done, nil
		}
	}
}

// Backoff returns the wait before retry number failures (1-based): doubling
// from MinBackoff up to MaxBackoff, with "equal jitter" (half fixed, half
// random) so that a fleet does not reconnect in lockstep after an outage.
func (u *Uploader) Backoff(failures int) time.Duration {
	return backoff.Policy{Initial: u.opts.MinBackoff, Max: u.opts.MaxBackoff, Factor: 2}.Jittered(failures, nil)
}

// UploadOnce sends one batch and deletes what the hub acknowledged. It
// returns how many records were acknowledged (0 when the outbox is empty).
// With an audit source, the batch carries the signed audit head; when the
// outbox is empty but the head moved, the head is sent alone.
func (u *Uploader) UploadOnce(ctx context.Context) (int, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	recs, err := u.ob.Peek(u.opts.MaxItems, u.opts.MaxBytes)
	if err != nil {
		return 0, err
	}
	anchor := u.anchor()
	if len(recs) == 0 && !u.anchorPending(anchor) {
		return 0, nil
	}
	body, err := marshal(Batch{Items: recs, Audit: anchor})
	if err != nil {
		return 0, fmt.Errorf("outbox: encode batch: %w", err)
	}
	if recs == nil {
		// An audit-only batch: "items": [] rather than null.
		body, _ = marshal(struct {
			Items []Record      `json:"items"`
			Audit *audit.Anchor `json:"audit"`
		}{[]Record{}, anchor})
	}
	start := u.clock.Now()
	br, err := u.postAny(ctx, body)
	now := u.clock.Now()
	if err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		u.recordFailure(now, err)
		return 0, err
	}
	if anchor != nil {
		u.anchored(anchor, br.Audit, now)
	}
	sent := make(map[string]bool, len(recs))
	for _, r := range recs {
		sent[r.Key] = true
	}
	keys := br.Acked[:0]
	for _, k := range br.Acked {
		if sent[k] { // the hub may only confirm what we sent
			keys = append(keys, k)
		}
	}
	n, err := u.ob.Ack(keys)
	if err != nil {
		u.recordFailure(now, err)
		return n, err
	}
	u.recordSuccess(now, n)
	if len(keys) < len(recs) {
		// Should not happen with a correct hub; the rest stays queued.
		u.log.Warn("hub acknowledged part of a batch", "sent", len(recs), "acked", len(keys))
	}
	u.throttle(ctx, start, len(body))
	return n, nil
}

// anchor builds the signed audit anchor for the next upload (nil without
// an audit source, or when the log cannot be read: results still go).
func (u *Uploader) anchor() *audit.Anchor {
	if u.opts.Audit == nil {
		return nil
	}
	head, entries, err := u.opts.Audit.Proof(u.base.Seq, u.opts.AuditMaxEntries, audit.MaxAnchorBytes/2)
	if err != nil {
		u.log.Error("audit log unreadable: head not anchored with this upload", "err", err)
		return nil
	}
	base := u.base
	if base.Seq == 0 {
		base.Hash = audit.GenesisHash
	}
	a := &audit.Anchor{Head: head, Time: u.clock.Now().UTC(), Base: base, Entries: entries}
	if err := a.Sign(u.ob.UnitID(), u.opts.AuditSigner); err != nil {
		u.log.Error("audit head not signed", "err", err)
		return nil
	}
	return a
}

// anchorPending reports whether an anchor is worth sending without
// records: headquarters does not hold the unit's head yet, and either the
// head moved since the last anchor or the last one made progress (a proof
// sent in parts). A head headquarters refused is not resent until it moves.
func (u *Uploader) anchorPending(a *audit.Anchor) bool {
	if a == nil || a.Head == u.base {
		return false
	}
	return a.Head != u.sent || u.status == audit.AnchorOK || u.status == audit.AnchorResync
}

// anchored records headquarters' answer to an anchor: the head it holds
// becomes the base of the next proof, and is kept on disk for `audit
// verify --against-hq`.
func (u *Uploader) anchored(sent *audit.Anchor, ack *audit.Ack, now time.Time) {
	if ack == nil {
		u.log.Warn("hub did not answer the audit anchor (an older hub?)")
		return
	}
	changed := ack.Head != u.base || ack.Status != u.status
	u.sent, u.base, u.status = sent.Head, ack.Head, ack.Status
	u.ob.setLink(func(l *LinkStatus) { l.AuditAnchored, l.AuditStatus = ack.Head.Seq, ack.Status })
	switch ack.Status {
	case audit.AnchorOK, audit.AnchorResync:
		if ack.Status == audit.AnchorResync {
			u.log.Info("hub holds another audit head: resending from it", "hq_seq", ack.Head.Seq)
		}
	default:
		u.log.Error("headquarters reports that this unit's audit log does not extend the head it anchored",
			"status", ack.Status, "hq_seq", ack.Head.Seq, "local_seq", sent.Head.Seq, "detail", ack.Detail)
	}
	if changed && u.opts.AuditAckPath != "" {
		if err := audit.SaveAck(u.opts.AuditAckPath, audit.Acknowledged{Unit: u.ob.UnitID(), Head: ack.Head, Status: ack.Status, At: now.UTC()}); err != nil {
			u.log.Error("acknowledged audit head not saved", "err", err)
		}
	}
}

// retryAfterError is a refusal that said when to come back.
type retryAfterError struct {
	after time.Duration
	err   error
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

// postAny posts body to the hub that last answered, then to the others in
// turn while they are unavailable. A refusal (4xx) is not retried
// elsewhere: every replica would say the same.
func (u *Uploader) postAny(ctx context.Context, body []byte) (*BatchResponse, error) {
	var err error
	for i := range u.urls {
		k := (u.cur + i) % len(u.urls)
		var br *BatchResponse
		br, err = u.post(ctx, u.urls[k], body)
		if err == nil {
			if k != u.cur {
				u.log.Info("uploading to another hub", "url", strings.TrimSuffix(u.urls[k], ResultsPath))
			}
			u.cur = k
			return br, nil
		}
		if ctx.Err() != nil || errors.Is(err, ErrHubRejected) {
			return nil, err
		}
	}
	return nil, err
}

func (u *Uploader) post(ctx context.Context, url string, body []byte) (*BatchResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, u.opts.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := u.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrHubUnavailable, err)
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("%w: read response: %w", ErrHubUnavailable, err)
	}
	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode >= 500, resp.StatusCode == http.StatusRequestTimeout, resp.StatusCode == http.StatusTooManyRequests:
		err := fmt.Errorf("%w: %s", ErrHubUnavailable, resp.Status)
		if s, perr := strconv.Atoi(resp.Header.Get("Retry-After")); perr == nil && s > 0 {
			return nil, &retryAfterError{after: time.Duration(s) * time.Second, err: err}
		}
		return nil, err
	default:
		return nil, fmt.Errorf("%w: %s: %s", ErrHubRejected, resp.Status, bytes.TrimSpace(rb[:min(len(rb), 200)]))
	}
	var br BatchResponse
	if err := json.Unmarshal(rb, &br); err != nil {
		return nil, fmt.Errorf("%w: bad response: %w", ErrHubUnavailable, err)
	}
	if br.Unit != u.ob.UnitID() {
		return nil, fmt.Errorf("%w: hub sees this unit as %q but the outbox belongs to %q (wrong certificate?)", ErrHubRejected, br.Unit, u.ob.UnitID())
	}
	return &br, nil
}

// throttle sleeps so that the average rate stays under BytesPerSecond.
func (u *Uploader) throttle(ctx context.Context, start time.Time, n int) {
	if u.opts.BytesPerSecond <= 0 {
		return
	}
	want := time.Duration(float64(n) / float64(u.opts.BytesPerSecond) * float64(time.Second))
	if d := want - u.clock.Now().Sub(start); d > 0 {
		select {
		case <-ctx.Done():
		case <-u.clock.After(d):
		}
	}
}

func (u *Uploader) recordFailure(now time.Time, err error) {
	var prev, next LinkState
	u.ob.setLink(func(l *LinkStatus) {
		prev = l.State
		l.LastAttempt = now
		l.LastError = err.Error()
		l.ConsecutiveFailures++
		if l.ConsecutiveFailures >= DownAfter {
			l.State = LinkDown
		} else {
			l.State = LinkDegraded
		}
		next = l.State
	})
	if prev != next {
		u.log.Warn("hub link state changed", "state", next.String(), "err", err)
	}
}

func (u *Uploader) recordSuccess(now time.Time, n int) {
	var prev LinkState
	u.ob.setLink(func(l *LinkStatus) {
		prev = l.State
		l.LastAttempt = now
		l.LastSuccess = now
		l.ConsecutiveFailures = 0
		l.State = LinkUp
		l.Uploaded += uint64(n)
	})
	if prev != LinkUp {
		u.log.Info("hub link state changed", "state", LinkUp.String())
	}
}

// Close releases idle connections.
func (u *Uploader) Close() error {
	u.client.CloseIdleConnections()
	return nil
}
