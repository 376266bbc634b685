package seal

import "errors"

var (
	// ErrIntegrity is returned when a sealed value fails authentication:
	// it was tampered with, truncated, moved to another record, or sealed
	// under another key.
	ErrIntegrity = errors.New("seal: integrity check failed")

	// ErrKeyPermissions is returned when a key file is readable or writable
	// by anyone but its owner.
	ErrKeyPermissions = errors.New("seal: key file permissions too open (want 0600 or stricter)")

	// ErrKeyFormat is returned when key material is not 32 bytes (raw, hex
	// or base64).
	ErrKeyFormat = errors.New("seal: key must be 32 bytes (raw, 64 hex digits or base64)")

	// ErrNoKey is returned when a provider's source (file, credential,
	// variable) does not exist.
	ErrNoKey = errors.New("seal: key not found")

	// ErrWrongKey is returned when a wrapped data key cannot be unwrapped
	// with the key-encryption key provided.
	ErrWrongKey = errors.New("seal: wrong key-encryption key")
)
