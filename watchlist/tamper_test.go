package watchlist

import (
	"bytes"
	"context"
	"errors"
	"os"
	"sync/atomic"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// rawValue returns the sealed bytes stored for a document id.
func rawDocValue(t *testing.T, s *Store, id string) []byte {
	t.Helper()
	var out []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		g := tx.Bucket(genName(s.cur.gen))
		ik := s.blind.docID(id)
		dk := g.Bucket(subDocIDs).Get(ik[:])
		out = bytes.Clone(g.Bucket(subDocs).Get(dk))
		return nil
	})
	if err != nil || out == nil {
		t.Fatalf("raw value of %s: %v", id, err)
	}
	return out
}

func flipInFile(t *testing.T, path string, needle []byte) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// bbolt is copy-on-write: free pages may still hold older copies of
	// the page, so every occurrence is flipped.
	n := 0
	for i := bytes.Index(raw, needle); i >= 0; {
		raw[i+len(needle)/2] ^= 0x20
		n++
		j := bytes.Index(raw[i+1:], needle)
		if j < 0 {
			break
		}
		i += 1 + j
	}
	if n == 0 {
		t.Fatal("sealed value not found in the file")
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestTamperedRecordDetected(t *testing.T) {
	s := MustOpen(t)
	mustReplace(t, s.Store, 1, fixtureChanges()...)
	victim := rawDocValue(t, s.Store, "SLTD-2")
	s.Close()
	flipInFile(t, s.Path, victim)

	var called atomic.Int64
	s.Reopen(t, Options{OnIntegrity: func(*IntegrityError) { called.Add(1) }})
	_, err := s.LookupDocument("GBR", "925076473", "P")
	var ie *IntegrityError
	if !errors.As(err, &ie) || !errors.Is(err, ErrIntegrity) {
		t.Fatalf("tampered record: err = %v, want *IntegrityError", err)
	}
	if bytes.Contains([]byte(ie.Error()), []byte("925076473")) {
		t.Fatal("integrity error reveals the document number")
	}
	if s.IntegrityErrors() != 1 || called.Load() != 1 {
		t.Fatalf("integrity counter %d, callback %d", s.IntegrityErrors(), called.Load())
	}
	select {
	case a := <-s.Alarms():
		if a.Bucket != "documents" {
			t.Fatalf("alarm = %+v", a)
		}
	default:
		t.Fatal("no alarm delivered")
	}
	// The rest is still served.
	if hits, err := s.LookupDocument("DEU", "C01X00T47", "P"); err != nil || len(hits) != 1 {
		t.Fatalf("untampered record: %v %v", hits, err)
	}
	// Check lists the failure and keeps the other parts' hits.
	res, err := s.Check(context.Background(), Query{Document: &MRZDocument{IssuingState: "GBR", DocumentNumber: "925076473", DocumentCode: "P"}})
	if err != nil || len(res.Errors) != 1 || !errors.Is(res.Errors[0], ErrIntegrity) {
		t.Fatalf("check = %+v, %v", res, err)
	}
	rep, err := s.Verify(context.Background())
	if err != nil || rep.Consistent || rep.IntegrityErrs != 1 || rep.Documents != int64(len(fixtureDocs)-1) {
		t.Fatalf("verify = %+v, %v", rep, err)
	}
}

func TestSwappedRecordDetected(t *testing.T) {
	// Moving a valid sealed value to another key must fail: the key is the
	// associated data.
	s := MustOpen(t)
	mustReplace(t, s.Store, 1, fixtureChanges()...)
	a, b := rawDocValue(t, s.Store, "SLTD-5"), rawDocValue(t, s.Store, "SLTD-1")
	s.Close()
	raw, _ := os.ReadFile(s.Path)
	if len(a) != len(b) {
		t.Fatal("fixture values differ in length; the swap needs equal sizes")
	}
	for i := bytes.Index(raw, b); i >= 0; i = bytes.Index(raw, b) {
		copy(raw[i:], a)
	}
	os.WriteFile(s.Path, raw, 0o600)
	s.Reopen(t, Options{})
	if _, err := s.LookupDocument("DEU", "C01X00T47", "P"); !errors.Is(err, ErrIntegrity) {
		t.Fatalf("swapped value accepted: %v", err)
	}
}
