package audit

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/checkpoint-edge/checkpoint/internal/atomicfile"
)

// Kinds of entries.
const (
	KindOfficerDecision = "officer_decision"
	KindWatchlistChange = "watchlist_change"
	KindKeyOperation    = "key_operation"
	KindConfigChange    = "config_change"
	KindSystem          = "system"
)

// genesis is the "previous hash" of the first entry.
const genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// maxLine bounds one entry so a corrupt file cannot exhaust memory.
const maxLine = 1 << 20

// Entry is one audit record.
type Entry struct {
	Seq    uint64            `json:"seq"`
	Time   time.Time         `json:"time"`
	Kind   string            `json:"kind"`
	Actor  string            `json:"actor"` // officer id, "technician", "system", …
	Action string            `json:"action"`
	Fields map[string]string `json:"fields,omitempty"` // references only: no personal data
	Prev   string            `json:"prev"`
	Hash   string            `json:"hash"`
}

// hashOf is SHA-256 over the entry's JSON with Hash empty. encoding/json
// sorts map keys, so the encoding is canonical.
func hashOf(e Entry) (string, error) {
	e.Hash = ""
	b, err := json.Marshal(e)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// Log is an open audit log file.
type Log struct {
	mu   sync.Mutex
	f    *os.File
	seq  uint64
	prev string
	off  int64 // end of the chain as this Log last saw it
	now  func() time.Time
}

// OpenResult tells what Open found.
type OpenResult struct {
	Entries       uint64
	TruncatedTail int64 // bytes of an incomplete last line removed (a crash mid-write)
}

// Open opens or creates the log at path (mode 0600), verifies the whole
// chain and positions for appending. An incomplete last line, left by a
// crash in the middle of a write, is cut off and reported; any other damage
// is ErrBroken and the file is left untouched for investigation.
func Open(path string) (*Log, OpenResult, error) {
	var res OpenResult
	durable := atomicfile.SyncDirIfCreated(path)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, res, fmt.Errorf("audit: %w", err)
	}
	if err := durable(); err != nil { // a new log's name survives a power cut
		f.Close()
		return nil, res, fmt.Errorf("audit: %w", err)
	}
	l := &Log{f: f, prev: genesis, now: time.Now}
	if err := l.lock(); err != nil {
		f.Close()
		return nil, res, err
	}
	defer l.unlock()
	cut, err := l.catchUp()
	if err != nil {
		f.Close()
		return nil, res, err
	}
	res.Entries, res.TruncatedTail = l.seq, cut
	return l, res, nil
}

// The daemon and checkpointctl (key rotation, account changes) append to
// the same file. An exclusive flock around every append, and reading what
// the other writer added since, keeps one unbroken chain.
func (l *Log) lock() error {
	for {
		err := syscall.Flock(int(l.f.Fd()), syscall.LOCK_EX)
		if err == nil {
			return nil
		}
		if !errors.Is(err, syscall.EINTR) {
			return fmt.Errorf("audit: lock: %w", err)
		}
	}
}

func (l *Log) unlock() { syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN) }

// catchUp verifies whatever follows l.off, adopts it as the new head, cuts
// an incomplete last line (a writer killed mid-write) and positions for
// appending. The lock must be held.
func (l *Log) catchUp() (cut int64, err error) {
	fi, err := l.f.Stat()
	if err != nil {
		return 0, fmt.Errorf("audit: %w", err)
	}
	if fi.Size() < l.off {
		return 0, fmt.Errorf("%w: file shrank from %d to %d bytes", ErrBroken, l.off, fi.Size())
	}
	if fi.Size() > l.off {
		if _, err := l.f.Seek(l.off, io.SeekStart); err != nil {
			return 0, fmt.Errorf("audit: %w", err)
		}
		st, err := verifyFrom(l.f, state{entries: l.seq, last: l.prev, good: l.off})
		if err != nil {
			return 0, err
		}
		if st.tail > 0 {
			if err := l.f.Truncate(st.good); err != nil {
				return 0, fmt.Errorf("audit: cut incomplete tail: %w", err)
			}
			cut = st.tail
		}
		l.seq, l.prev, l.off = st.entries, st.last, st.good
	}
	if _, err := l.f.Seek(l.off, io.SeekStart); err != nil {
		return 0, fmt.Errorf("audit: %w", err)
	}
	return cut, nil
}

// Append adds an entry and fsyncs it. It fills Seq, Time, Prev and Hash.
func (l *Log) Append(kind, actor, action string, fields map[string]string) (Entry, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return Entry{}, ErrClosed
	}
	if err := l.lock(); err != nil {
		return Entry{}, err
	}
	defer l.unlock()
	if _, err := l.catchUp(); err != nil {
		return Entry{}, err
	}
	e := Entry{Seq: l.seq + 1, Time: l.now().UTC(), Kind: kind, Actor: actor, Action: action, Fields: fields, Prev: l.prev}
	h, err := hashOf(e)
	if err != nil {
		return Entry{}, fmt.Errorf("audit: %w", err)
	}
	e.Hash = h
	b, err := json.Marshal(e)
	if err != nil {
		return Entry{}, fmt.Errorf("audit: %w", err)
	}
	b = append(b, '\n')
	if _, err := l.f.Write(b); err != nil {
		// A short write (disk full) leaves a partial line; the next
		// catchUp cuts it, so the chain stays intact.
		return Entry{}, fmt.Errorf("audit: write: %w", err)
	}
	if err := l.f.Sync(); err != nil {
		return Entry{}, fmt.Errorf("audit: sync: %w", err)
	}
	l.seq, l.prev, l.off = e.Seq, e.Hash, l.off+int64(len(b))
	return e, nil
}

// Head returns the number of entries and the hash of the last one, which
// can be sent to headquarters as an anchor.
func (l *Log) Head() (uint64, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.seq, l.prev
}

// Close closes the file; it is safe to call more than once.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

// Report is the outcome of Verify.
type Report struct {
	Entries    uint64 `json:"entries"`
	Head       string `json:"head"`
	Incomplete bool   `json:"incomplete_tail"` // last line cut by a crash
}

// Verify checks the chain of the log at path without changing it.
func Verify(path string) (Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return Report{}, fmt.Errorf("audit: %w", err)
	}
	defer f.Close()
	st, err := verify(f)
	if err != nil {
		return Report{Entries: st.entries, Head: st.last}, err
	}
	return Report{Entries: st.entries, Head: st.last, Incomplete: st.tail > 0}, nil
}

type state struct {
	entries uint64
	last    string
	good    int64 // offset after the last good entry
	tail    int64 // bytes of an unterminated last line
}

func verify(r io.Reader) (state, error) { return verifyFrom(r, state{last: genesis}) }

// verifyFrom continues verifying at st, r positioned at st.good.
func verifyFrom(r io.Reader, st state) (state, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// Long lines: gather them, bounded.
			buf := append([]byte(nil), line...)
			for errors.Is(err, bufio.ErrBufferFull) && len(buf) <= maxLine {
				line, err = br.ReadSlice('\n')
				buf = append(buf, line...)
			}
			if len(buf) > maxLine {
				return st, fmt.Errorf("%w: entry %d: line longer than %d bytes", ErrBroken, st.entries+1, maxLine)
			}
			line = buf
		}
		if errors.Is(err, io.EOF) {
			st.tail = int64(len(line))
			return st, nil
		}
		if err != nil {
			return st, fmt.Errorf("audit: read: %w", err)
		}
		var e Entry
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return st, fmt.Errorf("%w: entry %d: %v", ErrBroken, st.entries+1, err)
		}
		if e.Seq != st.entries+1 {
			return st, fmt.Errorf("%w: entry %d has sequence %d", ErrBroken, st.entries+1, e.Seq)
		}
		if e.Prev != st.last {
			return st, fmt.Errorf("%w: entry %d does not link to entry %d", ErrBroken, e.Seq, st.entries)
		}
		h, err := hashOf(e)
		if err != nil || h != e.Hash {
			return st, fmt.Errorf("%w: entry %d hash mismatch (edited)", ErrBroken, e.Seq)
		}
		st.entries, st.last = e.Seq, e.Hash
		st.good += int64(len(line))
	}
}
