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
	"time"
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
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, res, fmt.Errorf("audit: %w", err)
	}
	st, err := verify(f)
	if err != nil {
		f.Close()
		return nil, res, err
	}
	res.Entries = st.entries
	if st.tail > 0 {
		if err := f.Truncate(st.good); err != nil {
			f.Close()
			return nil, res, fmt.Errorf("audit: cut incomplete tail: %w", err)
		}
		res.TruncatedTail = st.tail
	}
	if _, err := f.Seek(st.good, io.SeekStart); err != nil {
		f.Close()
		return nil, res, fmt.Errorf("audit: %w", err)
	}
	return &Log{f: f, seq: st.entries, prev: st.last, now: time.Now}, res, nil
}

// Append adds an entry and fsyncs it. It fills Seq, Time, Prev and Hash.
func (l *Log) Append(kind, actor, action string, fields map[string]string) (Entry, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return Entry{}, ErrClosed
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
		return Entry{}, fmt.Errorf("audit: write: %w", err)
	}
	if err := l.f.Sync(); err != nil {
		return Entry{}, fmt.Errorf("audit: sync: %w", err)
	}
	l.seq, l.prev = e.Seq, e.Hash
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

func verify(r io.Reader) (state, error) {
	st := state{last: genesis}
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
