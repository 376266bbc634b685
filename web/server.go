package web

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/checkpoint-edge/checkpoint/lane"
)

//go:embed assets
var assets embed.FS

// Backend is what the page needs from the lane.
type Backend interface {
	Recent(n int) []lane.Transaction
	Transaction(id string) *lane.Transaction
	Decide(ctx context.Context, txID, officer, verdict, note string) (*lane.Transaction, error)
	Health() lane.Health
	Subscribe(buffer int) (<-chan lane.Event, func())
}

// Options configure the server.
type Options struct {
	// AccountsFile, when set, is re-read as it changes; otherwise Accounts
	// is fixed.
	AccountsFile *AccountsFile
	Accounts     *Accounts
	SessionTTL   time.Duration
	Secure       bool // cookies only over TLS
	Metrics      http.Handler
	Logger       *slog.Logger
	Now          func() time.Time
}

// Server is the officer page's HTTP handler.
type Server struct {
	b    Backend
	opt  Options
	mux  *http.ServeMux
	mu   sync.Mutex
	sess map[string]session
	fail map[string]failures // by officer id: lockout after repeated wrong PINs
	tick map[string]session  // one-time sign-in tickets from the sign-in socket
}

type session struct {
	officer Officer
	expires time.Time
}

type failures struct {
	n     int
	until time.Time
}

const (
	cookieName  = "checkpoint_session"
	maxFailures = 5
	lockout     = time.Minute
)

var loginTmpl = template.Must(template.ParseFS(assets, "assets/login.html"))

// New returns the page's handler.
func New(b Backend, opt Options) *Server {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.SessionTTL <= 0 {
		opt.SessionTTL = 8 * time.Hour
	}
	s := &Server{b: b, opt: opt, mux: http.NewServeMux(), sess: map[string]session{}, fail: map[string]failures{}, tick: map[string]session{}}
	static, _ := fs.Sub(assets, "assets")
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	s.mux.HandleFunc("GET /login", s.loginPage)
	s.mux.HandleFunc("POST /login", s.login)
	s.mux.HandleFunc("GET /login/ticket", s.redeemTicket)
	s.mux.HandleFunc("POST /logout", s.logout)
	s.mux.HandleFunc("GET /{$}", s.auth(s.index))
	s.mux.HandleFunc("GET /api/state", s.auth(s.state))
	s.mux.HandleFunc("GET /api/events", s.auth(s.events))
	s.mux.HandleFunc("GET /api/transactions/{id}/face.jpg", s.auth(s.faceImage))
	s.mux.HandleFunc("GET /api/transactions/{id}/hits/{n}/photo.jpg", s.auth(s.hitPhoto))
	s.mux.HandleFunc("GET /api/transactions/{id}/chip.jpg", s.auth(s.chipPhoto))
	s.mux.HandleFunc("POST /api/transactions/{id}/decision", s.auth(s.decide))
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	if opt.Metrics != nil {
		s.mux.Handle("GET /metrics", opt.Metrics)
	}
	return s
}

// ServeHTTP implements http.Handler with security headers on every answer.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	s.mux.ServeHTTP(w, r)
}

// accounts are the officer accounts in force now.
func (s *Server) accounts() *Accounts {
	if s.opt.AccountsFile != nil {
		return s.opt.AccountsFile.Get()
	}
	if s.opt.Accounts == nil {
		return &Accounts{}
	}
	return s.opt.Accounts
}

type ctxKey struct{}

func officerFrom(r *http.Request) Officer {
	o, _ := r.Context().Value(ctxKey{}).(Officer)
	return o
}

// auth admits requests with a live session; pages redirect to sign-in,
// API calls get 401. State-changing calls must come from our own page.
func (s *Server) auth(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(cookieName)
		var o Officer
		ok := false
		if err == nil {
			s.mu.Lock()
			ss, found := s.sess[c.Value]
			if found && s.opt.Now().Before(ss.expires) {
				o, ok = ss.officer, true
			} else if found {
				delete(s.sess, c.Value)
			}
			s.mu.Unlock()
			// An officer removed from the accounts loses the page at once.
			if ok && !s.accounts().has(o.ID) {
				s.mu.Lock()
				delete(s.sess, c.Value)
				s.mu.Unlock()
				ok = false
			}
		}
		if !ok {
			if strings.HasPrefix(r.URL.Path, "/api/") {
				http.Error(w, "sign in required", http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost && !sameOrigin(r) {
			http.Error(w, "cross-origin request refused", http.StatusForbidden)
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, o)))
	}
}

// sameOrigin checks the Origin header of a state-changing request (the
// session cookie is also SameSite=Strict).
func sameOrigin(r *http.Request) bool {
	if r.Header.Get("X-Checkpoint") != "1" {
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	return strings.TrimPrefix(strings.TrimPrefix(origin, "http://"), "https://") == r.Host
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	loginTmpl.Execute(w, map[string]string{"Error": r.URL.Query().Get("e")})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	id := strings.TrimSpace(r.PostForm.Get("officer"))
	pin := r.PostForm.Get("pin")
	now := s.opt.Now()
	s.mu.Lock()
	f := s.fail[id]
	s.mu.Unlock()
	if now.Before(f.until) {
		http.Redirect(w, r, "/login?e=locked", http.StatusSeeOther)
		return
	}
	o, err := s.accounts().Check(id, pin)
	if err != nil {
		s.mu.Lock()
		f.n++
		if f.n >= maxFailures {
			f = failures{until: now.Add(lockout)}
		}
		s.fail[id] = f
		s.mu.Unlock()
		s.opt.Logger.Warn("officer sign-in failed")
		http.Redirect(w, r, "/login?e=bad", http.StatusSeeOther)
		return
	}
	s.mu.Lock()
	delete(s.fail, id)
	s.mu.Unlock()
	s.startSession(w, r, o, "pin")
}

// startSession signs o in on this browser and opens the page.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, o Officer, method string) {
	t := newToken()
	now := s.opt.Now()
	s.mu.Lock()
	s.sess[t] = session{officer: o, expires: now.Add(s.opt.SessionTTL)}
	for k, v := range s.sess {
		if now.After(v.expires) {
			delete(s.sess, k)
		}
	}
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: t, Path: "/", HttpOnly: true, Secure: s.opt.Secure,
		SameSite: http.SameSiteStrictMode, MaxAge: int(s.opt.SessionTTL.Seconds())})
	s.opt.Logger.Info("officer signed in", "officer", o.ID, "method", method)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func newToken() string {
	var tok [32]byte
	rand.Read(tok[:])
	return hex.EncodeToString(tok[:])
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(cookieName); err == nil {
		s.mu.Lock()
		delete(s.sess, c.Value)
		s.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	b, _ := assets.ReadFile("assets/index.html")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(b)
}

type stateView struct {
	Officer      Officer            `json:"officer"`
	Health       lane.Health        `json:"health"`
	Transactions []lane.Transaction `json:"transactions"`
}

func (s *Server) state(w http.ResponseWriter, r *http.Request) {
	o := officerFrom(r)
	o.PINHash = ""
	writeJSON(w, http.StatusOK, stateView{Officer: o, Health: s.b.Health(), Transactions: s.b.Recent(10)})
}

// events streams lane events as server-sent events, with a health beat.
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
	n := 0
	for _, c := range r.PathValue("n") {
		if c < '0' || c > '9' || n > 1000 {
			http.NotFound(w, r)
			return
		}
		n = n*10 + int(c-'0')
	}
	if tx == nil || n >= len(tx.Hits) || len(tx.Hits[n].Photo) == 0 {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Write(tx.Hits[n].Photo)
}

func (s *Server) decide(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Verdict string `json:"verdict"`
		Note    string `json:"note"`
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8192)
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, "bad request body", http.StatusBadRequest)
		return
	}
	o := officerFrom(r)
	tx, err := s.b.Decide(r.Context(), r.PathValue("id"), o.ID, req.Verdict, req.Note)
	switch {
	case errors.Is(err, lane.ErrUnknownTransaction):
		http.Error(w, err.Error(), http.StatusNotFound)
	case errors.Is(err, lane.ErrBadVerdict):
		http.Error(w, err.Error(), http.StatusBadRequest)
	case err != nil:
		s.opt.Logger.Error("officer decision not recorded", "err", err)
		http.Error(w, "decision NOT recorded: "+err.Error(), http.StatusServiceUnavailable)
	default:
		writeJSON(w, http.StatusOK, tx.Officer)
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}
