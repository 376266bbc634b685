package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/checkpoint-edge/checkpoint/lane"
)

// The officer's work: the transaction on screen, the queue of HITs and
// REFERs awaiting a verdict, verdicts, and the shift's history.
//
// A verdict is only accepted for a transaction this browser session was
// shown decided (by /api/state, /api/transactions/{id} or the event
// stream): the page cannot decide for a traveller the officer never saw,
// and every refusal comes back as a code the page words in the officer's
// language.

// PageOptions are how the page presents itself (config officer.*).
type PageOptions struct {
	Language string // default language: en, fr or ar
	Sound    bool   // a tone on every HIT, never on a discreet one
}

func (s *Server) officerRoutes() {
	s.mux.HandleFunc("GET /api/state", s.auth(s.state))
	s.mux.HandleFunc("GET /api/events", s.auth(s.events))
	s.mux.HandleFunc("GET /api/history", s.auth(s.history))
	s.mux.HandleFunc("GET /api/transactions/{id}", s.auth(s.transaction))
	s.mux.HandleFunc("GET /api/transactions/{id}/face.jpg", s.auth(s.faceImage))
	s.mux.HandleFunc("GET /api/transactions/{id}/hits/{n}/photo.jpg", s.auth(s.hitPhoto))
	s.mux.HandleFunc("GET /api/transactions/{id}/chip.jpg", s.auth(s.chipPhoto))
	s.mux.HandleFunc("POST /api/transactions/{id}/verdict", s.auth(s.verdict))
	s.mux.HandleFunc("POST /api/transactions/{id}/decision", s.auth(s.verdict)) // the first page's route
}

// shownSets remembers, per browser session, the transactions shown
// decided, and when the session's shift began. Bounded: maxShown ids per
// session, maxShownSessions sessions (least recently used go first).
type shownSets struct {
	mu sync.Mutex
	by map[string]*shownSet
}

type shownSet struct {
	ids     map[string]struct{}
	order   []string
	started time.Time
	used    time.Time
}

const (
	maxShown         = 5000 // a shift's travellers at one desk, as lane.DefaultMaxHistory
	maxShownSessions = 64
	// maxPendingAnswer bounds the queue sent with the state; the page
	// shows the count of the rest.
	maxPendingAnswer = 1000
)

func sessionToken(r *http.Request) string {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return ""
	}
	return c.Value
}

// set returns the session's set, creating it (the shift starts now).
func (s *Server) shownSet(token string, now time.Time) *shownSet {
	if s.shown.by == nil {
		s.shown.by = map[string]*shownSet{}
	}
	ss := s.shown.by[token]
	if ss == nil {
		if len(s.shown.by) >= maxShownSessions {
			var oldest string
			for k, v := range s.shown.by {
				if oldest == "" || v.used.Before(s.shown.by[oldest].used) {
					oldest = k
				}
			}
			delete(s.shown.by, oldest)
		}
		ss = &shownSet{ids: map[string]struct{}{}, started: now}
		s.shown.by[token] = ss
	}
	ss.used = now
	return ss
}

// markShown records that the session was shown these transactions,
// decided ones only: a transaction still being checked has no result to
// decide on.
func (s *Server) markShown(r *http.Request, txs ...*lane.Transaction) {
	tok := sessionToken(r)
	if tok == "" {
		return
	}
	s.shown.mu.Lock()
	defer s.shown.mu.Unlock()
	ss := s.shownSet(tok, s.opt.Now())
	for _, tx := range txs {
		if tx == nil || tx.State != lane.StateDecided {
			continue
		}
		if _, ok := ss.ids[tx.ID]; ok {
			continue
		}
		ss.ids[tx.ID] = struct{}{}
		ss.order = append(ss.order, tx.ID)
		if len(ss.order) > maxShown {
			delete(ss.ids, ss.order[0])
			ss.order = ss.order[1:]
		}
	}
}

func (s *Server) wasShown(r *http.Request, id string) bool {
	s.shown.mu.Lock()
	defer s.shown.mu.Unlock()
	ss := s.shown.by[sessionToken(r)]
	if ss == nil {
		return false
	}
	_, ok := ss.ids[id]
	return ok
}

// beginShift starts a session's shift (at sign-in).
func (s *Server) beginShift(token string, now time.Time) {
	s.shown.mu.Lock()
	defer s.shown.mu.Unlock()
	s.shownSet(token, now)
}

// shiftStart is when this session's shift began.
func (s *Server) shiftStart(r *http.Request) time.Time {
	s.shown.mu.Lock()
	defer s.shown.mu.Unlock()
	return s.shownSet(sessionToken(r), s.opt.Now()).started
}

// forgetSession drops a session's shown set (sign-out).
func (s *Server) forgetSession(token string) {
	s.shown.mu.Lock()
	delete(s.shown.by, token)
	s.shown.mu.Unlock()
}

type officerView struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Lang string `json:"lang"` // the officer's language, else the unit's default
}

type settingsView struct {
	Sound     bool     `json:"sound"`
	Languages []string `json:"languages"`
}

type stateView struct {
	Officer  officerView        `json:"officer"`
	Settings settingsView       `json:"settings"`
	Health   lane.Health        `json:"health"`
	Current  *lane.Transaction  `json:"current,omitempty"` // the newest transaction at the lane
	Pending  []lane.Transaction `json:"pending"`           // awaiting a verdict, oldest first
	// PendingTotal counts them all, when there are more than Pending holds.
	PendingTotal int       `json:"pending_total"`
	ShiftStart   time.Time `json:"shift_start"`
}

func (s *Server) officerView(o Officer) officerView {
	lang := o.Lang
	if !slices.Contains(Languages, lang) {
		lang = s.opt.Page.Language
	}
	if !slices.Contains(Languages, lang) {
		lang = "en"
	}
	return officerView{ID: o.ID, Name: o.Name, Lang: lang}
}

func (s *Server) state(w http.ResponseWriter, r *http.Request) {
	v := stateView{Officer: s.officerView(officerFrom(r)), Settings: settingsView{Sound: s.opt.Page.Sound, Languages: Languages},
		Health: s.b.Health(), Pending: s.b.Pending(), ShiftStart: s.shiftStart(r)}
	v.PendingTotal = len(v.Pending)
	v.Pending = v.Pending[:min(len(v.Pending), maxPendingAnswer)]
	if rec := s.b.Recent(1); len(rec) > 0 {
		v.Current = &rec[0]
	}
	shown := []*lane.Transaction{v.Current}
	for i := range v.Pending {
		shown = append(shown, &v.Pending[i])
	}
	s.markShown(r, shown...)
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) transaction(w http.ResponseWriter, r *http.Request) {
	tx := s.b.Transaction(r.PathValue("id"))
	if tx == nil {
		writeError(w, http.StatusNotFound, "unknown_transaction", lane.ErrUnknownTransaction)
		return
	}
	s.markShown(r, tx)
	writeJSON(w, http.StatusOK, tx)
}

func (s *Server) history(w http.ResponseWriter, r *http.Request) {
	q := lane.HistoryQuery{Since: s.shiftStart(r), Text: r.URL.Query().Get("q")}
	if len(q.Text) > 128 {
		q.Text = q.Text[:128]
	}
	if n, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil {
		q.Limit = min(max(n, 1), lane.MaxHistoryAnswer)
	}
	writeJSON(w, http.StatusOK, map[string]any{"since": q.Since, "transactions": s.b.History(q)})
}

// events streams lane events as server-sent events, with a health beat.
// Decided transactions sent here count as shown to this session.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	ch, cancel := s.b.Subscribe(64)
	defer cancel()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(ev lane.Event) bool {
		b, err := json.Marshal(ev)
		if err != nil {
			return true
		}
		if ev.Transaction != nil {
			s.markShown(r, ev.Transaction)
		}
		if _, err := w.Write([]byte("event: " + ev.Type + "\ndata: ")); err != nil {
			return false
		}
		w.Write(b)
		w.Write([]byte("\n\n"))
		fl.Flush()
		return true
	}
	h := s.b.Health()
	send(lane.Event{Type: lane.EventHealth, Health: &h})
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case ev, ok := <-ch:
			if !ok || !send(ev) {
				return
			}
		case <-tick.C:
			h := s.b.Health()
			if !send(lane.Event{Type: lane.EventHealth, Health: &h}) {
				return
			}
		}
	}
}

func (s *Server) faceImage(w http.ResponseWriter, r *http.Request) {
	tx := s.b.Transaction(r.PathValue("id"))
	if tx == nil || len(tx.FaceJPEG) == 0 {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Write(tx.FaceJPEG)
}

// chipPhoto serves the passport chip's photo (DG2, as JPEG).
func (s *Server) chipPhoto(w http.ResponseWriter, r *http.Request) {
	tx := s.b.Transaction(r.PathValue("id"))
	if tx == nil || len(tx.ChipJPEG) == 0 {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Write(tx.ChipJPEG)
}

func (s *Server) hitPhoto(w http.ResponseWriter, r *http.Request) {
	tx := s.b.Transaction(r.PathValue("id"))
	n, err := strconv.Atoi(r.PathValue("n"))
	if tx == nil || err != nil || n < 0 || n >= len(tx.Hits) || len(tx.Hits[n].Photo) == 0 {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Write(tx.Hits[n].Photo)
}

// maxVerdictBody bounds a verdict request (a note of 500 characters and a
// few candidates fit many times over).
const maxVerdictBody = 16 << 10

// decodeVerdict reads a verdict request body strictly.
func decodeVerdict(r *http.Request, w http.ResponseWriter) (lane.VerdictRequest, error) {
	var req lane.VerdictRequest
	r.Body = http.MaxBytesReader(w, r.Body, maxVerdictBody)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, err
	}
	if len(req.Candidates) > 64 {
		return req, errors.New("too many candidates")
	}
	return req, nil
}

func (s *Server) verdict(w http.ResponseWriter, r *http.Request) {
	req, err := decodeVerdict(r, w)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err)
		return
	}
	req.TxID, req.Officer = r.PathValue("id"), officerFrom(r).ID
	if !s.wasShown(r, req.TxID) {
		if s.b.Transaction(req.TxID) == nil {
			writeError(w, http.StatusNotFound, "unknown_transaction", lane.ErrUnknownTransaction)
			return
		}
		writeError(w, http.StatusConflict, "not_shown", errors.New("this traveller's result was not shown on this page: verdict refused"))
		return
	}
	tx, err := s.b.Record(r.Context(), req)
	if err == nil {
		writeJSON(w, http.StatusOK, tx)
		return
	}
	for _, e := range []struct {
		err  error
		code int
		name string
	}{
		{lane.ErrUnknownTransaction, http.StatusNotFound, "unknown_transaction"},
		{lane.ErrNotDecided, http.StatusConflict, "not_decided"},
		{lane.ErrAlreadyDecided, http.StatusConflict, "already_decided"},
		{lane.ErrStaleVerdict, http.StatusConflict, "stale_verdict"},
		{lane.ErrMovedOn, http.StatusConflict, "moved_on"},
		{lane.ErrReasonRequired, http.StatusUnprocessableEntity, "reason_required"},
		{lane.ErrBadVerdict, http.StatusBadRequest, "bad_verdict"},
	} {
		if errors.Is(err, e.err) {
			writeError(w, e.code, e.name, err)
			return
		}
	}
	s.opt.Logger.Error("officer verdict not recorded", "err", err)
	writeError(w, http.StatusServiceUnavailable, "not_recorded", err)
}

// apiError is every refusal of the page's API: a code the page words in
// the officer's language, and the message in English for logs and tools.
type apiError struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

func writeError(w http.ResponseWriter, status int, code string, err error) {
	writeJSON(w, status, apiError{Error: code, Message: err.Error()})
}
