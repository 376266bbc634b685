// Package prearrival is headquarters' pre-arrival screening: it accepts
// API (PAXLST) and PNR (PNRGOV) messages from airline gateways and
// operators (an authenticated upload endpoint and an inbox directory),
// screens every traveller against the current watchlist version with the
// desk's matcher, keeps the data encrypted with retention enforced, and
// publishes each arrival port's alerts as a signed, encrypted "prearrival"
// channel bundle (sync/bundle, sync/channel) that the units at that port
// pull. Each flight's alerts expire a few hours after its arrival.
//
// The service keeps its own copy of the watchlist, installed from the
// bundles the hub publishes (so it screens against exactly what units get,
// at the newest version), and screens upcoming flights again when a new
// version arrives. It has its own storage (paxdata.db, watchlist.db and a
// hash-chained audit.log under its state directory) and is mounted on the
// hub's listener by the caller (Handler).
//
// Nothing here logs names, dates of birth, document numbers or booking
// references; airline gateways get a receipt, never screening results.
package prearrival

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"

	"filippo.io/age"

	"github.com/checkpoint-edge/checkpoint/audit"
	"github.com/checkpoint-edge/checkpoint/internal/atomicfile"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/paxdata"
	"github.com/checkpoint-edge/checkpoint/paxdata/paxstore"
	"github.com/checkpoint-edge/checkpoint/sync/bundle"
	"github.com/checkpoint-edge/checkpoint/sync/trust"
	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// Config configures the service.
type Config struct {
	// Dir is the state directory (paxdata.db, watchlist.db, audit.log);
	// Key the key-encryption key of its stores.
	Dir string
	Key seal.KeyProvider
	// BundleDir is the hub's publication directory: the watchlist is read
	// from it and the prearrival channels are written into it.
	BundleDir   string
	WatchlistID string // default "national"
	// Trust and Identities verify and decrypt the watchlist bundles
	// (headquarters' own age identity must be among their recipients).
	Trust      *trust.Root
	Identities []age.Identity
	// Sign signs the prearrival bundles (a key the units' root of trust
	// lists); Recipients encrypt them (the fleet key or unit keys).
	Sign       ed25519.PrivateKey
	Recipients []age.Recipient
	Authority  string // default "HQ"
	// Inbox is a directory watched for message files ("" = none); files
	// are deleted once stored.
	Inbox string
	// Uploaders are the certificate ids (sync/pki) allowed to POST
	// messages: airline gateways and operators.
	Uploaders []string
	// Zones gives the time zone of arrival ports (IATA code): API times
	// are local. A port without one is read as UTC and its alerts get 14
	// more hours, so that they never expire before the flight lands.
	Zones map[string]*time.Location
	// Grace keeps a flight's alerts this long after its arrival (6 h).
	Grace     time.Duration
	Retention paxstore.Retention
	// Workers screen in parallel (default: every core).
	Workers int
	// MaxUpload bounds one message file (16 MiB).
	MaxUpload int64
	Logger    *slog.Logger
	Now       func() time.Time
}

// Service is the running pre-arrival screening.
type Service struct {
	cfg   Config
	log   *slog.Logger
	store *paxstore.Store
	wl    *watchlist.Store
	audit *audit.Log

	mu      sync.Mutex // screening, publication and watchlist installs
	waiting chan struct{}
}

// Open opens the stores and the audit log.
func Open(cfg Config) (*Service, error) {
	if cfg.Dir == "" || cfg.Key == nil || cfg.BundleDir == "" || cfg.Trust == nil || len(cfg.Sign) != ed25519.PrivateKeySize {
		return nil, errors.New("prearrival: config needs a state directory, a key, the bundle directory, a root of trust and a signing key")
	}
	if len(cfg.Recipients) == 0 {
		return nil, errors.New("prearrival: no recipients to encrypt the alerts to")
	}
	if cfg.WatchlistID == "" {
		cfg.WatchlistID = "national"
	}
	if cfg.Authority == "" {
		cfg.Authority = "HQ"
	}
	if cfg.Grace <= 0 {
		cfg.Grace = 6 * time.Hour
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.MaxUpload <= 0 {
		cfg.MaxUpload = 16 << 20
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("prearrival: %w", err)
	}
	s := &Service{cfg: cfg, log: cfg.Logger, waiting: make(chan struct{}, 8)}
	var err error
	if s.store, err = paxstore.Open(filepath.Join(cfg.Dir, "paxdata.db"), cfg.Key, paxstore.Options{Logger: s.log}); err != nil {
		return nil, err
	}
	if s.wl, err = watchlist.Open(filepath.Join(cfg.Dir, "watchlist.db"), cfg.Key, watchlist.Options{Logger: s.log}); err != nil {
		s.store.Close()
		return nil, fmt.Errorf("prearrival: watchlist copy: %w", err)
	}
	if s.audit, _, err = audit.Open(filepath.Join(cfg.Dir, "audit.log")); err != nil {
		s.wl.Close()
		s.store.Close()
		return nil, fmt.Errorf("prearrival: %w", err)
	}
	return s, nil
}

// Close closes the stores and the audit log.
func (s *Service) Close() error {
	return errors.Join(s.store.Close(), s.wl.Close(), s.audit.Close())
}

// Watchlist is the version screening runs against.
func (s *Service) Watchlist() watchlist.Meta { return s.wl.Meta() }

// Run keeps the watchlist current, watches the inbox and enforces
// retention until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	sync := time.NewTicker(30 * time.Second)
	defer sync.Stop()
	inbox := time.NewTicker(10 * time.Second)
	defer inbox.Stop()
	retain := time.NewTicker(10 * time.Minute)
	defer retain.Stop()
	s.syncAndRescreen(ctx)
	s.Enforce()
	for {
		if s.cfg.Inbox != "" {
			s.ScanInbox(ctx)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-sync.C:
			s.syncAndRescreen(ctx)
		case <-retain.C:
			s.Enforce()
		case <-inbox.C:
		}
	}
}

func (s *Service) syncAndRescreen(ctx context.Context) {
	changed, err := s.SyncWatchlist(ctx)
	if err != nil {
		s.log.Warn("prearrival: watchlist sync failed", "err", err)
		return
	}
	if changed {
		if _, err := s.Rescreen(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("prearrival: rescreening failed", "err", err)
		}
	}
}

// SyncWatchlist installs the newest watchlist version published in the
// bundle directory (the delta chain or the full bundle, verified like a
// unit does). It reports whether the version changed.
func (s *Service) SyncWatchlist(ctx context.Context) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	dir := filepath.Join(s.cfg.BundleDir, s.cfg.WatchlistID)
	f, err := os.Open(filepath.Join(dir, bundle.IndexFile))
	if err != nil {
		return false, fmt.Errorf("prearrival: watchlist index: %w", err)
	}
	ix, err := bundle.ReadIndex(f)
	f.Close()
	if err != nil {
		return false, err
	}
	before := s.wl.Meta().Sequence
	plan, err := ix.Plan(before)
	if err != nil {
		return false, err
	}
	opts := bundle.Options{Trust: s.cfg.Trust, Identities: s.cfg.Identities, Now: s.cfg.Now, Logger: s.log}
	for _, e := range plan {
		if _, err := bundle.Install(ctx, filepath.Join(dir, e.File), s.wl, opts); err != nil {
			return s.wl.Meta().Sequence != before, err
		}
	}
	after := s.wl.Meta().Sequence
	if after != before {
		s.audit.Append(audit.KindWatchlistChange, "system", "paxdata_watchlist_installed", map[string]string{
			"watchlist_id": s.cfg.WatchlistID, "from_sequence": fmt.Sprint(before), "to_sequence": fmt.Sprint(after)})
	}
	return after != before, nil
}

// Receipt is what an uploader gets back: what was received, never who was
// flagged.
type Receipt struct {
	Messages []MessageReceipt `json:"messages"`
	// Errors name each message that could not be read (reference,
	// segment, reason).
	Errors []string `json:"errors"`
}

// MessageReceipt acknowledges one message.
type MessageReceipt struct {
	Message    string    `json:"message"`
	Reference  string    `json:"reference"`
	Flight     string    `json:"flight"`
	Arrival    string    `json:"arrival"`
	ArrivalAt  time.Time `json:"arrival_at"`
	Travellers int       `json:"travellers"`
	Screened   bool      `json:"screened"`
}

// ErrBusy is returned when too many submissions wait already.
var ErrBusy = errors.New("prearrival: busy; try again shortly")

// Submit stores, screens and publishes the messages of one file. source
// names where it came from ("upload:<id>", "inbox:<file>").
func (s *Service) Submit(ctx context.Context, data []byte, source string) (*Receipt, error) {
	select {
	case s.waiting <- struct{}{}:
		defer func() { <-s.waiting }()
	default:
		return nil, ErrBusy
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	res, err := paxdata.Parse(data, paxdata.ParseOptions{Zone: s.zone, Now: s.cfg.Now})
	if err != nil {
		s.audit.Append(audit.KindSystem, "system", "paxdata_refused", map[string]string{"source": source, "reason": err.Error()})
		return nil, err
	}
	rc := &Receipt{Messages: []MessageReceipt{}, Errors: res.ErrorStrings()}
	ports := map[string]bool{}
	for _, m := range res.Manifests {
		mr := MessageReceipt{Message: m.Message, Reference: m.Reference, Flight: m.Flight.Number, Arrival: m.Flight.Arrival,
			ArrivalAt: m.Flight.ExpectedArrival(), Travellers: len(m.Travellers)}
		e := &paxstore.Entry{Meta: paxstore.Meta{ID: paxstore.EntryID(m), Message: m.Message, Reference: m.Reference, Sender: m.Sender,
			Source: source, Flight: m.Flight.Number, Departure: m.Flight.Departure, Arrival: m.Flight.Arrival,
			ArrivalAt: m.Flight.ExpectedArrival(), ReceivedAt: s.cfg.Now().UTC(), Travellers: len(m.Travellers)}, Manifest: m}
		if err := s.screen(ctx, e, source); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			rc.Errors = append(rc.Errors, fmt.Sprintf("message %s: %v", m.Reference, err))
		} else {
			mr.Screened = true
			ports[m.Flight.Arrival] = true
		}
		rc.Messages = append(rc.Messages, mr)
	}
	for _, e := range res.ErrorStrings() {
		s.audit.Append(audit.KindSystem, "system", "paxdata_message_refused", map[string]string{"source": source, "reason": e})
	}
	for _, p := range sortedKeys(ports) {
		if _, err := s.publish(p); err != nil {
			return rc, err
		}
	}
	return rc, nil
}

// screen screens an entry's manifest, stores it and audits the run. An
// entry is stored even when screening fails (no watchlist yet): Rescreen
// picks it up.
func (s *Service) screen(ctx context.Context, e *paxstore.Entry, source string) error {
	sc := &paxdata.Screener{Watchlist: s.wl, ScreenedBy: s.cfg.Authority, Now: s.cfg.Now, Workers: s.cfg.Workers}
	t0 := time.Now()
	r, serr := sc.Screen(ctx, e.Manifest)
	if serr == nil {
		e.Report, e.Flagged = r, len(r.Flagged)
	}
	if err := s.store.Put(e); err != nil {
		return err
	}
	if serr != nil {
		return serr
	}
	m := e.Manifest
	s.audit.Append(audit.KindSystem, "system", "paxdata_screened", map[string]string{
		"source": source, "message": m.Message, "reference": m.Reference, "sender": m.Sender, "flight": m.Flight.Number,
		"departure": m.Flight.Departure, "arrival": m.Flight.Arrival, "arrival_at": m.Flight.ExpectedArrival().Format(time.RFC3339),
		"travellers": fmt.Sprint(len(m.Travellers)), "screened": fmt.Sprint(r.Counts.Screened), "hits": fmt.Sprint(r.Counts.Hits),
		"possible": fmt.Sprint(r.Counts.Possible), "failed": fmt.Sprint(r.Failed), "watchlist_sequence": fmt.Sprint(r.WatchlistSequence)})
	s.log.Info("flight screened", "flight", m.Flight.Number, "arrival", m.Flight.Arrival, "travellers", len(m.Travellers),
		"hits", r.Counts.Hits, "possible", r.Counts.Possible, "took", time.Since(t0))
	return nil
}

// Rescreen screens again every stored flight that has not yet landed
// (plus the grace period) against the current watchlist, and republishes
// the ports it changed. It returns how many messages it screened.
func (s *Service) Rescreen(ctx context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	list, err := s.store.List()
	if err != nil {
		return 0, err
	}
	now, seq := s.cfg.Now(), s.wl.Meta().Sequence
	ports, n := map[string]bool{}, 0
	for _, m := range list {
		if !m.Depersonalised.IsZero() || !now.Before(m.ArrivalAt.Add(s.grace(m.Arrival))) {
			continue
		}
		e, err := s.store.Get(m.ID)
		if err != nil || e.Manifest == nil || (e.Report != nil && e.Report.WatchlistSequence == seq) {
			continue
		}
		if err := s.screen(ctx, e, "rescreen"); err != nil {
			return n, err
		}
		ports[m.Arrival] = true
		n++
	}
	for _, p := range sortedKeys(ports) {
		if _, err := s.publish(p); err != nil {
			return n, err
		}
	}
	return n, nil
}

func (s *Service) zone(airport string) *time.Location { return s.cfg.Zones[airport] }

// grace is how long after the arrival a port's alerts stay: Grace, plus 14
// hours when the port's time zone is unknown (its local times were read
// as UTC).
func (s *Service) grace(port string) time.Duration {
	if s.cfg.Zones[port] != nil {
		return s.cfg.Grace
	}
	return s.cfg.Grace + 14*time.Hour
}

// Publish rebuilds and publishes the prearrival channel of a port.
func (s *Service) Publish(port string) (*bundle.IndexEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.publish(port)
}

// publish builds the port's channel bundle: one record per flight not yet
// past its arrival plus grace, the alerts of its messages merged, each
// record expiring at arrival + grace; the bundle expires with its last
// record (and no sooner than now + grace).
func (s *Service) publish(port string) (*bundle.IndexEntry, error) {
	if !bundle.ValidChannel(port) {
		return nil, fmt.Errorf("prearrival: %q cannot name a channel", port)
	}
	now, grace := s.cfg.Now(), s.grace(port)
	entries, err := s.store.Arriving(port, now.Add(-grace))
	if err != nil {
		return nil, err
	}
	byFlight := map[string]*paxdata.FlightAlerts{}
	var keys []string
	for _, e := range entries {
		if !e.Depersonalised.IsZero() {
			continue
		}
		fa := e.Report.Alerts()
		if prev, ok := byFlight[fa.Key()]; ok {
			prev.Merge(fa)
			continue
		}
		byFlight[fa.Key()] = fa
		keys = append(keys, fa.Key())
	}
	expires := now.Add(grace)
	recs := make([]bundle.Record, 0, len(keys))
	flagged := 0
	for _, k := range keys {
		fa := byFlight[k]
		r, err := fa.Record(fa.ArrivalAt.Add(grace))
		if err != nil {
			return nil, err
		}
		if r.ExpiresAt.After(expires) {
			expires = r.ExpiresAt
		}
		flagged += len(fa.Alerts)
		recs = append(recs, r)
	}
	seq, err := bundle.NextSequence(s.cfg.BundleDir, bundle.KindPrearrival, port, now)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	signed, err := bundle.BuildChannel(&buf, recs, bundle.ChannelBuildOptions{Kind: bundle.KindPrearrival, Channel: port,
		Sequence: seq, IssuedAt: now.Add(-time.Minute), ExpiresAt: expires, Authority: s.cfg.Authority, Key: s.cfg.Sign,
		Recipients: s.cfg.Recipients})
	if err != nil {
		return nil, err
	}
	// The encrypted bundle is written in the state directory first, then
	// published (copied next to the index, atomically).
	tmp := filepath.Join(s.cfg.Dir, "prearrival-"+port+".cpwl")
	if err := atomicfile.WriteFile(tmp, buf.Bytes(), 0o600); err != nil {
		return nil, err
	}
	defer os.Remove(tmp)
	ent, err := bundle.Publish(s.cfg.BundleDir, tmp, signed, now, 2)
	if err != nil {
		return nil, err
	}
	s.audit.Append(audit.KindSystem, "system", "paxdata_published", map[string]string{"port": port, "sequence": fmt.Sprint(seq),
		"flights": fmt.Sprint(len(recs)), "alerts": fmt.Sprint(flagged), "expires_at": expires.UTC().Format(time.RFC3339)})
	s.log.Info("prearrival alerts published", "port", port, "sequence", seq, "flights", len(recs), "alerts", flagged)
	return ent, nil
}

// Enforce applies retention, audits every deletion and depersonalisation,
// and republishes the ports that lost flights.
func (s *Service) Enforce() ([]paxstore.Removed, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	removed, err := s.store.Enforce(s.cfg.Now(), s.cfg.Retention)
	if err != nil {
		s.log.Warn("prearrival: retention failed", "err", err)
		return nil, err
	}
	for _, r := range removed {
		s.audit.Append(audit.KindSystem, "system", "paxdata_"+r.Action, map[string]string{"id": r.Meta.ID, "rule": r.Rule,
			"flight": r.Meta.Flight, "message": r.Meta.Message, "travellers": fmt.Sprint(r.Meta.Travellers)})
	}
	return removed, nil
}

// ScanInbox stores and screens every complete file in the inbox, then
// deletes it.
func (s *Service) ScanInbox(ctx context.Context) {
	paxdata.ScanInbox(ctx, s.cfg.Inbox, s.cfg.Now(), s.cfg.MaxUpload, func(f paxdata.InboxFile) bool {
		if f.TooLarge {
			s.audit.Append(audit.KindSystem, "system", "paxdata_refused", map[string]string{"source": fmt.Sprintf("inbox:%d-bytes", f.Size),
				"reason": fmt.Sprintf("file of %d bytes, limit %d", f.Size, s.cfg.MaxUpload)})
			return true
		}
		_, err := s.Submit(ctx, f.Data, paxdata.Source("inbox", f.Data))
		if errors.Is(err, ErrBusy) || ctx.Err() != nil {
			return false // next scan
		}
		if err != nil {
			s.log.Warn("prearrival: inbox file refused", "source", paxdata.Source("inbox", f.Data), "err", err)
		}
		return true
	})
}

// Flights lists what is stored, without personal data (for operators).
func (s *Service) Flights() ([]paxstore.Meta, error) { return s.store.List() }

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return slices.Clip(out)
}
