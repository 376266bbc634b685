package audit

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestProof(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	writeN(t, path, 50)
	l := mustOpen(t, path)
	for _, tc := range []struct {
		after      uint64
		max, bytes int
		from       uint64
		n          int
	}{
		{0, 10, 1 << 20, 1, 10},
		{10, 100, 1 << 20, 11, 40},
		{20, 5, 1 << 20, 21, 5}, // from the cached position
		{3, 4, 1 << 20, 4, 4},   // behind the cache: rescans
		{49, 10, 1 << 20, 50, 1},
		{50, 10, 1 << 20, 0, 0},
		{70, 10, 1 << 20, 0, 0}, // the log holds fewer entries
		{0, 100, 1, 1, 1},       // at least one entry whatever maxBytes
		{0, 0, 1 << 20, 0, 0},
	} {
		head, entries, err := l.Proof(tc.after, tc.max, tc.bytes)
		if err != nil {
			t.Fatal(err)
		}
		if head.Seq != 50 || !validHex(head.Hash) {
			t.Fatalf("head %+v", head)
		}
		if len(entries) != tc.n {
			t.Fatalf("after %d max %d: %d entries, want %d", tc.after, tc.max, len(entries), tc.n)
		}
		if tc.n == 0 {
			continue
		}
		seg, err := CheckSegment(entries)
		if err != nil {
			t.Fatal(err)
		}
		if seg.From != tc.from || seg.End().Seq != tc.from+uint64(tc.n)-1 {
			t.Fatalf("segment from %d to %d", seg.From, seg.End().Seq)
		}
		if tc.from == 1 && seg.Prev != GenesisHash {
			t.Fatal("first entry does not link to genesis")
		}
		if seg.End().Seq == 50 && seg.End().Hash != head.Hash {
			t.Fatal("segment does not end at the head")
		}
	}
	// Another writer appends: the next proof sees its entries.
	other := mustOpen(t, path)
	if _, err := other.Append(KindKeyOperation, "technician", "rotate", nil); err != nil {
		t.Fatal(err)
	}
	head, entries, err := l.Proof(50, 10, 1<<20)
	if err != nil || head.Seq != 51 || len(entries) != 1 {
		t.Fatalf("after another writer: %+v, %d entries, %v", head, len(entries), err)
	}
	l.Close()
	if _, _, err := l.Proof(0, 1, 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed: %v", err)
	}
}

func validHex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}

func proofOf(t *testing.T, path string) []json.RawMessage {
	t.Helper()
	l := mustOpen(t, path)
	defer l.Close()
	_, entries, err := l.Proof(0, 1000, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

func TestCheckSegmentRefuses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	writeN(t, path, 6)
	good := proofOf(t, path)
	edit := func(i int, f func(*Entry)) []json.RawMessage {
		out := append([]json.RawMessage(nil), good...)
		var e Entry
		json.Unmarshal(out[i], &e)
		f(&e)
		b, _ := json.Marshal(e)
		out[i] = b
		return out
	}
	rehash := func(e *Entry) { e.Hash, _ = hashOf(*e) }
	for _, tc := range []struct {
		name    string
		entries []json.RawMessage
	}{
		{"edited", edit(2, func(e *Entry) { e.Action = "dismiss" })},
		{"edited and rehashed", edit(2, func(e *Entry) { e.Action = "dismiss"; rehash(e) })},
		{"sequence skipped", append(append([]json.RawMessage{}, good[:2]...), good[3:]...)},
		{"reordered", []json.RawMessage{good[1], good[0]}},
		{"sequence zero", edit(0, func(e *Entry) { e.Seq = 0; rehash(e) })},
		{"unknown field", []json.RawMessage{json.RawMessage(strings.Replace(string(good[0]), `"seq"`, `"x":1,"seq"`, 1))}},
		{"not json", []json.RawMessage{json.RawMessage(`{`)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := CheckSegment(tc.entries); !errors.Is(err, ErrBadProof) {
				t.Fatalf("err = %v, want ErrBadProof", err)
			}
		})
	}
	seg, err := CheckSegment(good[2:])
	if err != nil || seg.From != 3 || len(seg.Hashes) != 4 {
		t.Fatalf("good suffix: %+v %v", seg, err)
	}
	if h, ok := seg.HashAt(2); !ok || h != seg.Prev {
		t.Fatal("HashAt(From-1) is not Prev")
	}
	if _, ok := seg.HashAt(1); ok {
		t.Fatal("HashAt before the segment")
	}
}

func TestAnchorSignature(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	ec2, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for name, key := range map[string]crypto.Signer{"ecdsa": ec, "ed25519": ed} {
		t.Run(name, func(t *testing.T) {
			a := Anchor{Head: Head{Seq: 7, Hash: strings.Repeat("ab", 32)}, Time: time.Now()}
			if err := a.Sign("desk-1", key); err != nil {
				t.Fatal(err)
			}
			if !a.VerifySig("desk-1", key.Public()) {
				t.Fatal("own signature does not verify")
			}
			if a.VerifySig("desk-2", key.Public()) {
				t.Fatal("signature verifies for another unit")
			}
			if a.VerifySig("desk-1", ec2.Public()) {
				t.Fatal("signature verifies with another key")
			}
			b := a
			b.Head.Seq = 6
			if b.VerifySig("desk-1", key.Public()) {
				t.Fatal("signature verifies for a shorter head")
			}
			if a.VerifySig("desk-1", nil) {
				t.Fatal("verifies without a key")
			}
		})
	}
}

func TestVerifyAgainst(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	writeN(t, path, 10)
	rep, err := Verify(path)
	if err != nil {
		t.Fatal(err)
	}
	acked := Head{Seq: 8}
	entries := proofOf(t, path)
	seg, _ := CheckSegment(entries)
	acked.Hash, _ = seg.HashAt(8)
	if _, err := VerifyAgainst(path, acked); err != nil {
		t.Fatalf("intact log against its own head 8: %v", err)
	}
	if _, err := VerifyAgainst(path, Head{Seq: rep.Entries, Hash: rep.Head}); err != nil {
		t.Fatalf("against the current head: %v", err)
	}
	if _, err := VerifyAgainst(path, Head{}); err != nil {
		t.Fatalf("against nothing acknowledged: %v", err)
	}

	// Truncated: the last three entries cut off; the chain alone is intact.
	raw, _ := os.ReadFile(path)
	lines := bytes.SplitAfter(raw, []byte("\n"))
	cut := filepath.Join(dir, "cut.log")
	os.WriteFile(cut, bytes.Join(lines[:7], nil), 0o600)
	if _, err := Verify(cut); err != nil {
		t.Fatalf("truncated log fails plain Verify (%v): the test proves nothing", err)
	}
	if _, err := VerifyAgainst(cut, acked); !errors.Is(err, ErrTruncated) {
		t.Fatalf("truncated: %v, want ErrTruncated", err)
	}

	// Rewritten consistently: cut at 6 and append other entries; the chain
	// verifies, but entry 8 is not the one headquarters acknowledged.
	rw := filepath.Join(dir, "rewritten.log")
	os.WriteFile(rw, bytes.Join(lines[:6], nil), 0o600)
	l := mustOpen(t, rw)
	for range 4 {
		if _, err := l.Append(KindOfficerDecision, "officer-7", "dismiss", nil); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	if r, err := Verify(rw); err != nil || r.Entries != 10 {
		t.Fatalf("rewritten log: %+v %v", r, err)
	}
	if _, err := VerifyAgainst(rw, acked); !errors.Is(err, ErrRewritten) {
		t.Fatalf("rewritten: %v, want ErrRewritten", err)
	}

	// The acknowledgement file round-trips.
	ack := Acknowledged{Unit: "desk-1", Head: acked, Status: AnchorOK, At: time.Now().UTC()}
	ap := AckPath(path)
	if err := SaveAck(ap, ack); err != nil {
		t.Fatal(err)
	}
	got, err := LoadAck(ap)
	if err != nil || got.Head != acked || got.Unit != "desk-1" {
		t.Fatalf("LoadAck = %+v %v", got, err)
	}
	if st, _ := os.Stat(ap); st.Mode().Perm() != 0o600 {
		t.Fatalf("ack file mode %v", st.Mode())
	}
}

// FuzzCheckSegment: arbitrary proof entries never panic, and a segment
// that checks is consistent with itself.
func FuzzCheckSegment(f *testing.F) {
	dir := f.TempDir()
	path := filepath.Join(dir, "audit.log")
	l, _, err := Open(path)
	if err != nil {
		f.Fatal(err)
	}
	for i := range 4 {
		l.Append(KindSystem, "system", "start", map[string]string{"n": strings.Repeat("x", i)})
	}
	l.Close()
	raw, _ := os.ReadFile(path)
	f.Add(raw)
	f.Add([]byte("{}\n{}"))
	f.Add([]byte(`{"seq":1,"prev":"","hash":""}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var entries []json.RawMessage
		for _, line := range bytes.Split(b, []byte("\n")) {
			if len(line) > 0 {
				entries = append(entries, line)
			}
		}
		seg, err := CheckSegment(entries)
		if err != nil {
			if !errors.Is(err, ErrBadProof) {
				t.Fatalf("error class: %v", err)
			}
			return
		}
		if len(seg.Hashes) != len(entries) {
			t.Fatalf("%d hashes for %d entries", len(seg.Hashes), len(entries))
		}
		if len(entries) > 0 {
			if h, ok := seg.HashAt(seg.End().Seq); !ok || h != seg.End().Hash {
				t.Fatal("end not in segment")
			}
		}
	})
}
