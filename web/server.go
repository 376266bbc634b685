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
	"net"
	"net/http"
	"strconv"
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
	// Metrics, when set, is served at /metrics to signed-in officers only
	// (Prometheus scrapes the admin socket instead, which needs no sign-in).
	Metrics http.Handler
	Page    PageOptions
	// LockoutFile keeps the sign-in lockouts across restarts (in the state
	// directory); empty keeps them in memory only.
	LockoutFile string
	// HashSlots bounds concurrent PIN checks (argon2id, 64 MiB each);
	// 0 sizes it from memory (DefaultHashSlots).
	HashSlots int
	Logger    *slog.Logger
	Now       func() time.Time
}

// Server is the officer page's HTTP handler.
type Server struct {
	b     Backend
	opt   Options
	mux   *http.ServeMux
	mu    sync.Mutex
	sess  map[string]session
	guard *guard             // wrong-PIN lockouts and the bound on PIN hashing
	tick  map[string]session // one-time sign-in tickets from the sign-in socket
	// shown is what each session was shown (queue.go).
	shown shownSets
}

type session struct {
	officer Officer
	expires time.Time
}

const cookieName = "checkpoint_session"

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
	if opt.HashSlots <= 0 {
		opt.HashSlots = DefaultHashSlots()
	}
	s := &Server{b: b, opt: opt, mux: http.NewServeMux(), sess: map[string]session{}, tick: map[string]session{}}
	var ids []string
	for _, o := range s.accounts().Officers {
		ids = append(ids, o.ID)
	}
	s.guard = newGuard(opt.LockoutFile, opt.HashSlots, ids, opt.Logger, opt.Now())
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
		s.mux.HandleFunc("GET /metrics", s.auth(opt.Metrics.ServeHTTP))
	}
	return s
}

// ServeHTTP implements http.Handler with security headers on every answer.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	// Same-origin requests carry Referer and a real Origin (the sign-in
	// form's POST has no custom header to prove where it came from); other
	// sites learn nothing.
	h.Set("Referrer-Policy", "same-origin")
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
			if strings.HasPrefix(r.URL.Path, "/api/") || r.URL.Path == "/metrics" {
				http.Error(w, "sign in required", http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost && (r.Header.Get("X-Checkpoint") != "1" || !fromOurPage(r)) {
			http.Error(w, "cross-origin request refused", http.StatusForbidden)
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, o)))
	}
}

// fromOurPage reports whether a state-changing request (sign-in, sign-out,
// a verdict) was sent by a page this server served, so another site open in
// the officer's browser cannot sign the desk in as someone else (login
// CSRF), sign it out, or record a verdict. The session cookie is also
// SameSite=Strict, and API calls must carry X-Checkpoint (which a
// cross-site form cannot send).
//
//   - Sec-Fetch-Site, which current browsers send and pages cannot forge,
//     must be same-origin;
//   - otherwise Origin must name this host ("null", sent by sandboxed
//     frames and privacy modes, is refused);
//   - otherwise Referer must be on this host;
//   - a request with none of the three is refused: a browser always sends
//     at least one on a POST, and other clients can set Origin.
func fromOurPage(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		return site == "same-origin"
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		return sameHost(origin, r.Host)
	}
	if ref := r.Header.Get("Referer"); ref != "" {
		return sameHost(ref, r.Host)
	}
	return false
}

// sameHost reports whether u (an origin or URL) is http(s)://host[/…].
func sameHost(u, host string) bool {
	rest, ok := strings.CutPrefix(u, "https://")
	if !ok {
		if rest, ok = strings.CutPrefix(u, "http://"); !ok {
			return false
		}
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	return host != "" && strings.EqualFold(rest, host)
}

// clientAddr is the address accounted for sign-in failures.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	loginTmpl.Execute(w, s.loginView(r))
}

// login checks an officer's PIN. The attempt is reserved (counted as a
// failure, refused if the id or the client is locked, refused with 429 if
// every hashing slot is busy) before the PIN is hashed, so concurrent
// guesses cannot outrun the count; a right PIN refunds it.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if !fromOurPage(r) {
		http.Error(w, "cross-origin sign-in refused", http.StatusForbidden)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	id := strings.TrimSpace(r.PostForm.Get("officer"))
	pin := r.PostForm.Get("pin")
	if len(id) > 256 || len(pin) > 256 {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	acc := s.accounts()
	tk, wait, err := s.guard.reserve(id, acc.has(id), clientAddr(r), s.opt.Now())
	switch {
	case errors.Is(err, ErrBusy):
		w.Header().Set("Retry-After", retryAfter(wait))
		http.Error(w, "too many sign-ins at once: try again in a second", http.StatusTooManyRequests)
		return
	case errors.Is(err, ErrLocked):
		s.opt.Logger.Warn("officer sign-in refused: locked out after wrong PINs")
		w.Header().Set("Retry-After", retryAfter(wait))
		http.Redirect(w, r, "/login?e=locked", http.StatusSeeOther)
		return
	}
	o, err := acc.Check(id, pin)
	s.guard.finish(tk, err == nil, s.opt.Now())
	if err != nil {
		s.opt.Logger.Warn("officer sign-in failed")
		http.Redirect(w, r, "/login?e=bad", http.StatusSeeOther)
		return
	}
	s.startSession(w, r, o, "pin")
}

func retryAfter(d time.Duration) string {
	return strconv.Itoa(max(1, int((d+time.Second-1)/time.Second)))
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
	if !fromOurPage(r) {
		http.Error(w, "cross-origin sign-out refused", http.StatusForbidden)
		return
	}
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
