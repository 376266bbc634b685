package sealdb

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/checkpoint-edge/checkpoint/internal/seal"
)

func openDB(t *testing.T, path string) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestInit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	kek, other := seal.NewKey(), seal.NewKey()
	l := Layout{Meta: []byte("meta"), Format: "x/1", Buckets: [][]byte{[]byte("a"), []byte("b")}, DEKAD: []byte("x/dek")}
	init := func(db *bolt.DB, l Layout, kek []byte) (dek []byte, err error) {
		err = db.Update(func(tx *bolt.Tx) error {
			_, dek, err = Init(tx, l, kek)
			return err
		})
		return dek, err
	}
	db := openDB(t, path)
	first, err := init(db, l, kek)
	if err != nil || len(first) != 32 {
		t.Fatalf("first Init: %d-byte key, %v", len(first), err)
	}
	db.View(func(tx *bolt.Tx) error {
		for _, b := range []string{"meta", "a", "b"} {
			if tx.Bucket([]byte(b)) == nil {
				t.Errorf("bucket %s not created", b)
			}
		}
		if w := tx.Bucket([]byte("meta")).Get(KeyDEK); bytes.Contains(w, first) {
			t.Error("data key stored in the clear")
		}
		return nil
	})

	cases := []struct {
		name    string
		mutate  func(*Layout) []byte
		wantErr string
		wrong   bool
	}{
		{"same key reopens", func(*Layout) []byte { return kek }, "", false},
		{"wrong KEK", func(*Layout) []byte { return other }, "", true},
		{"other file kind", func(l *Layout) []byte { l.DEKAD = []byte("y/dek"); return kek }, "", true},
		{"newer format", func(l *Layout) []byte { l.Format = "x/2"; return kek }, `unsupported format "x/1"`, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l2 := l
			k := c.mutate(&l2)
			dek, err := init(db, l2, k)
			switch {
			case c.wrong:
				if !errors.Is(err, seal.ErrWrongKey) {
					t.Fatalf("err %v, want ErrWrongKey", err)
				}
			case c.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err %v, want %q", err, c.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			case !bytes.Equal(dek, first):
				t.Fatal("reopening gave a different data key")
			}
		})
	}
}

func TestRotate(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "x.db"))
	l := Layout{Meta: []byte("meta"), Format: "x/1", DEKAD: []byte("x/dek")}
	oldKEK, newKEK := seal.NewKey(), seal.NewKey()
	var dek []byte
	db.Update(func(tx *bolt.Tx) (err error) { _, dek, err = Init(tx, l, oldKEK); return err })

	if err := db.Update(func(tx *bolt.Tx) error { return Rotate(tx, l, seal.NewKey(), newKEK) }); !errors.Is(err, seal.ErrWrongKey) {
		t.Fatalf("rotate with a wrong old key: %v, want ErrWrongKey", err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { return Rotate(tx, l, oldKEK, newKEK) }); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		kek  []byte
		ok   bool
	}{{"new key opens", newKEK, true}, {"old key no longer opens", oldKEK, false}} {
		var got []byte
		err := db.Update(func(tx *bolt.Tx) (err error) { _, got, err = Init(tx, l, c.kek); return err })
		if c.ok != (err == nil) || (c.ok && !bytes.Equal(got, dek)) {
			t.Errorf("%s: err %v, same data key %v", c.name, err, bytes.Equal(got, dek))
		}
	}
	empty := openDB(t, filepath.Join(t.TempDir(), "y.db"))
	if err := empty.Update(func(tx *bolt.Tx) error { return Rotate(tx, l, oldKEK, newKEK) }); err == nil {
		t.Fatal("rotating a file without a data key succeeded")
	}
}
