package sealdb

import (
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/checkpoint-edge/checkpoint/internal/atomicfile"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
)

// ErrLocked is returned by Open when another process holds the file.
var ErrLocked = errors.New("file is locked by another process")

// Open opens (or creates, 0600) the bbolt file at path, sets up its
// layout with the key-encryption key from kp, and returns the database
// and a Sealer for its data key. A file held by another process within
// o.Timeout is ErrLocked; a wrong KEK is seal.ErrWrongKey.
func Open(path string, kp seal.KeyProvider, l Layout, o *bolt.Options) (*bolt.DB, *seal.Sealer, error) {
	kek, err := kp.KEK()
	if err != nil {
		return nil, nil, fmt.Errorf("key %s: %w", kp, err)
	}
	defer seal.Wipe(kek)
	durable := atomicfile.SyncDirIfCreated(path)
	db, err := bolt.Open(path, 0o600, o)
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, nil, fmt.Errorf("%w: %s", ErrLocked, path)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := durable(); err != nil { // a new store's name survives a power cut
		db.Close()
		return nil, nil, fmt.Errorf("open %s: %w", path, err)
	}
	var dek []byte
	err = db.Update(func(tx *bolt.Tx) error {
		_, d, err := Init(tx, l, kek)
		dek = d
		return err
	})
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	defer seal.Wipe(dek)
	s, err := seal.NewSealer(dek)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, s, nil
}

// RotateKEK re-wraps the data key of a file opened with Open from oldKP's
// key-encryption key to newKP's (records are not re-encrypted). A wrong
// old key is seal.ErrWrongKey and changes nothing.
func RotateKEK(db *bolt.DB, l Layout, oldKP, newKP seal.KeyProvider) error {
	oldKEK, err := oldKP.KEK()
	if err != nil {
		return fmt.Errorf("key %s: %w", oldKP, err)
	}
	defer seal.Wipe(oldKEK)
	newKEK, err := newKP.KEK()
	if err != nil {
		return fmt.Errorf("new key %s: %w", newKP, err)
	}
	defer seal.Wipe(newKEK)
	return db.Update(func(tx *bolt.Tx) error { return Rotate(tx, l, oldKEK, newKEK) })
}
