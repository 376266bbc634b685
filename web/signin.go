package web

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os/user"
	"strconv"
	"syscall"
	"time"

	"github.com/checkpoint-edge/checkpoint/internal/unixsock"
)

// Signing in as the OS user: the desk's kiosk session (or the officer at a
// terminal) runs `checkpointctl officer signin`, which asks the daemon over
// a Unix socket. The kernel tells the daemon which OS user is asking
// (SO_PEERCRED), so the officer mapped to that user gets a one-time
// ticket URL, good for TicketTTL, that opens a session in the browser. No
// PIN crosses the keyboard, and nobody else on the network can ask.

// TicketTTL is how long a sign-in ticket may wait to be opened.
const TicketTTL = time.Minute

// maxTickets bounds the sign-in links waiting to be opened.
const maxTickets = 64

type peerKey struct{}

// PeerContext is an http.Server ConnContext for the sign-in socket: it
// records the connecting process's credentials.
func PeerContext(ctx context.Context, c net.Conn) context.Context {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return ctx
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return ctx
	}
	var cred *syscall.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil || cerr != nil {
		return ctx
	}
	return context.WithValue(ctx, peerKey{}, *cred)
}

// SignInTicket is the sign-in socket's answer.
type SignInTicket struct {
	Officer string    `json:"officer"`
	URL     string    `json:"url"`
	Expires time.Time `json:"expires"`
}

// SignInHandler answers POST /v1/signin on the sign-in socket (use
// PeerContext as the server's ConnContext). pageURL is where browsers reach
// the officer page, e.g. http://127.0.0.1:8080.
func (s *Server) SignInHandler(pageURL string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/signin", func(w http.ResponseWriter, r *http.Request) {
		cred, ok := r.Context().Value(peerKey{}).(syscall.Ucred)
		if !ok {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "no peer credentials: use the Unix socket"})
			return
		}
		name, err := osUserName(cred.Uid)
		if err != nil {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": err.Error()})
			return
		}
		o, err := s.accounts().ByOSUser(name)
		if err != nil {
			s.opt.Logger.Warn("OS-user sign-in refused: no officer for this user", "uid", cred.Uid)
			writeJSON(w, http.StatusForbidden, map[string]string{"error": fmt.Sprintf("OS user %q is not an officer (checkpointctl officer add --os-user)", name)})
			return
		}
		now := s.opt.Now()
		// No PIN is tried here, but an officer id locked after wrong PINs
		// stays locked on every path in.
		if wait, err := s.guard.check(o.ID, true, "", now); err != nil {
			s.opt.Logger.Warn("OS-user sign-in refused: officer locked out after wrong PINs", "uid", cred.Uid)
			w.Header().Set("Retry-After", retryAfter(wait))
			writeJSON(w, http.StatusTooManyRequests, map[string]string{"error": "officer " + o.ID + " is locked out after wrong PINs: try again in " + retryAfter(wait) + " s"})
			return
		}
		t, exp := newToken(), now.Add(TicketTTL)
		s.mu.Lock()
		for k, v := range s.tick {
			if now.After(v.expires) {
				delete(s.tick, k)
			}
		}
		full := len(s.tick) >= maxTickets
		if !full {
			s.tick[t] = session{officer: o, expires: exp}
		}
		s.mu.Unlock()
		if full {
			w.Header().Set("Retry-After", retryAfter(TicketTTL))
			writeJSON(w, http.StatusTooManyRequests, map[string]string{"error": "too many sign-in links waiting to be opened"})
			return
		}
		writeJSON(w, http.StatusOK, SignInTicket{Officer: o.ID, URL: pageURL + "/login/ticket?t=" + t, Expires: exp})
	})
	return mux
}

func osUserName(uid uint32) (string, error) {
	u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10))
	if err != nil {
		return "", fmt.Errorf("OS user %d: %w", uid, err)
	}
	return u.Username, nil
}

// redeemTicket turns a one-time ticket into a session. The link is opened
// by the desk's own browser (typed, or chromium --app): a link followed
// from another site (Sec-Fetch-Site cross-site or same-site) is refused
// and the ticket is kept, so a page cannot sign the desk in with someone
// else's ticket.
func (s *Server) redeemTicket(w http.ResponseWriter, r *http.Request) {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "none" && site != "same-origin" {
		http.Error(w, "sign-in link followed from another site: open it directly", http.StatusForbidden)
		return
	}
	t := r.URL.Query().Get("t")
	s.mu.Lock()
	tk, ok := s.tick[t]
	delete(s.tick, t) // once, whatever happens
	now := s.opt.Now()
	for k, v := range s.tick {
		if now.After(v.expires) {
			delete(s.tick, k)
		}
	}
	s.mu.Unlock()
	if !ok || now.After(tk.expires) {
		http.Redirect(w, r, "/login?e=ticket", http.StatusSeeOther)
		return
	}
	if wait, err := s.guard.check(tk.officer.ID, true, clientAddr(r), now); err != nil {
		s.opt.Logger.Warn("OS-user sign-in refused: locked out after wrong PINs")
		w.Header().Set("Retry-After", retryAfter(wait))
		http.Redirect(w, r, "/login?e=locked", http.StatusSeeOther)
		return
	}
	s.startSession(w, r, tk.officer, "os_user")
}

// ListenSignIn opens the sign-in socket at path. Any local user may connect
// (mode 0666); who they are is what the kernel reports, and the directory
// decides who reaches it at all (/run/checkpoint is 0750, group checkpoint).
func ListenSignIn(path string) (net.Listener, error) {
	l, err := unixsock.Listen(path, 0o666)
	if err != nil {
		return nil, fmt.Errorf("sign-in socket: %w", err)
	}
	return l, nil
}
