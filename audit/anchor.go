package audit

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/checkpoint-edge/checkpoint/internal/atomicfile"
)

// GenesisHash is the "previous hash" of the first entry: the head of an
// empty log is Head{0, GenesisHash}.
const GenesisHash = genesis

// Head is a position in the chain: the number of entries and the hash of
// the last one.
type Head struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
}

// IsZero reports whether h is the head of an empty log (or unset).
func (h Head) IsZero() bool { return h.Seq == 0 }

func (h Head) normal() Head {
	if h.Seq == 0 {
		h.Hash = genesis
	}
	return h
}

// Limits on an anchor's proof, so that a unit with a long unanchored log
// catches up over several uploads instead of sending one huge request.
const (
	MaxAnchorEntries = 1000
	MaxAnchorBytes   = 1 << 20
)

// AnchorFormat is the domain separator of the signed head.
const AnchorFormat = "checkpoint-audit-head/1"

// Anchor is what a unit sends with every upload so that headquarters can
// check that its audit chain only ever grows (hub/README.md, "Audit
// anchoring"). Head is the unit's current head, signed with the unit's key;
// Entries are the complete entries that follow Base (the head the unit
// believes headquarters holds), in order, at most MaxAnchorEntries: they
// let headquarters recompute the chain from its own anchored head to the
// new one without trusting anything the unit says about it.
type Anchor struct {
	Head    Head              `json:"head"`
	Time    time.Time         `json:"time"`
	Base    Head              `json:"base"`
	Entries []json.RawMessage `json:"entries,omitempty"`
	Sig     []byte            `json:"sig"`
}

// SignedBytes is the message the unit signs: the format, the unit id, the
// head and the time, one per line.
func (a *Anchor) SignedBytes(unit string) []byte {
	var b bytes.Buffer
	b.WriteString(AnchorFormat + "\n")
	b.WriteString(unit + "\n")
	b.WriteString(strconv.FormatUint(a.Head.Seq, 10) + "\n")
	b.WriteString(a.Head.Hash + "\n")
	b.WriteString(a.Time.UTC().Format(time.RFC3339Nano) + "\n")
	return b.Bytes()
}

// Sign signs the anchor for unit with key (ECDSA or Ed25519: the unit's TLS
// key, or a dedicated one).
func (a *Anchor) Sign(unit string, key crypto.Signer) error {
	sum := sha256.Sum256(a.SignedBytes(unit))
	var err error
	if _, ok := key.Public().(ed25519.PublicKey); ok {
		a.Sig, err = key.Sign(rand.Reader, a.SignedBytes(unit), crypto.Hash(0))
	} else {
		a.Sig, err = key.Sign(rand.Reader, sum[:], crypto.SHA256)
	}
	if err != nil {
		return fmt.Errorf("audit: sign head: %w", err)
	}
	return nil
}

// VerifySig checks the anchor's signature with the unit's public key.
func (a *Anchor) VerifySig(unit string, pub crypto.PublicKey) bool {
	switch p := pub.(type) {
	case *ecdsa.PublicKey:
		sum := sha256.Sum256(a.SignedBytes(unit))
		return ecdsa.VerifyASN1(p, sum[:], a.Sig)
	case ed25519.PublicKey:
		return ed25519.Verify(p, a.SignedBytes(unit), a.Sig)
	}
	return false
}

// Segment is a run of consecutive entries whose hashes and links were
// recomputed: entry From links to Prev, and Hashes[i] is the hash of entry
// From+i.
type Segment struct {
	From   uint64
	Prev   string
	Hashes []string
}

// End is the head after the segment (Head{From-1, Prev} when empty).
func (s Segment) End() Head {
	if len(s.Hashes) == 0 {
		return Head{Seq: s.From - 1, Hash: s.Prev}
	}
	return Head{Seq: s.From + uint64(len(s.Hashes)) - 1, Hash: s.Hashes[len(s.Hashes)-1]}
}

// HashAt returns the hash of entry seq, and whether the segment holds it
// (seq From-1 is the segment's Prev).
func (s Segment) HashAt(seq uint64) (string, bool) {
	switch {
	case seq+1 == s.From:
		return s.Prev, true
	case seq >= s.From && seq < s.From+uint64(len(s.Hashes)):
		return s.Hashes[seq-s.From], true
	}
	return "", false
}

// CheckSegment parses entries and checks that each is well formed, that
// its hash is right and that each links to the one before and carries the
// next sequence number. It does not say where the segment attaches: the
// caller compares From/Prev with what it knows.
func CheckSegment(entries []json.RawMessage) (Segment, error) {
	var s Segment
	for i, raw := range entries {
		var e Entry
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return s, fmt.Errorf("%w: proof entry %d: %v", ErrBadProof, i, err)
		}
		h, err := hashOf(e)
		if err != nil || h != e.Hash {
			return s, fmt.Errorf("%w: proof entry %d (seq %d): hash mismatch", ErrBadProof, i, e.Seq)
		}
		if i == 0 {
			if e.Seq == 0 {
				return s, fmt.Errorf("%w: proof entry with sequence 0", ErrBadProof)
			}
			s.From, s.Prev = e.Seq, e.Prev
		} else if e.Seq != s.From+uint64(i) || e.Prev != s.Hashes[i-1] {
			return s, fmt.Errorf("%w: proof entry %d (seq %d) does not follow the one before", ErrBadProof, i, e.Seq)
		}
		s.Hashes = append(s.Hashes, e.Hash)
	}
	return s, nil
}

// Proof returns the log's head and up to maxEntries complete entries (and
// about maxBytes, at least one) following entry after, as they are in the
// file: what an Anchor carries. If the log holds fewer than after entries,
// entries is empty and head shows how many it holds.
func (l *Log) Proof(after uint64, maxEntries, maxBytes int) (Head, []json.RawMessage, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return Head{}, nil, ErrClosed
	}
	if err := l.lock(); err != nil {
		return Head{}, nil, err
	}
	defer l.unlock()
	seq, prev, end := l.seq, l.prev, l.off
	if _, err := l.catchUp(); err == nil {
		seq, prev, end = l.seq, l.prev, l.off
	} else if errors.Is(err, ErrBroken) {
		// The file changed under us (cut or rewritten: appends now fail).
		// Report what it holds now, as a restart would see it, so that
		// headquarters learns at once that it no longer extends the head
		// it anchored.
		if _, err := l.f.Seek(0, io.SeekStart); err != nil {
			return Head{}, nil, fmt.Errorf("audit: %w", err)
		}
		st, verr := verify(l.f)
		if verr != nil {
			return Head{}, nil, verr
		}
		seq, prev, end = st.entries, st.last, st.good
		l.proofAt.seq, l.proofAt.off = 0, 0
	} else {
		return Head{}, nil, err
	}
	head := Head{Seq: seq, Hash: prev}
	if after >= seq || maxEntries <= 0 {
		return head, nil, nil
	}
	// Resume from where the last proof ended when possible: anchoring
	// moves forward, so the log is not rescanned from the start each time.
	start, n := int64(0), uint64(0)
	if l.proofAt.seq <= after && l.proofAt.off <= end {
		start, n = l.proofAt.off, l.proofAt.seq
	}
	br := bufio.NewReaderSize(io.NewSectionReader(l.f, start, end-start), 64<<10)
	var out []json.RawMessage
	size := 0
	off := start
	for n < seq {
		line, err := br.ReadBytes('\n')
		if err != nil {
			return head, nil, fmt.Errorf("audit: read for proof: %w", err)
		}
		n++
		if n == after {
			l.proofAt.seq, l.proofAt.off = n, off+int64(len(line))
		}
		off += int64(len(line))
		if n <= after {
			continue
		}
		if len(out) > 0 && (len(out) >= maxEntries || size+len(line) > maxBytes) {
			break
		}
		out = append(out, json.RawMessage(bytes.TrimSuffix(line, []byte("\n"))))
		size += len(line)
	}
	return head, out, nil
}

// Ack is headquarters' answer to an Anchor.
type Ack struct {
	// Status is one of the Anchor* constants.
	Status string `json:"status"`
	// Head is the head headquarters holds for the unit after this upload:
	// the newest one it could verify as an extension of the one before.
	Head   Head   `json:"head"`
	Detail string `json:"detail,omitempty"`
}

// Anchor statuses.
const (
	// AnchorOK: the chain extends the anchored head; Head is the new anchor.
	AnchorOK = "ok"
	// AnchorResync: the unit's base is not headquarters' head; send entries
	// after Head next time. Nothing is judged.
	AnchorResync = "resync"
	// AnchorTruncated: the unit reports fewer entries than were anchored.
	AnchorTruncated = "truncated"
	// AnchorForked: the unit's chain does not pass through the anchored
	// head (entries rewritten).
	AnchorForked = "forked"
	// AnchorInvalid: bad signature or a proof that does not check.
	AnchorInvalid = "invalid"
)

// Acknowledged is the last head headquarters acknowledged, as the unit
// keeps it next to its log (AckPath) for `checkpointctl audit verify
// --against-hq`.
type Acknowledged struct {
	Unit   string    `json:"unit"`
	Head   Head      `json:"head"`
	Status string    `json:"status"`
	At     time.Time `json:"at"`
}

// AckPath is where the acknowledged head of the log at logPath is kept.
func AckPath(logPath string) string { return logPath + ".hq" }

// SaveAck writes the acknowledged head atomically (0600).
func SaveAck(path string, a Acknowledged) error {
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("audit: save acknowledged head: %w", err)
	}
	return nil
}

// LoadAck reads an acknowledged head; a missing file is fs.ErrNotExist.
func LoadAck(path string) (Acknowledged, error) {
	var a Acknowledged
	b, err := os.ReadFile(path)
	if err != nil {
		return a, fmt.Errorf("audit: %w", err)
	}
	if err := json.Unmarshal(b, &a); err != nil {
		return a, fmt.Errorf("audit: %s: %w", path, err)
	}
	return a, nil
}

// VerifyAgainst verifies the log at path (as Verify) and checks that it
// passes through h, the head headquarters acknowledged: ErrTruncated when
// the log is shorter, ErrRewritten when its entry h.Seq has another hash.
func VerifyAgainst(path string, h Head) (Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return Report{}, fmt.Errorf("audit: %w", err)
	}
	defer f.Close()
	want := h.normal()
	var at string
	if want.Seq == 0 {
		at = genesis
	}
	st, err := verifyWatch(f, state{last: genesis}, func(seq uint64, hash string) {
		if seq == want.Seq {
			at = hash
		}
	})
	rep := Report{Entries: st.entries, Head: st.last, Incomplete: st.tail > 0}
	if err != nil {
		return rep, err
	}
	switch {
	case st.entries < want.Seq:
		return rep, fmt.Errorf("%w: headquarters acknowledged %d entries, the log holds %d", ErrTruncated, want.Seq, st.entries)
	case at != want.Hash:
		return rep, fmt.Errorf("%w: entry %d is not the one headquarters acknowledged", ErrRewritten, want.Seq)
	}
	return rep, nil
}
