package hub

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"time"

	"filippo.io/age"

	"github.com/checkpoint-edge/checkpoint/alerts"
	"github.com/checkpoint-edge/checkpoint/sync/bundle"
)

// AlertOptions configure an AlertPublisher.
type AlertOptions struct {
	// Policy says which categories are shared, with what action and TTL.
	Policy *alerts.Policy
	// Dir is the bundle directory every replica serves (Options.BundleDir);
	// alerts go to Dir/alerts/<channel>/.
	Dir string
	// Key signs the alert bundles: an issuing-authority key the units'
	// root of trust lists (a key of its own for alerts, so that it can be
	// revoked without touching the watchlist's).
	Key        ed25519.PrivateKey
	Recipients []age.Recipient
	Authority  string
	// Interval is how often the alert set is recomputed without a trigger
	// (default 30 s); BundleTTL the lifetime of each published bundle
	// (default 6 h), republished at half of it.
	Interval  time.Duration
	BundleTTL time.Duration
	Logger    *slog.Logger
	Now       func() time.Time
}

// AlertPublisher turns officer-confirmed hits into short-lived alerts for
// the other posts, by policy per category, published as signed bundles of
// the "alerts" channel (alerts package). Units already pull: there is no
// push.
//
// The published set is a pure function of the database: the confirmed
// officer decisions of the last MaxTTL (the latest decision of each
// transaction counts, so a later false_positive withdraws an alert), their
// results' HIT categories and watchlist entries, and the policy. One
// replica publishes at a time (Store.Lead); any replica that becomes the
// leader recomputes the whole set, so nothing depends on which replica
// saw the confirmation.
type AlertPublisher struct {
	o AlertOptions

	mu        sync.Mutex
	digest    string
	published time.Time
}

// NewAlertPublisher checks o.
func NewAlertPublisher(o AlertOptions) (*AlertPublisher, error) {
	if o.Policy == nil || o.Dir == "" || len(o.Key) != ed25519.PrivateKeySize {
		return nil, errors.New("hub: alerts need a policy, a bundle directory and a signing key")
	}
	if o.Interval <= 0 {
		o.Interval = 30 * time.Second
	}
	if o.BundleTTL <= 0 {
		o.BundleTTL = 6 * time.Hour
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Authority == "" {
		o.Authority = "HQ"
	}
	return &AlertPublisher{o: o}, nil
}

// run leads or waits to lead; as the leader it reconciles on every
// officer decision on the feed and every Interval.
func (a *AlertPublisher) run(ctx context.Context, h *Hub) {
	for ctx.Err() == nil {
		lost, release, ok, err := h.store.Lead(ctx, "alerts")
		if err != nil || !ok {
			select {
			case <-ctx.Done():
				return
			case <-time.After(a.o.Interval):
			}
			continue
		}
		a.o.Logger.Info("alert publisher: this replica publishes shared alerts")
		a.lead(ctx, h, lost)
		release()
	}
}

func (a *AlertPublisher) lead(ctx context.Context, h *Hub, lost <-chan struct{}) {
	sub := h.feed.subscribe(feedBuffer)
	defer h.feed.unsubscribe(sub)
	tick := time.NewTicker(a.o.Interval)
	defer tick.Stop()
	for {
		if _, err := a.Reconcile(ctx, h.store); err != nil && ctx.Err() == nil {
			a.o.Logger.Warn("alert publisher: reconcile failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-lost:
			return
		case <-sub.dropped:
			sub = h.feed.subscribe(feedBuffer)
		case <-tick.C:
		case e := <-sub.ch:
			if e.Kind != "officer_decision" {
				continue
			}
		}
	}
}

// Reconcile computes the alerts that should be live now and publishes
// them if they differ from the last bundle (or that bundle is past half
// its life). It returns the live alerts.
func (a *AlertPublisher) Reconcile(ctx context.Context, st Store) ([]alerts.Alert, error) {
	now := a.o.Now().UTC()
	live, err := a.compute(ctx, st, now)
	if err != nil {
		return nil, err
	}
	recs := make([]bundle.Record, 0, len(live))
	for _, al := range live {
		d, err := json.Marshal(al)
		if err != nil {
			return nil, err
		}
		recs = append(recs, bundle.Record{ID: al.ID, ExpiresAt: al.ExpiresAt, Data: d})
	}
	sum := sha256.New()
	for _, r := range recs {
		sum.Write(r.Data)
		sum.Write([]byte{0})
	}
	digest := hex.EncodeToString(sum.Sum(nil))
	a.mu.Lock()
	defer a.mu.Unlock()
	ch := a.o.Policy.Channel
	_, statErr := os.Stat(filepath.Join(a.o.Dir, alerts.Kind, ch, bundle.IndexFile))
	switch {
	case len(recs) == 0 && errors.Is(statErr, os.ErrNotExist):
		return live, nil // nothing ever shared: nothing to withdraw
	case digest == a.digest && now.Sub(a.published) < a.o.BundleTTL/2:
		return live, nil
	}
	if err := a.publish(recs, now); err != nil {
		return nil, err
	}
	a.digest, a.published = digest, now
	a.o.Logger.Info("shared alerts published", "channel", ch, "alerts", len(recs))
	return live, nil
}

func (a *AlertPublisher) publish(recs []bundle.Record, now time.Time) error {
	ch := a.o.Policy.Channel
	seq, err := bundle.NextSequence(a.o.Dir, alerts.Kind, ch, now)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	signed, err := bundle.BuildChannel(&buf, recs, bundle.ChannelBuildOptions{Kind: alerts.Kind, Channel: ch, Sequence: seq,
		IssuedAt: now, ExpiresAt: now.Add(a.o.BundleTTL), Authority: a.o.Authority, Key: a.o.Key, Recipients: a.o.Recipients})
	if err != nil {
		return err
	}
	// The build is written to a hidden file (never served) and published
	// from there: the bundle file then the index, each atomically.
	tmp, err := os.CreateTemp(a.o.Dir, ".alerts-*")
	if err != nil {
		return fmt.Errorf("hub: alerts: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(buf.Bytes())
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("hub: alerts: %w", err)
	}
	_, err = bundle.Publish(a.o.Dir, tmp.Name(), signed, now, 2)
	return err
}

// compute lists the alerts live at now.
func (a *AlertPublisher) compute(ctx context.Context, st Store, now time.Time) ([]alerts.Alert, error) {
	type key struct{ unit, tx string }
	latest := map[key]Stored{}
	q := Query{Kind: "officer_decision", Since: now.Add(-a.o.Policy.MaxTTL()), Order: OrderTime, Limit: 1000}
	for {
		page, err := st.Results(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, r := range page.Results {
			m := metaOf(&r.Record)
			if m.TxID == "" {
				continue
			}
			k := key{r.Unit, m.TxID}
			if p, ok := latest[k]; !ok || r.CreatedAt.After(p.CreatedAt) || (r.CreatedAt.Equal(p.CreatedAt) && r.UnitSeq > p.UnitSeq) {
				latest[k] = r
			}
		}
		if page.Next == "" {
			break
		}
		q.Cursor = page.Next
	}
	var live []alerts.Alert
	for k, d := range latest {
		if metaOf(&d.Record).Verdict != "confirmed" {
			continue
		}
		page, err := st.Results(ctx, Query{Unit: k.unit, TxID: k.tx, Kind: "result", Decision: "HIT", Order: OrderTime, Limit: 1})
		if errors.Is(err, ErrUnknownUnit) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if len(page.Results) == 0 {
			continue // the result has not arrived yet; the next round sees it
		}
		res := page.Results[0]
		m := metaOf(&res.Record)
		al, ok := a.o.Policy.FromConfirmed(alerts.Hit{Post: k.unit, TxID: k.tx, Categories: m.Categories, Entries: m.Entries,
			SeenAt: res.CreatedAt, ConfirmedAt: d.CreatedAt})
		if ok && now.Before(al.ExpiresAt) {
			live = append(live, al)
		}
	}
	sort.Slice(live, func(i, j int) bool { return live[i].ID < live[j].ID })
	return slices.Clip(live), nil
}
