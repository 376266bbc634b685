package unit

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/checkpoint-edge/checkpoint/alerts"
	"github.com/checkpoint-edge/checkpoint/audit"
	"github.com/checkpoint-edge/checkpoint/lane"
	"github.com/checkpoint-edge/checkpoint/mrz"
	"github.com/checkpoint-edge/checkpoint/sync/outbox"
	"github.com/checkpoint-edge/checkpoint/vision/traffic"
	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// outboxQueue persists lane results in the encrypted outbox.
type outboxQueue struct{ ob *outbox.Outbox }

func (q outboxQueue) Enqueue(ctx context.Context, it lane.Item) error {
	p := outbox.Routine
	if it.Hit {
		p = outbox.Hit
	}
	_, err := q.ob.Enqueue(ctx, outbox.Item{Kind: it.Kind, Priority: p, CreatedAt: it.Created, Payload: it.Payload})
	return err
}

// auditLog adapts the audit log to the lane.
type auditLog struct{ l *audit.Log }

func (a auditLog) Append(kind, actor, action string, fields map[string]string) error {
	_, err := a.l.Append(kind, actor, action, fields)
	return err
}

// storeChecker runs the combined watchlist check and turns its hits into
// what the officer sees.
type storeChecker struct {
	store   *watchlist.Store
	maxAge  time.Duration
	now     func() time.Time
	shared  *alerts.Book // confirmed hits shared by other posts (may be nil)
	traffic *traffic.Log // nil: no camera
	log     *slog.Logger
}

func (c storeChecker) Check(ctx context.Context, doc *mrz.Document, face *lane.FaceCapture) (lane.CheckResult, error) {
	meta := c.store.Meta()
	out := lane.CheckResult{Sequence: meta.Sequence, Stale: meta.Sequence > 0 && meta.Stale(c.now(), c.maxAge), Empty: meta.Sequence == 0}
	q := watchlist.Query{Document: doc}
	if face != nil && face.Captured {
		q.Face, q.FaceModelID = face.Descriptor, face.ModelID
	}
	res, err := c.store.Check(ctx, q)
	if err != nil {
		return out, err
	}
	c.recordFace(res.Face)
	for _, e := range res.Errors {
		if _, ok := e.(*watchlist.IntegrityError); ok {
			out.IntegrityErrors++
		}
	}
	for _, h := range res.Hits {
		v := hitView(h, doc)
		v.SharedAlert, v.Sightings = sharedAlert(c.shared, h.Kind, h.RefID)
		out.Hits = append(out.Hits, v)
	}
	return out, nil
}

func hitView(h watchlist.Hit, doc *mrz.Document) lane.HitView {
	v := lane.HitView{Kind: h.Kind, RefID: h.RefID, Source: h.Source, Category: h.Category, Action: h.Action,
		Score: h.Score, Distance: float64(h.Distance), Strength: h.Strength, Level: h.LevelOrHit(), Explanation: h.Explanation}
	if v.Category == "" {
		v.Category = h.Status
	}
	if h.Variant != "" {
		v.Explanation += fmt.Sprintf(" (matched as %s)", h.Variant)
	}
	for _, f := range h.Fields {
		v.Fields = append(v.Fields, lane.FieldView{Field: f.Field, Score: f.Score, Detail: f.Detail})
	}
	if h.Person != nil {
		parts := []string{h.Person.DisplayName}
		if h.Person.Birth != "" {
			parts = append(parts, "born "+h.Person.Birth)
		}
		if h.Person.Nationality != "" {
			parts = append(parts, h.Person.Nationality)
		}
		v.Person = strings.Join(parts, " · ")
		v.Photo = h.Person.Photo
		v.HasPhoto = len(v.Photo) > 0
		v.Listed = listedPerson(h.Person)
		nameScore := -1.0
		for _, f := range h.Fields {
			if f.Field == "name" {
				nameScore = f.Score
			}
		}
		v.Agreement = agreement(doc, v.Listed, nameScore)
	}
	return v
}
