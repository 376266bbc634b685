// Package sealdb sets up the meta bucket shared by Checkpoint's encrypted
// bbolt files (the outbox on a unit, the results store on the hub): a
// format marker that refuses files written by an incompatible version,
// and a random data key wrapped by the key-encryption key, so that
// rotating the KEK re-wraps one value instead of re-encrypting the file.
package sealdb

import (
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/checkpoint-edge/checkpoint/internal/seal"
)

// Keys of the meta bucket.
var (
	KeyFormat = []byte("format")
	KeyDEK    = []byte("dek")
)

// Layout describes one file: its meta bucket, the format it must carry,
// the other buckets it needs, and the associated data that binds its
// wrapped data key to this kind of file (a key wrapped for the outbox
// cannot be moved into a hub database).
type Layout struct {
	Meta    []byte
	Format  string
	Buckets [][]byte
	DEKAD   []byte
}

// Init creates the buckets, records or checks the format, and returns the
// file's data key, creating and wrapping a new one on first use. It runs
// inside the caller's write transaction so that a fresh file is set up
// all at once or not at all. The caller wipes the returned key.
func Init(tx *bolt.Tx, l Layout, kek []byte) (meta *bolt.Bucket, dek []byte, err error) {
	meta, err = tx.CreateBucketIfNotExists(l.Meta)
	if err != nil {
		return nil, nil, err
	}
	for _, b := range l.Buckets {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return nil, nil, err
		}
	}
	switch f := meta.Get(KeyFormat); {
	case f == nil:
		if err := meta.Put(KeyFormat, []byte(l.Format)); err != nil {
			return nil, nil, err
		}
	case string(f) != l.Format:
		return nil, nil, fmt.Errorf("unsupported format %q (this build reads %q)", f, l.Format)
	}
	if w := meta.Get(KeyDEK); w != nil {
		dek, err = seal.UnwrapKey(kek, w, l.DEKAD)
		return meta, dek, err
	}
	dek = seal.NewKey()
	w, err := seal.WrapKey(kek, dek, l.DEKAD)
	if err != nil {
		return nil, nil, err
	}
	return meta, dek, meta.Put(KeyDEK, w)
}

// Rotate re-wraps the file's data key from oldKEK to newKEK inside the
// caller's write transaction. Records are not re-encrypted: they never
// depended on the KEK. A wrong oldKEK is seal.ErrWrongKey and changes
// nothing.
func Rotate(tx *bolt.Tx, l Layout, oldKEK, newKEK []byte) error {
	meta := tx.Bucket(l.Meta)
	if meta == nil || meta.Get(KeyDEK) == nil {
		return fmt.Errorf("no wrapped data key in bucket %q", l.Meta)
	}
	dek, err := seal.UnwrapKey(oldKEK, meta.Get(KeyDEK), l.DEKAD)
	if err != nil {
		return err
	}
	defer seal.Wipe(dek)
	w, err := seal.WrapKey(newKEK, dek, l.DEKAD)
	if err != nil {
		return err
	}
	return meta.Put(KeyDEK, w)
}
