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
