package unit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/checkpoint-edge/checkpoint/audit"
	"github.com/checkpoint-edge/checkpoint/config"
	"github.com/checkpoint-edge/checkpoint/device/chip"
	"github.com/checkpoint-edge/checkpoint/emrtd"
	"github.com/checkpoint-edge/checkpoint/emrtd/faceimg"
	"github.com/checkpoint-edge/checkpoint/emrtd/lds"
	"github.com/checkpoint-edge/checkpoint/emrtd/pa"
	"github.com/checkpoint-edge/checkpoint/lane"
	"github.com/checkpoint-edge/checkpoint/mrz"
	"github.com/checkpoint-edge/checkpoint/sync/bundle"
	"github.com/checkpoint-edge/checkpoint/sync/channel"
	"github.com/checkpoint-edge/checkpoint/vision"
)

func init() {
	// Trust anchors also arrive as signed "trust" channel bundles (pulled
	// or sideloaded); the consumer exists whether or not a reader does.
	channelHooks = append(channelHooks, func(u *Unit, reg *channel.Registry) error {
		u.chipTrust = pa.NewTrustChannel()
		return reg.Register(bundle.KindTrust, u.chipTrust)
	})
}

// chipUnit is the passport chip part of a unit: the PC/SC reader, the
// trust anchors (reloaded when their file changes) and the lane's
// ChipSource.
type chipUnit struct {
	cfg    config.Chip
	reader chip.Reader
	store  *pa.Store
	rec    vision.Recognizer // nil: no camera, so no 1:1
	log    *slog.Logger
	audit  func(action string, fields map[string]string)

	channel *pa.TrustChannel // nil: no channel store

	mu        sync.Mutex
	trustHash string
	trustErr  error
	fileSet   pa.Set // from the trust file (checkpointctl chip trust import)
}

var _ lane.ChipSource = (*chipUnit)(nil)

func newChipUnit(cfg config.Chip, rec vision.Recognizer, tc *pa.TrustChannel, logger *slog.Logger, auditf func(string, map[string]string)) (*chipUnit, error) {
	r, err := chip.Open(chip.Config{Socket: cfg.Socket, Reader: cfg.Reader, APDUTimeout: cfg.APDUTimeout.D()}, logger)
	if err != nil {
		return nil, err
	}
	c := &chipUnit{cfg: cfg, reader: r, store: pa.NewStore(), rec: rec, log: logger, audit: auditf, channel: tc}
	c.reloadTrust()
	if tc != nil {
		tc.OnChange(func(pa.Set) { c.install() })
	}
	return c, nil
}

// install puts the union of the trust file and the trust channel in force.
func (c *chipUnit) install() error {
	c.mu.Lock()
	set := c.fileSet
	c.mu.Unlock()
	if c.channel != nil {
		set = pa.Merge(set, c.channel.Set())
	}
	return c.store.InstallTrust(set)
}

// chipPolicy is the lane's chip policy from the configuration.
func chipPolicy(p config.Policy, rec vision.Recognizer) lane.ChipPolicy {
	d := float64(p.FaceVerifyDistance)
	if d == 0 {
		d = float64(verifyDistance(rec))
	}
	return lane.ChipPolicy{ReferIntegrity: p.ReferChipIntegrity, ReferFaceMismatch: p.ReferChipFace,
		ReferUnreadable: p.ReferChipUnreadable, ReferNotVerified: p.ReferChipNotVerified, FaceDistance: d, Expected: p.ChipExpected}
}

// run watches the reader and the trust file until ctx ends.
func (c *chipUnit) run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- c.reader.Run(ctx) }()
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ignoreCanceled(<-errc)
		case err := <-errc:
			return ignoreCanceled(err)
		case <-t.C:
			c.reloadTrust()
		}
	}
}

// reloadTrust installs the trust file when its content changed. A missing
// file means no anchors: every chip is "not verified".
func (c *chipUnit) reloadTrust() {
	b, err := os.ReadFile(c.cfg.Trust)
	if errors.Is(err, os.ErrNotExist) {
		b, err = nil, nil
	}
	sum := sha256.Sum256(b)
	h := hex.EncodeToString(sum[:])
	c.mu.Lock()
	same := h == c.trustHash && err == nil
	c.mu.Unlock()
	if same {
		return
	}
	set := pa.Set{Source: c.cfg.Trust}
	if err == nil && len(b) > 0 {
		set, _, err = pa.Parse(b)
		set.Source = c.cfg.Trust
	}
	if err == nil {
		err = pa.NewStore().InstallTrust(set) // refuses non-CA anchors
	}
	c.mu.Lock()
	c.trustErr = err
	if err == nil {
		c.trustHash, c.fileSet = h, set
	}
	c.mu.Unlock()
	if err == nil {
		err = c.install()
	}
	if err != nil {
		c.log.Error("chip trust anchors not loaded", "path", c.cfg.Trust, "err", err)
		return
	}
	c.log.Info("chip trust anchors loaded", "cscas", len(set.CSCAs), "crls", len(set.CRLs))
	if c.audit != nil {
		c.audit("chip_trust_loaded", map[string]string{"path": c.cfg.Trust, "sha256": h,
			"cscas": fmt.Sprint(len(set.CSCAs)), "crls": fmt.Sprint(len(set.CRLs))})
	}
}

// Up implements lane.ChipSource.
func (c *chipUnit) Up() bool { return c.reader.State().Healthy() }

// Read implements lane.ChipSource: wait briefly for the chip, read it
// with the printed MRZ as key, verify it, and embed its photo.
func (c *chipUnit) Read(ctx context.Context, doc *mrz.Document, expected bool) lane.ChipResult {
	v := lane.ChipView{Expected: expected}
	res := lane.ChipResult{}
	unreadable := func(line string) lane.ChipResult {
		v.State, v.Line = lane.ChipUnreadable, line
		if !expected {
			v.State = lane.ChipSkipped
		}
		res.View = v
		return res
	}
	if !c.reader.State().Healthy() {
		return unreadable("chip reader not connected")
	}
	if !expected && !c.reader.State().CardPresent {
		// A document not expected to carry a chip, and none on the
		// reader: do not hold the lane waiting for one.
		v.State, v.Line = lane.ChipSkipped, "no chip presented"
		res.View = v
		return res
	}
	key, err := emrtd.KeyFromMRZ(doc)
	if err != nil {
		return unreadable("the MRZ does not give a usable chip key")
	}
	first := true
	open := func(ctx context.Context) (emrtd.Card, error) {
		if first {
			// The chip of a passport laid on the reader is there when
			// the MRZ is; a document without one must not hold the lane.
			first = false
			wctx, cancel := context.WithTimeout(ctx, c.cfg.PresentWait.D())
			defer cancel()
			return c.reader.Wait(wctx)
		}
		return c.reader.Wait(ctx)
	}
	dump, err := emrtd.Read(ctx, open, key, emrtd.Options{Timeout: c.cfg.ReadTimeout.D(), ResumeWindow: c.cfg.ResumeWindow.D()})
	if err != nil {
		if errors.Is(err, emrtd.ErrNoChip) && !expected {
			v.State, v.Line = lane.ChipSkipped, "no chip presented"
			res.View = v
			return res
		}
		c.log.Info("chip read failed", "kind", readErrKind(err))
		return unreadable(emrtd.ReadFailure(err))
	}
	rep := emrtd.Verify(dump, c.store, doc, emrtd.VerifyOptions{RequireCRL: c.cfg.RequireCRL})
	v.State = lane.ChipRead
	v.Verdict, v.Line, v.Reason, v.Access = string(rep.Verdict), rep.Line(), rep.Reason, rep.Access
	v.PassiveAuth, v.PAStep, v.FailedGroups, v.Country = string(rep.PA.Status), rep.PA.FailedStep, rep.PA.FailedGroups, rep.PA.Country
	v.ActiveAuth, v.ChipAuth, v.Consistent = rep.AA.Status, rep.CA.Status, rep.Consistent
	for _, m := range rep.Mismatches {
		v.Mismatches = append(v.Mismatches, m.Field)
	}
	v.Integrity = rep.Verdict == emrtd.Failed
	v.ReadMS = dump.DurationMS
	if rep.Face != nil {
		c.face(ctx, *rep.Face, &res)
		v.HasPhoto = len(res.Photo) > 0
		v.PhotoFormat = rep.Face.Format
	}
	res.View = v
	c.log.Info("chip read", "access", rep.Access, "verdict", rep.Verdict, "pa", rep.PA.Status,
		"aa", rep.AA.Status, "ca", rep.CA.Status, "ms", dump.DurationMS)
	return res
}

// face decodes the DG2 photo for display and embeds it for 1:1.
func (c *chipUnit) face(ctx context.Context, f lds.FaceImage, res *lane.ChipResult) {
	img, err := faceimg.Decode(f)
	if err != nil {
		c.log.Warn("chip photo undecodable", "format", f.Format, "err", err)
		return
	}
	res.Photo = faceimg.JPEG(f, img)
	if c.rec == nil {
		return
	}
	faces, err := c.rec.Faces(ctx, img)
	if err != nil || len(faces) == 0 || faces[0].Descriptor == nil {
		c.log.Info("no usable face in the chip photo", "w", img.W, "h", img.H, "err", err)
		return
	}
	res.Descriptor, res.ModelID, res.Quality = faces[0].Descriptor, c.rec.ModelID(), faces[0].Quality.Score
}

func readErrKind(err error) string {
	for _, k := range []struct {
		e    error
		name string
	}{{emrtd.ErrAccessDenied, "access_denied"}, {emrtd.ErrNoChip, "no_chip"}, {emrtd.ErrRemoved, "removed"},
		{emrtd.ErrTimeout, "timeout"}, {emrtd.ErrProtocol, "protocol"}, {emrtd.ErrKey, "key"}} {
		if errors.Is(err, k.e) {
			return k.name
		}
	}
	return "other"
}

// health adds the reader's state to the lane health.
func (c *chipUnit) health(h *lane.Health) {
	st := c.reader.State()
	switch {
	case st.Healthy():
		h.ChipReader = "connected"
	default:
		h.ChipReader = "disconnected"
		if st.Err != nil {
			h.ChipReaderError = st.Err.Error()
		}
		h.Alarm("chip_reader_disconnected", "Chip reader disconnected")
	}
	c.mu.Lock()
	terr := c.trustErr
	c.mu.Unlock()
	if terr != nil {
		h.Alarm("chip_trust_unreadable", "Chip trust anchors unreadable")
	}
}

func (c *chipUnit) Close() error { return c.reader.Close() }

// ChipStatus is the chip reader and the trust anchors in force, for the
// technician's status screen.
type ChipStatus struct {
	chip.State
	TrustCSCAs     int    `json:"trust_cscas"`
	TrustCountries int    `json:"trust_countries"`
	TrustCRLs      int    `json:"trust_crls"`
	TrustError     string `json:"trust_error,omitempty"`
}

func (c *chipUnit) status() *ChipStatus {
	set := c.store.Snapshot()
	st := &ChipStatus{State: c.reader.State(), TrustCSCAs: len(set.CSCAs), TrustCountries: len(c.store.Summary()), TrustCRLs: len(set.CRLs)}
	c.mu.Lock()
	if c.trustErr != nil {
		st.TrustError = c.trustErr.Error()
	}
	c.mu.Unlock()
	return st
}

// auditChip appends a chip trust event to the audit log.
func (u *Unit) auditChip(action string, fields map[string]string) {
	u.audit.Append(audit.KindKeyOperation, "system", action, fields)
}
