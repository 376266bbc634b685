package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/checkpoint-edge/checkpoint/internal/atomicfile"
)

// Officer is a local account.
type Officer struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	PINHash string `json:"pin_hash"` // $argon2id$v=19$m=…,t=…,p=…$salt$hash
	// OSUser, when set, lets this officer sign in as that OS user of the
	// desk machine through the sign-in socket, without typing the PIN.
	OSUser string `json:"os_user,omitempty"`
	// Lang is the officer's language on the page (one of Languages);
	// empty: the unit's default (config officer.language).
	Lang string `json:"lang,omitempty"`
}

// Accounts is the officer accounts file.
type Accounts struct {
	Officers []Officer `json:"officers"`
}

// argon2id parameters: ~50 ms on the box, so guessing a 6-digit PIN offline
// from a stolen file costs hours per account, and online guessing is also
// rate-limited.
const (
	argonTime    = 3
	argonMemory  = 64 * 1024
	argonThreads = 2
	argonKeyLen  = 32
)

// ErrBadCredentials is returned when an officer id or PIN is wrong.
var ErrBadCredentials = errors.New("web: unknown officer or wrong PIN")

// HashPIN returns the encoded argon2id hash of pin.
func HashPIN(pin string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	h := argon2.IDKey([]byte(pin), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads, enc.EncodeToString(salt), enc.EncodeToString(h))
}

// VerifyPIN checks pin against an encoded hash in constant time.
func VerifyPIN(encoded, pin string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 || m > 1<<21 || t > 16 {
		return false
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[4])
	want, err2 := enc.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 || len(want) > 64 {
		return false
	}
	got := argon2.IDKey([]byte(pin), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// LoadAccounts reads the accounts file. It must not be readable by others.
func LoadAccounts(path string) (*Accounts, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("web: accounts: %w", err)
	}
	if st.Mode().Perm()&0o007 != 0 {
		return nil, fmt.Errorf("web: accounts file %s is readable by other users (mode %v): chmod 0640 or stricter", path, st.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("web: accounts: %w", err)
	}
	var a Accounts
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		return nil, fmt.Errorf("web: accounts %s: %w", path, err)
	}
	seen, seenOS := map[string]bool{}, map[string]bool{}
	for _, o := range a.Officers {
		if o.OSUser != "" {
			if seenOS[o.OSUser] {
				return nil, fmt.Errorf("web: accounts %s: OS user %q belongs to two officers", path, o.OSUser)
			}
			seenOS[o.OSUser] = true
		}
		if o.ID == "" || !strings.HasPrefix(o.PINHash, "$argon2id$") {
			return nil, fmt.Errorf("web: accounts %s: officer %q has no id or no argon2id PIN hash", path, o.ID)
		}
		if o.Lang != "" && !slices.Contains(Languages, o.Lang) {
			return nil, fmt.Errorf("web: accounts %s: officer %q: language %q is not one of %s", path, o.ID, o.Lang, strings.Join(Languages, ", "))
		}
		if seen[o.ID] {
			return nil, fmt.Errorf("web: accounts %s: officer %q listed twice", path, o.ID)
		}
		seen[o.ID] = true
	}
	return &a, nil
}

// Save writes the accounts file atomically with mode 0640.
func (a *Accounts) Save(path string) error {
	b, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(b, '\n'), 0o640)
}

// Set adds or replaces an officer.
func (a *Accounts) Set(id, name, pin string) { a.SetOfficer(id, name, pin, "") }

// SetOfficer adds or replaces an officer who may also sign in as osUser
// (empty: PIN only). Another officer holding osUser loses it.
func (a *Accounts) SetOfficer(id, name, pin, osUser string) {
	o := Officer{ID: id, Name: name, PINHash: HashPIN(pin), OSUser: osUser}
	if osUser != "" {
		for i := range a.Officers {
			if a.Officers[i].OSUser == osUser {
				a.Officers[i].OSUser = ""
			}
		}
	}
	for i := range a.Officers {
		if a.Officers[i].ID == id {
			a.Officers[i] = o
			return
		}
	}
	a.Officers = append(a.Officers, o)
}

// SetLang sets an officer's page language ("" for the unit's default).
func (a *Accounts) SetLang(id, lang string) error {
	if lang != "" && !slices.Contains(Languages, lang) {
		return fmt.Errorf("web: language %q: want one of %s", lang, strings.Join(Languages, ", "))
	}
	for i := range a.Officers {
		if a.Officers[i].ID == id {
			a.Officers[i].Lang = lang
			return nil
		}
	}
	return fmt.Errorf("web: no officer %q", id)
}

// Check verifies an officer's PIN. Unknown officers cost the same time as
// known ones, so ids cannot be probed by timing.
func (a *Accounts) Check(id, pin string) (Officer, error) {
	for _, o := range a.Officers {
		if o.ID == id {
			if VerifyPIN(o.PINHash, pin) {
				return o, nil
			}
			return Officer{}, ErrBadCredentials
		}
	}
	VerifyPIN(dummyHash, pin)
	return Officer{}, ErrBadCredentials
}

var dummyHash = HashPIN("not-a-real-pin")

// ByOSUser returns the officer who signs in as the OS user name.
func (a *Accounts) ByOSUser(name string) (Officer, error) {
	for _, o := range a.Officers {
		if name != "" && o.OSUser == name {
			return o, nil
		}
	}
	return Officer{}, ErrBadCredentials
}

// AccountsFile is the officer accounts file, re-read when it changes, so
// that officers added or removed with checkpointctl count from the next
// request without restarting the daemon. A file that no longer loads keeps
// the last good accounts in force and is reported.
type AccountsFile struct {
	path string
	log  *slog.Logger

	mu   sync.Mutex
	cur  *Accounts
	seen fileStamp
}

type fileStamp struct {
	mod  time.Time
	size int64
	ino  uint64
}

func stampOf(st os.FileInfo) fileStamp {
	s := fileStamp{mod: st.ModTime(), size: st.Size()}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		s.ino = sys.Ino // atomic rewrites replace the inode
	}
	return s
}

// OpenAccountsFile loads path; it must load now (a daemon does not start
// with an unreadable accounts file).
func OpenAccountsFile(path string, log *slog.Logger) (*AccountsFile, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("web: accounts: %w", err)
	}
	a, err := LoadAccounts(path)
	if err != nil {
		return nil, err
	}
	return &AccountsFile{path: path, log: log, cur: a, seen: stampOf(st)}, nil
}

// Get returns the current accounts, re-reading the file if it changed.
func (f *AccountsFile) Get() *Accounts {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, err := os.Stat(f.path)
	if err != nil {
		f.log.Error("officer accounts file unreadable; keeping the accounts loaded before", "err", err)
		return f.cur
	}
	stamp := stampOf(st)
	if stamp == f.seen {
		return f.cur
	}
	f.seen = stamp
	a, err := LoadAccounts(f.path)
	if err != nil {
		f.log.Error("officer accounts file changed but does not load; keeping the accounts loaded before", "err", err)
		return f.cur
	}
	f.cur = a
	f.log.Info("officer accounts reloaded", "officers", len(a.Officers))
	return a
}

// has reports whether id is still an officer.
func (a *Accounts) has(id string) bool {
	for _, o := range a.Officers {
		if o.ID == id {
			return true
		}
	}
	return false
}
