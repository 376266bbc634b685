package lane

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/checkpoint-edge/checkpoint/mrz"
)

// Config is what a Pipeline needs.
type Config struct {
	Unit          string
	Mode          string // desk or egate
	Policy        Policy
	CaptureWindow time.Duration
	FaceImages    string     // which results carry the face image: hits, all, none
	Faces         FaceSource // nil: no camera in this lane
	Chip          ChipSource // nil: no chip reader in this lane
	Checker       Checker
	Queue         Queue
	Audit         Auditor
	Broker        *Broker
	Logger        *slog.Logger
	Now           func() time.Time
	// Observe receives every decided transaction (metrics).
	Observe func(*Transaction)
	// Discreet says which hits are shown discreetly (nil: none).
	Discreet func(HitView) bool
	// MaxHistory and HistoryAge bound the decided transactions the lane
	// keeps for the shift's history (0: DefaultMaxHistory,
	// DefaultHistoryAge). Transactions awaiting a verdict are kept
	// regardless, up to MaxHeld.
	MaxHistory int
	HistoryAge time.Duration
	// Pending keeps the work queue (the HITs and REFERs awaiting a
	// verdict) across restarts; New loads it back. nil: memory only.
	Pending PendingStore
}

// Pipeline runs transactions one at a time, as a lane serves one traveller
// at a time.
type Pipeline struct {
	cfg    Config
	run    sync.Mutex // one transaction at a time
	decide sync.Mutex // one officer verdict at a time
	mu     sync.RWMutex
	txs    []*Transaction // oldest first, bounded (queue.go)
	byID   map[string]*Transaction
	// settled counts held transactions that need no verdict (any more);
	// adds counts transactions; maxHeld is MaxHeld (tests lower it).
	settled, adds int
	maxHeld       int
	// dropped are pending transactions MaxHeld let go of, still to be
	// removed from cfg.Pending (outside mu).
	dropped []string
}

// Transaction states.
const (
	StateStarted      = "started"
	StateFaceCaptured = "face_captured"
	StateDecided      = "decided"
)

// New validates cfg and returns a pipeline.
func New(cfg Config) (*Pipeline, error) {
	if cfg.Checker == nil || cfg.Queue == nil || cfg.Audit == nil || cfg.Broker == nil {
		return nil, errors.New("lane: checker, queue, audit and broker are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.CaptureWindow <= 0 {
		cfg.CaptureWindow = 2 * time.Second
	}
	if cfg.MaxHistory <= 0 {
		cfg.MaxHistory = DefaultMaxHistory
	}
	if cfg.HistoryAge <= 0 {
		cfg.HistoryAge = DefaultHistoryAge
	}
	p := &Pipeline{cfg: cfg, byID: map[string]*Transaction{}, maxHeld: MaxHeld}
	if cfg.Pending != nil {
		if err := p.loadPending(); err != nil {
			return nil, err
		}
		p.mu.Lock()
		dropped := p.takeDroppedLocked()
		p.mu.Unlock()
		p.removePending(dropped...)
	}
	return p, nil
}

// Run processes documents until ctx is done or docs is closed.
func (p *Pipeline) Run(ctx context.Context, docs <-chan DocumentEvent) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-docs:
			if !ok {
				return nil
			}
			if _, err := p.Process(ctx, ev); err != nil && ctx.Err() == nil {
				p.cfg.Logger.Error("transaction failed", "err", err)
			}
		}
	}
}

func newID() string {
	var b [8]byte
	rand.Read(b[:])
	return time.Now().UTC().Format("20060102T150405") + "-" + hex.EncodeToString(b[:])
}

// Process runs one transaction to its decision. The decision is durable in
// the outbox and the audit log before it is published; an error persisting
// it is returned and the transaction is published as REFER with the reason.
func (p *Pipeline) Process(ctx context.Context, ev DocumentEvent) (*Transaction, error) {
	p.run.Lock()
	defer p.run.Unlock()
	now := p.cfg.Now()
	start := ev.At
	if start.IsZero() || start.After(now) {
		start = now
	}
	tx := &Transaction{
		ID: newID(), Source: ev.Source, State: StateStarted, StartedAt: start,
		Document: documentView(ev.Document, now), doc: ev.Document,
	}
	tx.Document.Repeat = ev.Repeat
	tx.Face.Wanted = p.cfg.Faces != nil
	p.remember(tx)
	p.publish(EventStarted, tx)

	// The chip is read in parallel with the face capture and the
	// watchlist checks.
	waitChip := p.startChip(ctx, ev.Document)

	var find Findings
	find.DocumentValid = ev.Document != nil && ev.Document.Valid
	find.DocumentExpired = tx.Document.Expired
	find.FaceWanted = p.cfg.Faces != nil

	var face *FaceCapture
	if p.cfg.Faces != nil {
		if !p.cfg.Faces.Up() {
			find.CameraDown = true
		} else {
			fc, err := p.cfg.Faces.Capture(ctx, p.cfg.CaptureWindow)
			if err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				p.cfg.Logger.Warn("face capture failed", "tx", tx.ID, "err", err)
				find.CameraDown = true
			} else {
				face = &fc
				find.FaceCaptured = fc.Captured
				find.FacePoor = !fc.Captured && fc.FacesSeen > 0
				p.mu.Lock()
				tx.State = StateFaceCaptured
				tx.Face = FaceView{Wanted: true, Captured: fc.Captured, Quality: fc.Quality, Reasons: fc.Reasons,
					FacesSeen: fc.FacesSeen, Multiple: fc.Multiple, HasImage: len(fc.JPEG) > 0}
				tx.FaceJPEG = fc.JPEG
				p.mu.Unlock()
				p.publish(EventFaceCaptured, tx)
			}
		}
	}

	var res CheckResult
	if ev.Document != nil {
		var useFace *FaceCapture
		if face != nil && face.Captured {
			useFace = face
		}
		r, err := p.cfg.Checker.Check(ctx, ev.Document, useFace)
		if err != nil {
			p.cfg.Logger.Error("watchlist check failed", "tx", tx.ID, "err", err)
			find.CheckErr = true
		}
		res = r
	}
	for _, h := range res.Hits {
		if h.IsPossible() {
			find.Possible++
		} else {
			find.Hits++
		}
	}
	find.IntegrityErrors = res.IntegrityErrors
	find.Stale = res.Stale
	find.NoWatchlist = res.Empty
	chipRes := waitChip()
	if chipRes != nil {
		chipFindings(p.cfg.Policy.Chip, chipRes, face, &find)
	}
	decision, reasons := Decide(p.cfg.Policy, find)

	p.mu.Lock()
	tx.Hits = res.Hits
	if tx.Hits == nil {
		tx.Hits = []HitView{}
	}
	tx.Decision, tx.Reasons = decision, reasons
	if chipRes != nil {
		tx.Chip, tx.ChipJPEG = &chipRes.View, chipRes.Photo
	}
	tx.Texts = make([]string, len(reasons))
	for i, r := range reasons {
		tx.Texts[i] = ReasonText(r)
		if t := chipReasonText(r, tx.Chip); t != "" {
			tx.Texts[i] = t
		}
	}
	tx.Stale = res.Stale
	tx.Sequence = res.Sequence
	if p.cfg.Discreet != nil {
		for i := range tx.Hits {
			if p.cfg.Discreet(tx.Hits[i]) {
				tx.Hits[i].Discreet, tx.Discreet = true, true
			}
		}
	}
	p.mu.Unlock()

	// Durable before anyone is told: a result the officer saw is a result
	// headquarters will get.
	persistErr := p.persist(ctx, tx, face)
	if persistErr != nil {
		p.mu.Lock()
		if tx.Decision == Clear {
			tx.Decision = Refer
		}
		tx.Reasons = append(tx.Reasons, ReasonDeviceFault)
		tx.Texts = append(tx.Texts, "Result could not be stored: "+persistErr.Error())
		p.mu.Unlock()
	}
	// A HIT or REFER is in the stored work queue before anyone can give
	// a verdict on it: verdicts wait on p.decide, so a verdict's removal
	// can never come before the save.
	p.decide.Lock()
	p.mu.Lock()
	tx.State = StateDecided
	tx.DecidedAt = p.cfg.Now()
	tx.LatencyMS = float64(tx.DecidedAt.Sub(start).Microseconds()) / 1000
	pending := tx.pendingLocked()
	var snap Transaction
	if pending {
		snap = tx.copyLocked()
	} else {
		p.settleLocked()
		p.trimLocked(tx.DecidedAt)
	}
	dropped := p.takeDroppedLocked()
	p.mu.Unlock()
	if pending {
		p.savePending(snap)
	}
	p.removePending(dropped...)
	p.decide.Unlock()
	p.publish(EventDecision, tx)
	if p.cfg.Observe != nil {
		p.cfg.Observe(tx)
	}
	p.cfg.Logger.Info("decision", "tx", tx.ID, "decision", tx.Decision, "hits", len(tx.Hits),
		"reasons", strings.Join(tx.Reasons, ","), "latency_ms", tx.LatencyMS)
	p.mu.RLock()
	c := tx.copyLocked()
	p.mu.RUnlock()
	return &c, persistErr
}

// Result is the record uploaded to headquarters for a transaction.
type Result struct {
	TxID      string       `json:"tx_id"`
	Unit      string       `json:"unit"`
	Mode      string       `json:"mode"`
	Source    string       `json:"source"`
	StartedAt time.Time    `json:"started_at"`
	DecidedAt time.Time    `json:"decided_at"`
	Decision  Decision     `json:"decision"`
	Reasons   []string     `json:"reasons,omitempty"`
	Sequence  uint64       `json:"watchlist_sequence"`
	Stale     bool         `json:"stale"`
	Document  DocumentView `json:"document"`
	Face      FaceView     `json:"face"`
	Hits      []HitView    `json:"hits"`
	Chip      *ChipView    `json:"chip,omitempty"`
	FaceJPEG  []byte       `json:"face_jpeg,omitempty"`
	// ChipJPEG is the chip's photo, under the same face-image policy.
	ChipJPEG []byte `json:"chip_face_jpeg,omitempty"`
}

func (p *Pipeline) persist(ctx context.Context, tx *Transaction, face *FaceCapture) error {
	p.mu.RLock()
	r := Result{TxID: tx.ID, Unit: p.cfg.Unit, Mode: p.cfg.Mode, Source: tx.Source, StartedAt: tx.StartedAt,
		DecidedAt: p.cfg.Now(), Decision: tx.Decision, Reasons: tx.Reasons, Sequence: tx.Sequence, Stale: tx.Stale,
		Document: tx.Document, Face: tx.Face, Hits: tx.Hits, Chip: tx.Chip}
	chipJPEG := tx.ChipJPEG
	p.mu.RUnlock()
	withImages := p.cfg.FaceImages == "all" || ((p.cfg.FaceImages == "hits" || p.cfg.FaceImages == "") && tx.Decision == Hit)
	if face != nil && len(face.JPEG) > 0 && withImages {
		r.FaceJPEG = face.JPEG
	}
	if withImages {
		r.ChipJPEG = chipJPEG
	}
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("lane: encode result: %w", err)
	}
	if err := p.cfg.Queue.Enqueue(ctx, Item{Kind: "result", Hit: tx.Decision == Hit, Payload: b, Created: r.DecidedAt, TxID: tx.ID, Decision: tx.Decision}); err != nil {
		return fmt.Errorf("lane: outbox: %w", err)
	}
	fields := map[string]string{"tx": tx.ID, "decision": string(tx.Decision), "hits": fmt.Sprint(len(tx.Hits)), "watchlist_sequence": fmt.Sprint(tx.Sequence)}
	refs := make([]string, 0, len(tx.Hits))
	for _, h := range tx.Hits {
		refs = append(refs, h.Kind+":"+h.RefID)
	}
	if len(refs) > 0 {
		fields["hit_refs"] = strings.Join(refs, ",")
	}
	if err := p.cfg.Audit.Append("transaction", "system", "decision", fields); err != nil {
		return fmt.Errorf("lane: audit: %w", err)
	}
	return nil
}

func (p *Pipeline) publish(typ string, tx *Transaction) {
	p.mu.RLock()
	c := tx.copyLocked()
	p.mu.RUnlock()
	p.cfg.Broker.Publish(Event{Type: typ, Transaction: &c})
}

func documentView(d *mrz.Document, now time.Time) DocumentView {
	if d == nil {
		return DocumentView{}
	}
	v := DocumentView{
		Format: string(d.Format), DocumentCode: d.DocumentCode, IssuingState: d.IssuingState,
		DocumentNumber: d.DocumentNumber, Surname: d.Surname, GivenNames: strings.Join(d.GivenNames, " "),
		Nationality: d.Nationality, BirthDate: dateString(d.BirthDate), Sex: d.Sex,
		ExpiryDate: dateString(d.ExpiryDate), Valid: d.Valid,
		Expired: expired(d.ExpiryDate.Year, d.ExpiryDate.Month, d.ExpiryDate.Day, now),
	}
	v.IssuingName, _ = mrz.CountryName(d.IssuingState)
	v.IssuingISO2, v.NationalityISO = ISO2(d.IssuingState), ISO2(d.Nationality)
	for _, pr := range d.Problems {
		v.Problems = append(v.Problems, pr.Message)
	}
	for _, c := range d.Corrections {
		v.Corrections = append(v.Corrections, fmt.Sprintf("%v", c))
	}
	return v
}

func dateString(d mrz.Date) string {
	part := func(n, w int) string {
		if n == 0 {
			return strings.Repeat("?", w)
		}
		return fmt.Sprintf("%0*d", w, n)
	}
	if d.Year == 0 && d.Month == 0 && d.Day == 0 {
		return ""
	}
	return part(d.Year, 4) + "-" + part(d.Month, 2) + "-" + part(d.Day, 2)
}
