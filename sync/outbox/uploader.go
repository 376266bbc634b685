package outbox

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/checkpoint-edge/checkpoint/internal/backoff"
)

// ResultsPath is the hub's ingestion endpoint.
const ResultsPath = "/v1/results"

// UploaderOptions configure an Uploader. Zero values take the defaults noted.
type UploaderOptions struct {
	// HubURL is the hub's base URL, e.g. https://hq.example:8443.
	HubURL string
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
	url    string
	log    *slog.Logger
	clock  Clock

	mu sync.Mutex // one upload at a time keeps per-class order at the hub
}

// NewUploader prepares an uploader for ob. It does not start it.
func NewUploader(ob *Outbox, opts UploaderOptions) (*Uploader, error) {
	if opts.HubURL == "" {
		return nil, errors.New("outbox: uploader: no hub URL")
	}
	if !strings.HasPrefix(opts.HubURL, "https://") && opts.Transport == nil {
		return nil, errors.New("outbox: uploader: hub URL must be https://")
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
	return &Uploader{
		ob:     ob,
		opts:   opts,
		client: &http.Client{Transport: tr},
		url:    strings.TrimRight(opts.HubURL, "/") + ResultsPath,
		log:    log,
		clock:  opts.Clock,
	}, nil
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
func (u *Uploader) UploadOnce(ctx context.Context) (int, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	recs, err := u.ob.Peek(u.opts.MaxItems, u.opts.MaxBytes)
	if err != nil || len(recs) == 0 {
		return 0, err
	}
	body, err := marshal(Batch{Items: recs})
	if err != nil {
		return 0, fmt.Errorf("outbox: encode batch: %w", err)
	}
	start := u.clock.Now()
	acked, err := u.post(ctx, body)
	now := u.clock.Now()
	if err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		u.recordFailure(now, err)
		return 0, err
	}
	sent := make(map[string]bool, len(recs))
	for _, r := range recs {
		sent[r.Key] = true
	}
	keys := acked[:0]
	for _, k := range acked {
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

func (u *Uploader) post(ctx context.Context, body []byte) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, u.opts.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.url, bytes.NewReader(body))
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
		return nil, fmt.Errorf("%w: %s", ErrHubUnavailable, resp.Status)
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
	return br.Acked, nil
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
