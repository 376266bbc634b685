package hub

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/audit"
)

// chain is an audit log's entries and heads, from a real log file.
type chain struct {
	entries []json.RawMessage
	seg     audit.Segment
}

func (c chain) head(n uint64) audit.Head {
	h, _ := c.seg.HashAt(n)
	return audit.Head{Seq: n, Hash: h}
}

// slice returns entries from+1 … to.
func (c chain) slice(from, to uint64) []json.RawMessage { return c.entries[from:to] }

func makeChain(t *testing.T, path string, n int, action string) chain {
	t.Helper()
	l, _, err := audit.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for range n {
		if _, err := l.Append(audit.KindOfficerDecision, "officer-7", action, map[string]string{"tx": "t"}); err != nil {
			t.Fatal(err)
		}
	}
	_, entries, err := l.Proof(0, 10000, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	seg, err := audit.CheckSegment(entries)
	if err != nil {
		t.Fatal(err)
	}
	return chain{entries, seg}
}

func TestJudgeAnchor(t *testing.T) {
	dir := t.TempDir()
	good := makeChain(t, filepath.Join(dir, "a.log"), 20, "confirm")
	// forked: the same first 6 entries, then others (a consistent rewrite).
	raw, _ := os.ReadFile(filepath.Join(dir, "a.log"))
	lines := bytes.SplitAfter(raw, []byte("\n"))
	os.WriteFile(filepath.Join(dir, "b.log"), bytes.Join(lines[:6], nil), 0o600)
	forked := makeChain(t, filepath.Join(dir, "b.log"), 14, "dismiss")
	if forked.head(6) != good.head(6) || forked.head(7) == good.head(7) {
		t.Fatal("fork fixture wrong")
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	anchor := func(signer crypto.Signer, head, base audit.Head, entries []json.RawMessage) *audit.Anchor {
		a := &audit.Anchor{Head: head, Base: base, Entries: entries, Time: now}
		if err := a.Sign("desk-1", signer); err != nil {
			t.Fatal(err)
		}
		return a
	}
	at := func(h audit.Head) AuditState { return AuditState{Head: h} }
	zero := audit.Head{Seq: 0, Hash: audit.GenesisHash}
	for _, tc := range []struct {
		name     string
		st       AuditState
		a        *audit.Anchor
		pub      crypto.PublicKey
		status   string
		anchored audit.Head
		flag     string
	}{
		{"first anchor from genesis", AuditState{}, anchor(key, good.head(10), zero, good.slice(0, 10)), &key.PublicKey, audit.AnchorOK, good.head(10), ""},
		{"extension", at(good.head(10)), anchor(key, good.head(20), good.head(10), good.slice(10, 20)), &key.PublicKey, audit.AnchorOK, good.head(20), ""},
		{"unchanged", at(good.head(20)), anchor(key, good.head(20), good.head(20), nil), &key.PublicKey, audit.AnchorOK, good.head(20), ""},
		{"partial proof advances to its end", at(good.head(2)), anchor(key, good.head(20), good.head(2), good.slice(2, 5)), &key.PublicKey, audit.AnchorOK, good.head(5), ""},
		{"catch-up from before the anchor", at(good.head(10)), anchor(key, good.head(20), zero, good.slice(0, 20)), &key.PublicKey, audit.AnchorOK, good.head(20), ""},
		{"truncated tail", at(good.head(20)), anchor(key, good.head(15), good.head(20), nil), &key.PublicKey, audit.AnchorTruncated, good.head(20), audit.AnchorTruncated},
		{"truncated to nothing", at(good.head(20)), anchor(key, zero, good.head(20), nil), &key.PublicKey, audit.AnchorTruncated, good.head(20), audit.AnchorTruncated},
		{"rewritten past the anchor", at(good.head(10)), anchor(key, forked.head(20), good.head(10), forked.slice(10, 20)), &key.PublicKey, audit.AnchorForked, good.head(10), audit.AnchorForked},
		{"rewritten, same length", at(good.head(10)), anchor(key, forked.head(10), good.head(10), nil), &key.PublicKey, audit.AnchorForked, good.head(10), audit.AnchorForked},
		{"rewritten, proof from genesis", at(good.head(10)), anchor(key, forked.head(20), zero, forked.slice(0, 20)), &key.PublicKey, audit.AnchorForked, good.head(10), audit.AnchorForked},
		{"proof short of the anchor", at(good.head(10)), anchor(key, good.head(20), zero, good.slice(0, 5)), &key.PublicKey, audit.AnchorResync, good.head(10), ""},
		{"base beyond the anchor", at(good.head(10)), anchor(key, good.head(20), good.head(15), good.slice(15, 20)), &key.PublicKey, audit.AnchorResync, good.head(10), ""},
		{"head ahead without entries", at(good.head(10)), anchor(key, good.head(20), good.head(10), nil), &key.PublicKey, audit.AnchorResync, good.head(10), ""},
		{"signed by another key", at(good.head(10)), anchor(other, good.head(20), good.head(10), good.slice(10, 20)), &key.PublicKey, audit.AnchorInvalid, good.head(10), audit.AnchorInvalid},
		{"no key", at(good.head(10)), anchor(key, good.head(20), good.head(10), good.slice(10, 20)), nil, audit.AnchorInvalid, good.head(10), audit.AnchorInvalid},
		{"proof leads elsewhere", at(good.head(10)), anchor(key, forked.head(20), good.head(10), good.slice(10, 20)), &key.PublicKey, audit.AnchorInvalid, good.head(10), audit.AnchorInvalid},
		{"proof not after base", at(good.head(10)), anchor(key, good.head(20), good.head(10), good.slice(11, 20)), &key.PublicKey, audit.AnchorInvalid, good.head(10), audit.AnchorInvalid},
		{"reset adopts the head", AuditState{Head: good.head(20), Reset: true}, anchor(key, forked.head(12), zero, nil), &key.PublicKey, audit.AnchorOK, forked.head(12), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, ack, flag := judgeAnchor(tc.st, "desk-1", tc.a, tc.pub, now)
			if ack.Status != tc.status || flag != tc.flag {
				t.Fatalf("status %q flag %q (%s), want %q %q", ack.Status, flag, ack.Detail, tc.status, tc.flag)
			}
			if normalHead(st.Head) != normalHead(tc.anchored) || ack.Head != normalHead(tc.anchored) {
				t.Fatalf("anchored %+v (ack %+v), want %+v", st.Head, ack.Head, tc.anchored)
			}
			if st.Flag != tc.flag || (tc.flag != "" && st.FlaggedAt != now) {
				t.Fatalf("state flag %q at %v", st.Flag, st.FlaggedAt)
			}
			if tc.status == audit.AnchorOK && st.Head == tc.a.Head && (st.Sig == nil || !st.Time.Equal(now)) {
				t.Fatal("signed head stored without its signature")
			}
		})
	}
	// A flag stays until an operator resets it, even if the unit later
	// sends a valid extension of the anchored head.
	st := AuditState{Head: good.head(10), Flag: audit.AnchorTruncated, Detail: "x", FlaggedAt: now}
	st, ack, _ := judgeAnchor(st, "desk-1", anchor(key, good.head(20), good.head(10), good.slice(10, 20)), &key.PublicKey, now.Add(time.Hour))
	if ack.Status != audit.AnchorOK || st.Flag != audit.AnchorTruncated || st.FlaggedAt != now {
		t.Fatalf("flag not sticky: %+v %+v", st, ack)
	}
}
