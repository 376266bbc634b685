package web

import (
	"container/list"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/checkpoint-edge/checkpoint/internal/atomicfile"
)

// Sign-in limits. They are documented in the README (Security defaults);
// change both together.
const (
	// MaxFailures wrong PINs for one officer id lock that id for Lockout.
	MaxFailures = 5
	// MaxClientFailures wrong PINs from one client address, whatever the
	// ids tried, lock that client for Lockout: spraying many ids from one
	// place is as limited as guessing one.
	MaxClientFailures = 20
	// Lockout is how long a locked id or client is refused.
	Lockout = time.Minute
	// FailureWindow: failures this old (after the last one) are
	// forgotten, so a typo in the morning and two in the afternoon do not
	// add up.
	FailureWindow = 15 * time.Minute
	// maxTracked bounds the accounting of unknown officer ids and of
	// client addresses (least recently used entries go first). Officer ids
	// that exist are never evicted, so flooding unknown ids cannot reset a
	// real officer's count.
	maxTracked = 1024
)

// ErrLocked is returned when an officer id or a client address is locked
// out after too many wrong PINs.
var ErrLocked = errors.New("web: too many wrong PINs: locked out")

// ErrBusy is returned when every PIN-hashing slot is in use: the attempt is
// refused at once (429) rather than queued, so a flood of sign-ins cannot
// hold memory (each argon2id computation takes 64 MiB).
var ErrBusy = errors.New("web: too many sign-ins at once")

// attempts is the accounting of one officer id or one client address.
// An attempt is counted as a failure when it is reserved, before the PIN is
// hashed, and refunded if the PIN was right: so concurrent attempts cannot
// all pass the check before any of them is counted, and a crash while
// hashing counts as a failure.
type attempts struct {
	Fails   int       `json:"fails"`
	Last    time.Time `json:"last"`
	Until   time.Time `json:"until,omitzero"` // locked until
	pending int       // attempts reserved and not finished (not persisted)
}

// settle forgets a lock that ended and failures past the window.
func (a *attempts) settle(now time.Time) {
	if !a.Until.IsZero() && !now.Before(a.Until) {
		a.Fails, a.Until = a.pending, time.Time{}
	}
	if a.Until.IsZero() && a.pending == 0 && now.Sub(a.Last) > FailureWindow {
		a.Fails = 0
	}
}

func (a *attempts) locked(now time.Time, limit int) (bool, time.Duration) {
	if now.Before(a.Until) {
		return true, a.Until.Sub(now)
	}
	if a.Fails >= limit { // the budget is held by attempts still hashing
		return true, Lockout
	}
	return false, 0
}

func (a *attempts) idle(now time.Time) bool {
	return a.pending == 0 && !now.Before(a.Until) && (a.Fails == 0 || now.Sub(a.Last) > FailureWindow)
}

// lru is a bounded map of attempts, least recently used first out; entries
// with attempts in flight are not evicted.
type lru struct {
	max int
	ll  *list.List // of *lruEntry, front = most recent
	m   map[key]*list.Element
}

type lruEntry struct {
	k key
	a *attempts
}

func newLRU(max int) *lru { return &lru{max: max, ll: list.New(), m: map[key]*list.Element{}} }

func (l *lru) get(k key) *attempts {
	if e, ok := l.m[k]; ok {
		l.ll.MoveToFront(e)
		return e.Value.(*lruEntry).a
	}
	a := &attempts{}
	l.m[k] = l.ll.PushFront(&lruEntry{k, a})
	for e := l.ll.Back(); l.ll.Len() > l.max && e != nil; {
		prev := e.Prev()
		if le := e.Value.(*lruEntry); le.a.pending == 0 {
			l.ll.Remove(e)
			delete(l.m, le.k)
		}
		e = prev
	}
	return a
}

func (l *lru) peek(k key) *attempts {
	if e, ok := l.m[k]; ok {
		return e.Value.(*lruEntry).a
	}
	return nil
}

func (l *lru) remove(k key) {
	if e, ok := l.m[k]; ok {
		l.ll.Remove(e)
		delete(l.m, k)
	}
}

// key is a keyed hash of an officer id or client address: the lockout file
// names neither (the key is random per file).
type key [16]byte

// guard does the sign-in accounting: lockout per officer id and per client
// address, persisted in the state directory, and a bound on concurrent PIN
// hashing.
type guard struct {
	path  string // "" = memory only
	log   *slog.Logger
	slots chan struct{}

	mu      sync.Mutex
	salt    [32]byte
	known   map[key]*attempts // officer ids that exist
	unknown *lru              // officer ids that do not
	clients *lru
	version uint64 // bumped on every change worth saving

	saveMu sync.Mutex
	saved  uint64
}

// newGuard loads the lockouts saved at path; officers are the ids that
// exist now (their records are never evicted).
func newGuard(path string, slots int, officers []string, log *slog.Logger, now time.Time) *guard {
	g := &guard{path: path, log: log, slots: make(chan struct{}, slots),
		known: map[key]*attempts{}, unknown: newLRU(maxTracked), clients: newLRU(maxTracked)}
	if err := g.load(officers, now); err != nil {
		// Refusing to start the page would lock every officer out; a
		// fresh file still limits guessing from now on.
		log.Error("sign-in lockout file unreadable: starting with no lockouts", "err", err)
		rand.Read(g.salt[:])
	}
	return g
}

func (g *guard) key(kind, s string) key {
	m := hmac.New(sha256.New, g.salt[:])
	m.Write([]byte(kind + "\x00" + s))
	var k key
	copy(k[:], m.Sum(nil))
	return k
}

// idAttempts returns the record of an officer id; known says whether the
// officer exists. A record kept while the id was unknown moves over.
func (g *guard) idAttempts(id string, known bool) *attempts {
	k := g.key("id", id)
	if a, ok := g.known[k]; ok {
		return a
	}
	if !known {
		return g.unknown.get(k)
	}
	a := g.unknown.peek(k)
	if a == nil {
		a = &attempts{}
	}
	g.unknown.remove(k)
	g.known[k] = a
	return a
}

// ticket is a reserved attempt.
type ticket struct {
	id, client *attempts
}

// reserve checks that neither the id nor the client is locked, takes a
// hashing slot and counts the attempt as a failure until finish says
// otherwise. It returns ErrLocked or ErrBusy with how long to wait.
func (g *guard) reserve(id string, known bool, client string, now time.Time) (ticket, time.Duration, error) {
	g.mu.Lock()
	ia, ca := g.idAttempts(id, known), g.clients.get(g.key("client", client))
	ia.settle(now)
	ca.settle(now)
	if l, d := ia.locked(now, MaxFailures); l {
		g.mu.Unlock()
		return ticket{}, d, ErrLocked
	}
	if l, d := ca.locked(now, MaxClientFailures); l {
		g.mu.Unlock()
		return ticket{}, d, ErrLocked
	}
	select {
	case g.slots <- struct{}{}:
	default:
		g.mu.Unlock()
		return ticket{}, time.Second, ErrBusy
	}
	for _, a := range []*attempts{ia, ca} {
		a.Fails++
		a.pending++
		a.Last = now
	}
	g.version++
	g.mu.Unlock()
	g.save(now)
	return ticket{ia, ca}, 0, nil
}

// finish releases the hashing slot and settles the attempt: a right PIN
// clears the id's failures and refunds the client's; a wrong one stays
// counted and may start a lockout.
func (g *guard) finish(t ticket, ok bool, now time.Time) {
	<-g.slots
	g.mu.Lock()
	t.id.pending--
	t.client.pending--
	if ok {
		t.id.Fails, t.id.Until = t.id.pending, time.Time{}
		t.client.Fails--
	} else {
		if t.id.Fails >= MaxFailures && t.id.Until.IsZero() {
			t.id.Until = now.Add(Lockout)
		}
		if t.client.Fails >= MaxClientFailures && t.client.Until.IsZero() {
			t.client.Until = now.Add(Lockout)
		}
	}
	g.version++
	g.mu.Unlock()
	g.save(now)
}

// check reports whether an id or client is locked, for sign-ins that do
// not hash a PIN (the OS-user sign-in): they must not get round a lockout.
func (g *guard) check(id string, known bool, client string, now time.Time) (time.Duration, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	ia := g.idAttempts(id, known)
	ia.settle(now)
	if l, d := ia.locked(now, MaxFailures); l {
		return d, ErrLocked
	}
	if client != "" {
		ca := g.clients.get(g.key("client", client))
		ca.settle(now)
		if l, d := ca.locked(now, MaxClientFailures); l {
			return d, ErrLocked
		}
	}
	return 0, nil
}

// lockoutFile is the on-disk form: keyed hashes, counts and times only.
type lockoutFile struct {
	Version int                  `json:"version"`
	Salt    string               `json:"salt"`
	IDs     map[string]*attempts `json:"ids"`
	Clients map[string]*attempts `json:"clients"`
}

func (g *guard) load(officers []string, now time.Time) error {
	rand.Read(g.salt[:])
	if g.path == "" {
		return nil
	}
	b, err := os.ReadFile(g.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var f lockoutFile
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("%s: %w", g.path, err)
	}
	salt, err := hex.DecodeString(f.Salt)
	if err != nil || len(salt) != len(g.salt) || f.Version != 1 {
		return fmt.Errorf("%s: bad salt or version", g.path)
	}
	copy(g.salt[:], salt)
	parse := func(s string) (key, bool) {
		var k key
		b, err := hex.DecodeString(s)
		if err != nil || len(b) != len(k) {
			return k, false
		}
		copy(k[:], b)
		return k, true
	}
	known := map[key]bool{}
	for _, id := range officers {
		known[g.key("id", id)] = true
	}
	for s, a := range f.IDs {
		k, ok := parse(s)
		if !ok || a == nil || a.idle(now) {
			continue
		}
		r := &attempts{Fails: a.Fails, Last: a.Last, Until: a.Until}
		if known[k] {
			g.known[k] = r
		} else {
			*g.unknown.get(k) = *r
		}
	}
	for s, a := range f.Clients {
		if k, ok := parse(s); ok && a != nil && !a.idle(now) {
			*g.clients.get(k) = attempts{Fails: a.Fails, Last: a.Last, Until: a.Until}
		}
	}
	return nil
}

// save writes the accounting if it changed since the last write.
// Concurrent callers coalesce: whoever holds saveMu writes the newest state.
func (g *guard) save(now time.Time) {
	if g.path == "" {
		return
	}
	g.saveMu.Lock()
	defer g.saveMu.Unlock()
	g.mu.Lock()
	if g.version == g.saved {
		g.mu.Unlock()
		return
	}
	v := g.version
	f := lockoutFile{Version: 1, Salt: hex.EncodeToString(g.salt[:]), IDs: map[string]*attempts{}, Clients: map[string]*attempts{}}
	add := func(m map[string]*attempts, k key, a *attempts) {
		if !a.idle(now) {
			c := *a
			m[hex.EncodeToString(k[:])] = &c
		}
	}
	for k, a := range g.known {
		add(f.IDs, k, a)
	}
	for e := g.unknown.ll.Front(); e != nil; e = e.Next() {
		le := e.Value.(*lruEntry)
		add(f.IDs, le.k, le.a)
	}
	for e := g.clients.ll.Front(); e != nil; e = e.Next() {
		le := e.Value.(*lruEntry)
		add(f.Clients, le.k, le.a)
	}
	g.mu.Unlock()
	b, err := json.Marshal(f)
	if err == nil {
		err = atomicfile.WriteFile(g.path, b, 0o600)
	}
	if err != nil {
		// The lockout still holds in memory; only a restart would forget it.
		g.log.Error("sign-in lockout file not saved", "err", err)
		return
	}
	g.saved = v
}
