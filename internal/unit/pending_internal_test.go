package unit

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/lane"
)

type testKey struct{ k []byte }

func (t testKey) KEK() ([]byte, error) { return bytes.Clone(t.k), nil }
func (t testKey) String() string       { return "test" }

// TestPendingStoreFile: the order of saves, a replaced transaction keeps
// its place, no image reaches the file, and a record that was altered or
// moved to another transaction's key is left out (and counted).
func TestPendingStoreFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), pendingFile)
	kp := testKey{seal.NewKey()}
	st, err := OpenPendingStore(path, kp)
	if err != nil {
		t.Fatal(err)
	}
	mk := func(id string, d lane.Decision) lane.Transaction {
		return lane.Transaction{ID: id, State: lane.StateDecided, Decision: d, FaceJPEG: []byte("\xff\xd8FACEJPEG"),
			Face: lane.FaceView{HasImage: true}, Hits: []lane.HitView{{Kind: "person", RefID: "P1", Photo: []byte("\xff\xd8LISTEDPHOTO"), HasPhoto: true}},
			Document: lane.DocumentView{Surname: "ERIKSSON"}}
	}
	// ids that sort the other way from their order.
	for _, tx := range []lane.Transaction{mk("c", lane.Hit), mk("b", lane.Refer), mk("a", lane.Hit)} {
		if err := st.Save(tx); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Save(mk("c", lane.Hit)); err != nil { // saved again: keeps its place
		t.Fatal(err)
	}
	got, err := st.Load()
	if err != nil || !slices.Equal(txIDs(got), []string{"c", "b", "a"}) {
		t.Fatalf("Load %v, %v", txIDs(got), err)
	}
	if got[0].Face.HasImage || got[0].FaceJPEG != nil || got[0].Hits[0].HasPhoto || got[0].Document.Surname != "ERIKSSON" {
		t.Fatalf("loaded %+v", got[0])
	}
	if err := st.Remove("b"); err != nil || st.Remove("unknown") != nil {
		t.Fatal(err)
	}
	// Tamper: flip a byte of "a", copy "c"'s sealed value under "x".
	err = st.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPending)
		v := bytes.Clone(b.Get([]byte("a")))
		v[len(v)/2] ^= 1
		if err := b.Put([]byte("a"), v); err != nil {
			return err
		}
		return b.Put([]byte("x"), bytes.Clone(b.Get([]byte("c"))))
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err = st.Load()
	if err != nil || !slices.Equal(txIDs(got), []string{"c"}) || st.Skipped() != 2 {
		t.Fatalf("after tampering: %v, skipped %d, %v", txIDs(got), st.Skipped(), err)
	}
	st.Close()
	raw, _ := os.ReadFile(path)
	for _, s := range []string{"FACEJPEG", "LISTEDPHOTO", "ERIKSSON"} {
		if bytes.Contains(raw, []byte(s)) {
			t.Fatalf("the file holds %q", s)
		}
	}
	if _, err := OpenPendingStore(path, testKey{seal.NewKey()}); !errors.Is(err, seal.ErrWrongKey) {
		t.Fatalf("another key: %v", err)
	}
}

func txIDs(txs []lane.Transaction) []string {
	var out []string
	for _, tx := range txs {
		out = append(out, tx.ID)
	}
	return out
}
