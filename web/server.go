package web

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"encoding/json"
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
	// Pending are the transactions awaiting a verdict, oldest first.
	Pending() []lane.Transaction
	History(q lane.HistoryQuery) []lane.Summary
	Record(ctx context.Context, r lane.VerdictRequest) (*lane.Transaction, error)
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
	Page         PageOptions
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
	// shown is what each session was shown (queue.go).
	shown shownSets
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
	s.officerRoutes()
	s.arrivalsRoutes()
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
	loginTmpl.Execute(w, s.loginView(r))
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
	s.beginShift(t, now)
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
		s.forgetSession(c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	b, _ := assets.ReadFile("assets/index.html")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(b)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}
