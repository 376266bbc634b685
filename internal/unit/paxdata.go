package unit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/checkpoint-edge/checkpoint/audit"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/lane"
	"github.com/checkpoint-edge/checkpoint/mrz"
	"github.com/checkpoint-edge/checkpoint/paxdata"
	"github.com/checkpoint-edge/checkpoint/paxdata/paxstore"
	"github.com/checkpoint-edge/checkpoint/sync/bundle"
	"github.com/checkpoint-edge/checkpoint/sync/channel"
)

// paxState is the unit's pre-arrival screening: the alerts of the port
// channels it pulls and of the messages it screened itself (inbox, admin
// socket), kept encrypted in paxdata.db with retention enforced.
type paxState struct {
	arrivals  *paxdata.Arrivals
	store     *paxstore.Store
	retention paxstore.Retention
	grace     time.Duration
	mu        sync.Mutex // one screening run at a time
}

// adminHooks add routes to the technician's admin socket.
var adminHooks []func(u *Unit, mux *http.ServeMux)

// MaxPaxUpload bounds a message handed over on the admin socket.
const MaxPaxUpload = 16 << 20

func init() {
	channelHooks = append(channelHooks, (*Unit).openPax)
	adminHooks = append(adminHooks, func(u *Unit, mux *http.ServeMux) {
		mux.HandleFunc("POST /v1/paxdata/screen", u.postPaxScreen)
	})
}

// openPax registers the prearrival consumer, opens the store and starts
// the inbox and retention loops with the unit.
func (u *Unit) openPax(reg *channel.Registry) error {
	cfg := u.cfg.Paxdata
	u.pax.arrivals = paxdata.NewArrivals(func() time.Time { return u.now() })
	if err := reg.Register(bundle.KindPrearrival, u.pax.arrivals); err != nil {
		return err
	}
	kp, err := seal.ParseProvider(u.cfg.PaxdataKey())
	if err != nil {
		return fmt.Errorf("paxdata key: %w", err)
	}
	if u.pax.store, err = paxstore.Open(cfg.Path, kp, paxstore.Options{Logger: u.log.With("component", "paxdata")}); err != nil {
		return fmt.Errorf("paxdata store %s: %w", cfg.Path, err)
	}
	u.pax.grace = cfg.Grace.D()
	if u.pax.grace <= 0 {
		u.pax.grace = 6 * time.Hour
	}
	u.pax.retention = paxstore.Retention{API: cfg.Retention.API.D(), PNRDepersonalise: cfg.Retention.PNRDepersonalise.D(),
		PNRDelete: cfg.Retention.PNRDelete.D()}
	u.reloadLocalAlerts()
	u.addPart(u.runPax, u.pax.store.Close)
	return nil
}

func (u *Unit) runPax(ctx context.Context) error {
	every := u.cfg.Paxdata.ScanInterval.D()
	if every <= 0 {
		every = 10 * time.Second
	}
	scan := time.NewTicker(every)
	defer scan.Stop()
	enforce := time.NewTicker(10 * time.Minute)
	defer enforce.Stop()
	u.enforcePax()
	for {
		if u.cfg.Paxdata.Inbox != "" {
			u.scanInbox(ctx)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-enforce.C:
			u.enforcePax()
		case <-scan.C:
		}
	}
}

// prearrivalChecker adds the pre-arrival alerts the scanned document
// belongs to to the local watchlist's answer.
type prearrivalChecker struct {
	inner lane.Checker
	u     *Unit
}

// wrapChecker is the lane's checker with pre-arrival alerts.
func (u *Unit) wrapChecker(c lane.Checker) lane.Checker { return prearrivalChecker{inner: c, u: u} }

func (c prearrivalChecker) Check(ctx context.Context, doc *mrz.Document, face *lane.FaceCapture) (lane.CheckResult, error) {
	res, err := c.inner.Check(ctx, doc, face)
	if a := c.u.pax.arrivals; a != nil && doc != nil {
		now := c.u.now()
		for _, m := range a.Match(doc) {
			res.Hits = append(res.Hits, prearrivalHit(m, now))
		}
	}
	return res, err
}

// prearrivalHit presents a matched pre-arrival alert to the officer.
func prearrivalHit(m paxdata.PrearrivalMatch, now time.Time) lane.HitView {
	f, al := m.Flight, m.Alert
	pv := &lane.PrearrivalView{Flight: f.Flight, Departure: f.Departure, Arrival: f.Arrival, ArrivalAt: f.ArrivalAt,
		ScreenedAt: f.ScreenedAt, ScreenedBy: f.ScreenedBy, Message: f.Message, MatchedBy: m.By, Seat: al.Traveller.Seat, Role: al.Traveller.Role}
	v := lane.HitView{Kind: lane.HitKindPrearrival, Source: "prearrival", Level: al.Level, Score: m.Score, Prearrival: pv}
	v.Explanation = pv.Headline(now)
	if len(al.Matches) > 0 {
		top := al.Matches[0]
		v.RefID, v.Category, v.Action, v.Strength, v.Person = top.RefID, top.Category, top.Action, top.Strength, top.Person
		v.Explanation += ": " + top.Explanation
		for _, fl := range top.Fields {
			v.Fields = append(v.Fields, lane.FieldView{Field: fl.Field, Score: fl.Score, Detail: fl.Detail})
		}
	}
	if m.By == "document" {
		v.Explanation += " (the scanned document is the one screened)"
	} else {
		v.Explanation += " (found by name and date of birth: " + m.Explanation + ")"
	}
	return v
}

// screenData parses and screens one file of API/PNR messages against the
// local watchlist, stores each report and audits the run. It returns the
// reports and the messages that could not be read.
func (u *Unit) screenData(ctx context.Context, data []byte, source string) ([]*paxdata.Report, []string, error) {
	u.pax.mu.Lock()
	defer u.pax.mu.Unlock()
	if u.store.Meta().Sequence == 0 {
		return nil, nil, paxdata.ErrNoWatchlist
	}
	res, err := paxdata.Parse(data, paxdata.ParseOptions{Zone: func(string) *time.Location { return time.Local }, Now: u.now})
	if err != nil {
		u.audit.Append(audit.KindSystem, "system", "paxdata_refused", map[string]string{"source": source, "reason": err.Error()})
		return nil, nil, err
	}
	sc := &paxdata.Screener{Watchlist: u.store, ScreenedBy: u.cfg.Unit.ID, Now: u.now}
	var reports []*paxdata.Report
	errs := res.ErrorStrings()
	for _, m := range res.Manifests {
		r, err := sc.Screen(ctx, m)
		if err != nil {
			if ctx.Err() != nil {
				return reports, errs, ctx.Err()
			}
			errs = append(errs, fmt.Sprintf("message %s: %v", m.Reference, err))
			continue
		}
		e := &paxstore.Entry{Meta: paxstore.Meta{ID: paxstore.EntryID(m), Message: m.Message, Reference: m.Reference, Sender: m.Sender,
			Source: source, Flight: m.Flight.Number, Departure: m.Flight.Departure, Arrival: m.Flight.Arrival,
			ArrivalAt: m.Flight.ExpectedArrival(), ReceivedAt: u.now().UTC(), Travellers: len(m.Travellers), Flagged: len(r.Flagged)},
			Report: r} // the unit keeps the report, not the whole list
		if err := u.pax.store.Put(e); err != nil {
			return reports, errs, err
		}
		u.audit.Append(audit.KindSystem, "system", "paxdata_screened", map[string]string{
			"source": source, "message": m.Message, "reference": m.Reference, "flight": m.Flight.Number,
			"arrival": m.Flight.Arrival, "arrival_at": m.Flight.ExpectedArrival().Format(time.RFC3339),
			"travellers": fmt.Sprint(len(m.Travellers)), "screened": fmt.Sprint(r.Counts.Screened), "hits": fmt.Sprint(r.Counts.Hits),
			"possible": fmt.Sprint(r.Counts.Possible), "failed": fmt.Sprint(r.Failed), "watchlist_sequence": fmt.Sprint(r.WatchlistSequence)})
		reports = append(reports, r)
	}
	for _, e := range errs {
		u.audit.Append(audit.KindSystem, "system", "paxdata_message_refused", map[string]string{"source": source, "reason": e})
	}
	u.log.Info("paxdata screened", "source", source, "flights", len(reports), "refused_messages", len(errs))
	u.reloadLocalAlerts()
	return reports, errs, nil
}

// reloadLocalAlerts hands the locally screened flights that have not yet
// expired (arrival + grace) to the lane.
func (u *Unit) reloadLocalAlerts() {
	list, err := u.pax.store.List()
	if err != nil {
		u.recordError("paxdata", err)
		return
	}
	now := u.now()
	byFlight := map[string]*paxdata.FlightAlerts{}
	var order []string
	for _, m := range list {
		if m.Depersonalised.IsZero() && now.Before(m.ArrivalAt.Add(u.pax.grace)) {
			e, err := u.pax.store.Get(m.ID)
			if err != nil || e.Report == nil {
				continue
			}
			fa := e.Report.Alerts()
			if prev, ok := byFlight[fa.Key()]; ok {
				prev.Merge(fa)
				continue
			}
			byFlight[fa.Key()] = fa
			order = append(order, fa.Key())
		}
	}
	recs := make([]bundle.Record, 0, len(order))
	for _, k := range order {
		fa := byFlight[k]
		r, err := fa.Record(fa.ArrivalAt.Add(u.pax.grace))
		if err == nil {
			recs = append(recs, r)
		}
	}
	u.pax.arrivals.LoadLocal(recs)
}

// scanInbox screens every complete file in the inbox and deletes it.
func (u *Unit) scanInbox(ctx context.Context) {
	limit := u.cfg.Paxdata.MaxFileBytes
	if limit <= 0 {
		limit = 16 << 20
	}
	err := paxdata.ScanInbox(ctx, u.cfg.Paxdata.Inbox, u.now(), limit, func(f paxdata.InboxFile) bool {
		source := "inbox:" + fmt.Sprint(f.Size) + "-bytes"
		if f.TooLarge {
			u.audit.Append(audit.KindSystem, "system", "paxdata_refused", map[string]string{"source": source,
				"reason": fmt.Sprintf("file of %d bytes, limit %d", f.Size, limit)})
			u.recordError("paxdata inbox", fmt.Errorf("a file of %d bytes (limit %d) was deleted", f.Size, limit))
			return true
		}
		_, errs, err := u.screenData(ctx, f.Data, paxdata.Source("inbox", f.Data))
		switch {
		case ctx.Err() != nil:
			return false
		case err != nil:
			u.recordError("paxdata inbox", fmt.Errorf("%s: %w", paxdata.Source("inbox", f.Data), err))
		case len(errs) > 0:
			u.recordError("paxdata inbox", fmt.Errorf("%s: %d messages could not be read (see the audit log)", paxdata.Source("inbox", f.Data), len(errs)))
		}
		return !errors.Is(err, paxdata.ErrNoWatchlist) // without a list, wait
	})
	if err != nil && !errors.Is(err, os.ErrNotExist) && ctx.Err() == nil {
		u.recordError("paxdata inbox", err)
	}
}

// enforcePax applies retention and audits every deletion.
func (u *Unit) enforcePax() {
	removed, err := u.pax.store.Enforce(u.now(), u.pax.retention)
	if err != nil {
		u.recordError("paxdata retention", err)
		return
	}
	for _, r := range removed {
		u.audit.Append(audit.KindSystem, "system", "paxdata_"+r.Action, map[string]string{"id": r.Meta.ID, "rule": r.Rule,
			"flight": r.Meta.Flight, "message": r.Meta.Message, "travellers": fmt.Sprint(r.Meta.Travellers)})
	}
	if len(removed) > 0 {
		u.reloadLocalAlerts()
	}
}

// PaxScreenResponse is the admin socket's answer to a screening request.
type PaxScreenResponse struct {
	Reports []*paxdata.Report `json:"reports"`
	Errors  []string          `json:"errors"`
}

func (u *Unit) postPaxScreen(w http.ResponseWriter, r *http.Request) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxPaxUpload))
	if err != nil {
		http.Error(w, "message too large or unreadable", http.StatusRequestEntityTooLarge)
		return
	}
	reports, errs, err := u.screenData(r.Context(), data, paxdata.Source("cli", data))
	clear(data)
	w.Header().Set("Content-Type", "application/json")
	switch {
	case errors.Is(err, paxdata.ErrNoWatchlist):
		w.WriteHeader(http.StatusServiceUnavailable)
		json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
		return
	case err != nil:
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
		return
	}
	if reports == nil {
		reports = []*paxdata.Report{}
	}
	json.NewEncoder(w).Encode(PaxScreenResponse{Reports: reports, Errors: errs})
}

// ExpectedArrivals lists the pre-screened flights arriving from since,
// soonest first (the officer's "expected arrivals" panel).
func (u *Unit) ExpectedArrivals(since time.Time, limit int) []paxdata.ExpectedFlight {
	if u.pax.arrivals == nil {
		return nil
	}
	return u.pax.arrivals.Expected(since, limit)
}

// ExpectedArrivals lets the officer's page list the expected arrivals.
func (b backend) ExpectedArrivals(since time.Time, limit int) []paxdata.ExpectedFlight {
	return b.u.ExpectedArrivals(since, limit)
}
