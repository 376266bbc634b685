package unit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"

	"github.com/checkpoint-edge/checkpoint/audit"
	"github.com/checkpoint-edge/checkpoint/config"
	"github.com/checkpoint-edge/checkpoint/device/camera"
	"github.com/checkpoint-edge/checkpoint/device/scanner"
	"github.com/checkpoint-edge/checkpoint/emrtd/pa"
	"github.com/checkpoint-edge/checkpoint/gate"
	"github.com/checkpoint-edge/checkpoint/internal/atomicfile"
	"github.com/checkpoint-edge/checkpoint/internal/buildinfo"
	"github.com/checkpoint-edge/checkpoint/internal/sdnotify"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/lane"
	"github.com/checkpoint-edge/checkpoint/metrics"
	"github.com/checkpoint-edge/checkpoint/mrz"
	"github.com/checkpoint-edge/checkpoint/sync/outbox"
	"github.com/checkpoint-edge/checkpoint/sync/pki"
	"github.com/checkpoint-edge/checkpoint/vision"
	"github.com/checkpoint-edge/checkpoint/vision/traffic"
	"github.com/checkpoint-edge/checkpoint/watchlist"
	"github.com/checkpoint-edge/checkpoint/web"
)

// Unit is a running Checkpoint box.
type Unit struct {
	cfg     *config.Config
	log     *slog.Logger
	started time.Time
	now     func() time.Time

	audit    *audit.Log
	store    *watchlist.Store
	outbox   *outbox.Outbox
	uploader *outbox.Uploader
	rec      vision.Recognizer
	traffic  *traffic.Log // top-1 face distances, no identity (vision traffic)
	scanner  *scanner.Serial
	camera   *camera.Capture
	chip     *chipUnit
	// chipTrust receives "trust" channel bundles (CSCAs, CRLs).
	chipTrust *pa.TrustChannel
	puller    puller
	ch        channels
	pax       paxState     // internal/unit/paxdata.go
	shared    sharedAlerts // internal/unit/alerts.go
	pipeline  *lane.Pipeline
	pending   *PendingStore // the officer's work queue on disk (pending.go)
	broker    *lane.Broker
	metrics   *metrics.Metrics
	accounts  *web.AccountsFile

	runCtx context.Context // set by Run: the parent of every request

	lastSeq        uint64 // watchlist sequence last audited (healthLoop only)
	uploadFailures int    // consecutive upload failures last seen (healthLoop only)
	// hubLinkRegistered: the hub link gauge is exported once the unit has
	// a hub (healthLoop only).
	hubLinkRegistered bool

	txDone atomic.Int64
	txLast atomic.Int64 // unix nanoseconds of the last decision

	errMu  sync.Mutex
	errors []ErrorEntry
	alarms sync.Map // name → message

	done     sync.Mutex
	closeErr error
	closed   bool
}

// New opens everything the unit needs before it can serve. Any failure is
// returned with the part that failed named, after releasing what was opened.
func New(cfg *config.Config, logger *slog.Logger) (u *Unit, err error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	u = &Unit{cfg: cfg, log: logger, started: time.Now(), now: time.Now, broker: lane.NewBroker(), metrics: metrics.New()}
	defer func() {
		if err != nil {
			u.Close()
			u = nil
		}
	}()
	if err := atomicfile.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	if u.audit, _, err = audit.Open(cfg.Audit.Path); err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	wkp, err := seal.ParseProvider(cfg.Watchlist.Key)
	if err != nil {
		return nil, fmt.Errorf("watchlist key: %w", err)
	}
	// The face model comes first: its calibration turns the configured
	// 1:N targets into the watchlist's distance bands (faces.go).
	if cfg.Camera.Enabled {
		if u.rec, err = openRecognizer(cfg, logger.With("component", "vision")); err != nil {
			return nil, fmt.Errorf("face models: %w", err)
		}
		if u.traffic, err = openTraffic(cfg, logger); err != nil {
			return nil, err
		}
	}
	u.store, err = watchlist.Open(cfg.Watchlist.Path, wkp, watchlist.Options{
		Logger: logger.With("component", "watchlist"), Face: facePolicy(cfg, u.rec), FaceMaxDistance: cfg.Policy.FaceSearchDistance,
		MatchConfig: watchlist.Thresholds{HitScore: cfg.Policy.PersonHitScore, PossibleScore: cfg.Policy.PersonPossibleScore,
			HitEvidence: cfg.Policy.PersonHitEvidence, PossibleEvidence: cfg.Policy.PersonPossibleEvidence}.MatchConfig(),
		OnIntegrity: func(e *watchlist.IntegrityError) {
			u.metrics.IntegrityAlarms.Inc()
			u.alarms.Store("integrity", "Watchlist integrity error: a record failed authentication")
		},
	})
	if err != nil {
		return nil, fmt.Errorf("watchlist store %s: %w", cfg.Watchlist.Path, err)
	}
	okp, err := seal.ParseProvider(cfg.Outbox.Key)
	if err != nil {
		return nil, fmt.Errorf("outbox key: %w", err)
	}
	u.outbox, err = outbox.Open(cfg.Outbox.Path, okp, outbox.Options{
		UnitID: cfg.Unit.ID, RoutineQuota: outbox.Quota{Bytes: cfg.Outbox.RoutineQuota},
		Logger: logger.With("component", "outbox"),
		OnEvict: func(n int) {
			u.alarms.Store("evicted", fmt.Sprintf("Outbox full: %d routine results evicted", n))
		},
	})
	if err != nil {
		return nil, fmt.Errorf("outbox %s: %w", cfg.Outbox.Path, err)
	}
	if u.pending, err = u.openPending(okp); err != nil {
		return nil, fmt.Errorf("work queue %s: %w", PendingPath(cfg.StateDir), err)
	}
	if err := u.openChannels(logger.With("component", "channels")); err != nil {
		return nil, err
	}
	if cfg.Web.Listen != "" {
		if u.accounts, err = web.OpenAccountsFile(cfg.Web.Accounts, logger.With("component", "web")); err != nil {
			return nil, err
		}
	}
	if cfg.Camera.Enabled {
		u.camera, err = camera.Open(camera.Config{Device: cfg.Camera.Device, Width: cfg.Camera.Width, Height: cfg.Camera.Height,
			FPS: cfg.Camera.FPS, FourCC: cfg.Camera.FourCC, Loop: cfg.Camera.Loop}, logger.With("component", "camera"))
		if err != nil {
			return nil, fmt.Errorf("camera: %w", err)
		}
	}
	if cfg.Chip.Enabled {
		if u.chip, err = newChipUnit(cfg.Chip, u.rec, u.chipTrust, logger.With("component", "chip"), u.auditChip); err != nil {
			return nil, fmt.Errorf("chip reader: %w", err)
		}
	}
	if cfg.Scanner.Enabled {
		fr, err := scanner.ParseFraming(cfg.Scanner.Framing)
		if err != nil {
			return nil, fmt.Errorf("scanner: %w", err)
		}
		u.scanner, err = scanner.Open(scanner.Config{Port: cfg.Scanner.Port, VID: cfg.Scanner.VID, PID: cfg.Scanner.PID,
			Serial: cfg.Scanner.Serial, Baud: cfg.Scanner.Baud, DataBits: cfg.Scanner.DataBits, Parity: cfg.Scanner.Parity,
			StopBits: cfg.Scanner.StopBits, Framing: fr, LineTimeout: cfg.Scanner.LineTimeout.D(),
			MRZ: mrz.Options{Autocorrect: cfg.Scanner.Autocorrect}}, logger.With("component", "scanner"))
		if err != nil {
			return nil, fmt.Errorf("scanner: %w", err)
		}
		u.metrics.WatchScanner(scannerStats(u.scanner))
	}
	if cfg.Hub.URL != "" {
		tlsCfg, err := pki.ClientConfig(cfg.Hub.Cert, cfg.Hub.Key, cfg.Hub.CA)
		if err != nil {
			return nil, fmt.Errorf("hub TLS: %w", err)
		}
		// Every upload anchors the audit log's head at headquarters
		// (hub/README.md, "Audit anchoring").
		u.uploader, err = outbox.NewUploader(u.outbox, outbox.UploaderOptions{HubURL: cfg.Hub.URL, HubURLs: cfg.Hub.URLs, TLS: tlsCfg,
			BytesPerSecond: cfg.Hub.MaxBandwidth, Logger: logger.With("component", "uploader"),
			Audit: u.audit, AuditAckPath: audit.AckPath(cfg.Audit.Path)})
		if err != nil {
			return nil, fmt.Errorf("uploader: %w", err)
		}
		if u.puller, err = newPuller(cfg, tlsCfg, u.store, logger.With("component", "sync")); err != nil {
			return nil, fmt.Errorf("watchlist sync: %w", err)
		}
		if err := u.newChannelPullers(tlsCfg, logger.With("component", "sync")); err != nil {
			return nil, err
		}
	}
	lc := lane.Config{
		Unit: cfg.Unit.ID, Mode: cfg.Unit.Mode, CaptureWindow: cfg.Vision.CaptureWindow.D(), FaceImages: cfg.Policy.FaceImages,
		Policy: lane.Policy{ReferWhenStale: cfg.Policy.ReferWhenStale, ReferWithoutFace: cfg.Policy.ReferWithoutFace,
			ReferInvalidMRZ: cfg.Policy.ReferInvalidMRZ, Chip: chipPolicy(cfg.Policy, u.rec)},
		Checker: u.wrapChecker(storeChecker{store: u.store, maxAge: cfg.Watchlist.MaxAge.D(), now: u.now, shared: u.shared.book, traffic: u.traffic, log: logger}),
		Queue:   outboxQueue{u.outbox}, Audit: auditLog{u.audit}, Broker: u.broker,
		Logger:   logger.With("component", "lane"),
		Observe:  u.observe,
		Discreet: discreetPolicy(cfg.Officer.Discreet),
	}
	if u.camera != nil {
		// Stop at the first face that passes the gate with a decent score,
		// or after a few frames: waiting the whole window for a marginally
		// better face would break the one-second budget.
		lc.Faces = &cameraFaces{cam: u.camera, rec: u.rec, goodEnough: 0.5, maxFrames: 6, fuse: cfg.Vision.FuseFrames}
	}
	if u.chip != nil {
		lc.Chip = u.chip
	}
	lc.Pending = u.pending
	if u.pipeline, err = lane.New(lc); err != nil {
		return nil, err
	}
	u.pendingLoaded(u.pending)
	u.audit.Append(audit.KindSystem, "system", "start", map[string]string{"unit": cfg.Unit.ID, "version": version()})
	u.auditConfig()
	u.lastSeq = u.store.Meta().Sequence
	return u, nil
}

func (u *Unit) observe(tx *lane.Transaction) {
	u.txDone.Add(1)
	u.txLast.Store(tx.DecidedAt.UnixNano())
	kinds := make([]string, 0, len(tx.Hits))
	for _, h := range tx.Hits {
		kinds = append(kinds, h.Kind)
	}
	u.metrics.ObserveDecision(string(tx.Decision), tx.Face.Captured, time.Duration(tx.LatencyMS*float64(time.Millisecond)), kinds)
}

// Pipeline exposes the lane (tests).
func (u *Unit) Pipeline() *lane.Pipeline { return u.pipeline }

// Subscribe follows the lane's events.
func (u *Unit) Subscribe(buffer int) (<-chan lane.Event, func()) { return u.broker.Subscribe(buffer) }

// Run serves until ctx ends.
func (u *Unit) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	u.runCtx = ctx
	docs := make(chan lane.DocumentEvent, 4)
	var servers []*http.Server

	if u.scanner != nil {
		g.Go(func() error { return ignoreCanceled(u.scanner.Run(ctx)) })
		g.Go(func() error {
			defer close(docs)
			for ev := range u.scanner.Events() {
				select {
				case docs <- lane.DocumentEvent{Document: ev.Document, Source: "scanner", At: ev.End, Repeat: ev.Repeat}:
				case <-ctx.Done():
					return nil
				}
			}
			return nil
		})
	}
	if u.camera != nil {
		g.Go(func() error {
			err := u.camera.Run(ctx)
			if err != nil && ctx.Err() == nil {
				u.recordError("camera", err)
			}
			return nil // a dead camera degrades the lane; it does not stop it
		})
	}
	if u.chip != nil {
		g.Go(func() error { return u.chip.run(ctx) })
	}
	g.Go(func() error { return u.pipeline.Run(ctx, docs) })
	if u.uploader != nil {
		g.Go(func() error { return ignoreCanceled(u.uploader.Run(ctx)) })
	}
	if u.puller != nil {
		g.Go(func() error { return ignoreCanceled(u.puller.Run(ctx)) })
	}
	u.runChannels(ctx, g)

	// Listeners: the officer's page (loopback by default), the gate API
	// (Unix socket, optional TCP with token), the admin socket.
	if u.cfg.Web.Listen != "" {
		srv, err := u.serveWeb(g)
		if err != nil {
			return err
		}
		servers = append(servers, srv)
	}
	gateSrvs, err := u.serveGate(g)
	if err != nil {
		return err
	}
	servers = append(servers, gateSrvs...)
	adm, err := u.serveAdmin(g)
	if err != nil {
		return err
	}
	servers = append(servers, adm)

	g.Go(func() error { u.healthLoop(ctx); return nil })
	g.Go(func() error {
		u.waitProbed(ctx)
		meta := u.store.Meta()
		sdnotify.Ready(fmt.Sprintf("serving; watchlist sequence %d", meta.Sequence))
		u.log.Info("ready", "watchlist_sequence", meta.Sequence, "unit", u.cfg.Unit.ID)
		return sdnotify.Watchdog(ctx, sdnotify.WatchdogInterval(), u.healthy)
	})
	g.Go(func() error {
		<-ctx.Done()
		sdnotify.Stopping()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var errs []error
		for _, s := range servers {
			if err := s.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
				// A client that does not let go must not stop the daemon
				// from stopping.
				u.log.Warn("forcing HTTP connections closed", "err", err)
				s.Close()
			}
		}
		if u.scanner != nil {
			u.scanner.Close()
		}
		return errors.Join(errs...)
	})
	return ignoreCanceled(g.Wait())
}

func ignoreCanceled(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// waitProbed waits (bounded) until the scanner and camera have each been
// tried once, so READY means the devices were probed.
func (u *Unit) waitProbed(ctx context.Context) {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		ok := true
		if u.scanner != nil {
			st := u.scanner.State()
			ok = ok && (st.Connected || st.Err != nil)
		}
		if u.camera != nil {
			st := u.camera.State()
			ok = ok && (st.Healthy() || st.Err != nil)
		}
		if ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// healthy gates watchdog pings: the pipeline must not be wedged and the
// store must answer.
func (u *Unit) healthy() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := u.store.Check(ctx, watchlist.Query{Document: &mrz.Document{}})
	return err == nil
}

func (u *Unit) recordError(component string, err error) {
	u.errMu.Lock()
	defer u.errMu.Unlock()
	u.errors = append(u.errors, ErrorEntry{At: u.now(), Component: component, Message: err.Error()})
	if len(u.errors) > 20 {
		u.errors = u.errors[len(u.errors)-20:]
	}
}

// Close releases everything; safe after a partial New and more than once.
func (u *Unit) Close() error {
	u.done.Lock()
	defer u.done.Unlock()
	if u.closed {
		return u.closeErr
	}
	u.closed = true
	var errs []error
	closeIt := func(name string, c interface{ Close() error }) {
		if err := c.Close(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	if u.scanner != nil {
		closeIt("scanner", u.scanner)
	}
	if u.camera != nil {
		closeIt("camera", u.camera)
	}
	if u.chip != nil {
		closeIt("chip reader", u.chip)
	}
	if u.rec != nil {
		closeIt("vision", u.rec)
	}
	if u.traffic != nil {
		closeIt("face traffic", u.traffic)
	}
	if u.uploader != nil {
		closeIt("uploader", u.uploader)
	}
	if u.puller != nil {
		closeIt("sync", u.puller)
	}
	u.closeChannels(closeIt)
	if u.pending != nil {
		closeIt("work queue", u.pending)
	}
	if u.outbox != nil {
		closeIt("outbox", u.outbox)
	}
	if u.store != nil {
		closeIt("watchlist", u.store)
	}
	if u.audit != nil {
		u.audit.Append(audit.KindSystem, "system", "stop", nil)
		closeIt("audit", u.audit)
	}
	u.closeErr = errors.Join(errs...)
	return u.closeErr
}

func version() string { return buildinfo.Get().Version }

func diskStatus(path string) DiskStatus {
	var st unix.Statfs_t
	d := DiskStatus{Path: path}
	if err := unix.Statfs(path, &st); err != nil {
		return d
	}
	d.FreeBytes = st.Bavail * uint64(st.Bsize)
	d.TotalBytes = st.Blocks * uint64(st.Bsize)
	d.Low = d.FreeBytes < 500<<20 || (d.TotalBytes > 0 && d.FreeBytes*20 < d.TotalBytes)
	return d
}

func listenUnix(path string) (net.Listener, error) { return gate.ListenUnix(path) }

// auditConfig records a configuration, root of trust or TLS identity that
// differs from the one the unit last started with, so that a swapped file
// shows up in the audit log even when it was changed behind our back.
func (u *Unit) auditConfig() {
	u.auditFile(audit.KindConfigChange, "config_loaded", "config", u.cfg.Path, u.cfg.Hash)
	for _, f := range []struct{ action, mark, path string }{
		{"trust_root_loaded", "trust", u.cfg.Watchlist.Trust},
		{"fleet_ca_loaded", "fleet-ca", u.cfg.Hub.CA},
		{"unit_certificate_loaded", "unit-cert", u.cfg.Hub.Cert},
	} {
		if f.path == "" {
			continue
		}
		b, err := os.ReadFile(f.path)
		if err != nil {
			continue // the subsystem that needs it reports why
		}
		sum := sha256.Sum256(b)
		u.auditFile(audit.KindKeyOperation, f.action, f.mark, f.path, hex.EncodeToString(sum[:]))
	}
}

// auditFile appends an entry when the file's hash differs from the one
// recorded at the last start (in <state_dir>/<mark>.sha256).
func (u *Unit) auditFile(kind, action, mark, path, hash string) {
	if hash == "" {
		return
	}
	markPath := filepath.Join(u.cfg.StateDir, mark+".sha256")
	prev, _ := os.ReadFile(markPath)
	if string(prev) == hash {
		return
	}
	u.audit.Append(kind, "system", action, map[string]string{
		"path": path, "sha256": hash, "previous_sha256": string(prev)})
	if err := os.WriteFile(markPath, []byte(hash), 0o600); err != nil {
		u.recordError(mark, err)
	}
}

// auditWatchlist records a new installed watchlist version, however it
// arrived (pulled from the hub or sideloaded before start).
func (u *Unit) auditWatchlist() {
	meta := u.store.Meta()
	if meta.Sequence == u.lastSeq {
		return
	}
	u.audit.Append(audit.KindWatchlistChange, "system", "installed", map[string]string{
		"watchlist_id": meta.WatchlistID, "from_sequence": fmt.Sprint(u.lastSeq), "to_sequence": fmt.Sprint(meta.Sequence),
		"state_hash": meta.StateHash, "authority": meta.Authority, "unsigned": fmt.Sprint(meta.IsUnsigned())})
	u.lastSeq = meta.Sequence
}
