package unit

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"sort"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/checkpoint-edge/checkpoint/gate"
	"github.com/checkpoint-edge/checkpoint/lane"
	"github.com/checkpoint-edge/checkpoint/mrz"
	"github.com/checkpoint-edge/checkpoint/web"
)

// backend is the lane as the page and the gate see it.
type backend struct{ u *Unit }

func (b backend) Recent(n int) []lane.Transaction             { return b.u.pipeline.Recent(n) }
func (b backend) Transaction(id string) *lane.Transaction     { return b.u.pipeline.Transaction(id) }
func (b backend) Health() lane.Health                         { return b.u.Health() }
func (b backend) Subscribe(n int) (<-chan lane.Event, func()) { return b.u.broker.Subscribe(n) }
func (b backend) Process(ctx context.Context, ev lane.DocumentEvent) (*lane.Transaction, error) {
	return b.u.pipeline.Process(ctx, ev)
}
func (b backend) Pending() []lane.Transaction                { return b.u.pipeline.Pending() }
func (b backend) History(q lane.HistoryQuery) []lane.Summary { return b.u.pipeline.History(q) }
func (b backend) Record(ctx context.Context, r lane.VerdictRequest) (*lane.Transaction, error) {
	tx, err := b.u.pipeline.Record(ctx, r)
	if err == nil {
		b.u.metrics.OfficerVerdicts.WithLabelValues(r.Verdict).Inc()
	}
	return tx, err
}

// httpServer ties request contexts to the unit's: long-lived streams (the
// page's events, the gate's events) end when the daemon stops, so shutdown
// does not wait for clients to hang up.
func (u *Unit) httpServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second,
		BaseContext: func(net.Listener) context.Context { return u.runCtx }}
}

func (u *Unit) serveWeb(g *errgroup.Group) (*http.Server, error) {
	var metricsH http.Handler
	if u.cfg.Web.Metrics {
		metricsH = u.metrics.Handler()
	}
	h := web.New(backend{u}, web.Options{AccountsFile: u.accounts, SessionTTL: u.cfg.Web.SessionTTL.D(),
		Secure: u.cfg.Web.TLSCert != "", Metrics: metricsH, Logger: u.log.With("component", "web"),
		LockoutFile: filepath.Join(u.cfg.StateDir, LockoutFile),
		Page:        web.PageOptions{Language: u.cfg.Officer.Language, Sound: u.cfg.Officer.Sound}})
	srv := u.httpServer(h)
	ln, err := net.Listen("tcp", u.cfg.Web.Listen)
	if err != nil {
		return nil, fmt.Errorf("officer page: %w", err)
	}
	if u.cfg.Web.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(u.cfg.Web.TLSCert, u.cfg.Web.TLSKey)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("officer page TLS: %w", err)
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	}
	u.log.Info("officer page listening", "addr", ln.Addr().String(), "tls", u.cfg.Web.TLSCert != "")
	if u.cfg.Web.SignInSocket != "" {
		sln, err := web.ListenSignIn(u.cfg.Web.SignInSocket)
		if err != nil {
			ln.Close()
			return nil, err
		}
		ssrv := u.httpServer(h.SignInHandler(pageURL(ln.Addr(), u.cfg.Web.TLSCert != "")))
		ssrv.ConnContext = web.PeerContext
		// Closing the page's server closes this one too.
		srv.RegisterOnShutdown(func() { ssrv.Close() })
		g.Go(func() error { return ignoreCanceled(ssrv.Serve(sln)) })
	}
	g.Go(func() error { return ignoreCanceled(srv.Serve(ln)) })
	return srv, nil
}

// pageURL is where a browser on this machine reaches the officer page: a
// wildcard listen address is reached on loopback.
func pageURL(addr net.Addr, tls bool) string {
	host, port, _ := net.SplitHostPort(addr.String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	scheme := "http"
	if tls {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// WebAddr is where the officer page listens (after Run started).
func (u *Unit) WebAddr() string { return u.cfg.Web.Listen }

func (u *Unit) serveGate(g *errgroup.Group) ([]*http.Server, error) {
	var out []*http.Server
	opt := gate.Options{MRZ: mrz.Options{Autocorrect: u.cfg.Scanner.Autocorrect}, Logger: u.log.With("component", "gate")}
	if u.cfg.Gate.Socket != "" {
		ln, err := listenUnix(u.cfg.Gate.Socket)
		if err != nil {
			return nil, fmt.Errorf("gate socket: %w", err)
		}
		srv := u.httpServer(gate.Handler(backend{u}, opt))
		g.Go(func() error { return ignoreCanceled(srv.Serve(ln)) })
		out = append(out, srv)
	}
	if u.cfg.Gate.Listen != "" {
		tok, err := gate.ReadToken(u.cfg.Gate.TokenFile)
		if err != nil {
			return nil, err
		}
		topt := opt
		topt.Token = tok
		ln, err := net.Listen("tcp", u.cfg.Gate.Listen)
		if err != nil {
			return nil, fmt.Errorf("gate TCP: %w", err)
		}
		srv := u.httpServer(gate.Handler(backend{u}, topt))
		g.Go(func() error { return ignoreCanceled(srv.Serve(ln)) })
		out = append(out, srv)
	}
	return out, nil
}

func (u *Unit) serveAdmin(g *errgroup.Group) (*http.Server, error) {
	ln, err := listenUnix(filepath.Join(u.cfg.StateDir, AdminSocket))
	if err != nil {
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	if err := chmodSocket(filepath.Join(u.cfg.StateDir, AdminSocket), 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(u.Status())
	})
	mux.Handle("GET /metrics", u.metrics.Handler())
	mux.Handle("POST /v1/watchlist/screen", u.screenHandler())
	u.adminRoutes(mux)
	for _, hook := range adminHooks {
		hook(u, mux)
	}
	srv := u.httpServer(mux)
	g.Go(func() error { return ignoreCanceled(srv.Serve(ln)) })
	return srv, nil
}

// Health is the lane's summary for the page, the gate and metrics.
func (u *Unit) Health() lane.Health {
	now := u.now()
	h := lane.Health{Unit: u.cfg.Unit.ID, Mode: u.cfg.Unit.Mode, Scanner: "disabled", Camera: "disabled", Link: "offline"}
	if u.scanner != nil {
		st := u.scanner.State()
		h.Scanner = "disconnected"
		if st.Connected {
			h.Scanner = "connected"
		} else if st.Err != nil {
			h.ScannerError = st.Err.Error()
			h.Alarm("scanner_disconnected", "Scanner disconnected")
		}
		if st.QueueFull {
			h.Alarm("scanner_queue_full", scannerAlarm(st))
		}
	}
	if u.camera != nil {
		st := u.camera.State()
		h.Camera = st.Status.String()
		if !st.Healthy() {
			if st.Err != nil {
				h.CameraError = st.Err.Error()
			}
			h.Alarm("camera_"+st.Status.String(), "Camera "+st.Status.String())
		}
	}
	if u.chip != nil {
		u.chip.health(&h)
	}
	h.TransactionsDone = u.txDone.Load()
	if n := u.txLast.Load(); n > 0 {
		h.LastTransaction = time.Unix(0, n)
	}
	meta := u.store.Meta()
	h.WatchlistSeq = meta.Sequence
	h.WatchlistIssued = meta.IssuedAt
	if meta.Sequence > 0 {
		h.WatchlistAge = meta.Age(now).Round(time.Minute).String()
		h.Stale = meta.Stale(now, u.cfg.Watchlist.MaxAge.D())
		if h.Stale {
			h.Alarm("watchlist_stale", "Watchlist STALE")
		}
		if meta.IsUnsigned() {
			h.Alarm("watchlist_unsigned", "Watchlist is an unsigned local import")
		}
	} else {
		h.Alarm("watchlist_none", "No watchlist installed")
	}
	h.IntegrityAlarms = u.store.IntegrityErrors()
	obs := u.outbox.Status()
	h.OutboxDepth, h.OutboxHits = int64(obs.Depth), int64(obs.Hits)
	if obs.DiskFull {
		h.Alarm("disk_full", "Disk full: results cannot be stored")
	}
	if u.uploader != nil {
		h.Link = obs.Link.State.String()
	}
	// Raised alarms, in a stable order: code (the key) → English text.
	var keys []string
	u.alarms.Range(func(k, v any) bool { keys = append(keys, k.(string)); return true })
	sort.Strings(keys)
	for _, k := range keys {
		if v, ok := u.alarms.Load(k); ok {
			h.Alarm(k, v.(string))
		}
	}
	return h
}

// Status is the technician's one screen.
func (u *Unit) Status() Status {
	now := u.now()
	s := Status{Version: version(), StartedAt: u.started, Now: now, Health: u.Health(), Disk: diskStatus(u.cfg.StateDir)}
	if u.scanner != nil {
		st := u.scanner.State()
		s.Scanner = &st
	}
	if u.camera != nil {
		st := u.camera.State()
		s.Camera = &st
	}
	if u.chip != nil {
		s.Chip = u.chip.status()
	}
	meta := u.store.Meta()
	s.Watchlist = WatchlistStatus{Meta: meta, MaxAge: u.cfg.Watchlist.MaxAge.D().String(), Stale: s.Health.Stale,
		IntegrityErrors: u.store.IntegrityErrors(), FaceIndexLocked: u.store.FaceIndexLocked(), Thresholds: u.store.Thresholds()}
	if meta.Sequence > 0 {
		s.Watchlist.Age = meta.Age(now).Round(time.Second).String()
	}
	if u.puller != nil {
		l := u.puller.Link()
		s.Watchlist.LastSync, s.Watchlist.LastSyncError = l.LastSuccess, l.LastError
	}
	obs := u.outbox.Status()
	s.Outbox = &obs
	s.Channels = u.channelStatus()
	u.errMu.Lock()
	s.Errors = append([]ErrorEntry(nil), u.errors...)
	u.errMu.Unlock()
	return s
}

// healthLoop refreshes gauges and tells the page about health changes.
func (u *Unit) healthLoop(ctx context.Context) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		h := u.Health()
		up := func(name, state, good string) {
			v := 0.0
			if state == good {
				v = 1
			}
			u.metrics.DeviceUp.WithLabelValues(name).Set(v)
		}
		if u.scanner != nil {
			up("scanner", h.Scanner, "connected")
		}
		if u.camera != nil {
			up("camera", h.Camera, "streaming")
		}
		meta := u.store.Meta()
		u.metrics.WatchlistSeq.Set(float64(meta.Sequence))
		if meta.Sequence > 0 {
			u.metrics.WatchlistAge.Set(meta.Age(u.now()).Seconds())
		}
		stale := 0.0
		if h.Stale {
			stale = 1
		}
		u.metrics.WatchlistStale.Set(stale)
		u.auditWatchlist()
		if u.uploader != nil {
			link := u.outbox.Status().Link
			if link.ConsecutiveFailures > u.uploadFailures {
				u.metrics.UploadErrors.Add(float64(link.ConsecutiveFailures - u.uploadFailures))
			}
			u.uploadFailures = link.ConsecutiveFailures
		}
		u.metrics.OutboxDepth.Set(float64(h.OutboxDepth))
		u.metrics.OutboxHits.Set(float64(h.OutboxHits))
		u.metrics.DiskFree.Set(float64(diskStatus(u.cfg.StateDir).FreeBytes))
		if u.uploader != nil {
			if !u.hubLinkRegistered {
				u.metrics.Registry.MustRegister(u.metrics.HubLinkUp)
				u.hubLinkRegistered = true
			}
			linkUp := 0.0
			if h.Link == "up" {
				linkUp = 1
			}
			u.metrics.HubLinkUp.Set(linkUp)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
