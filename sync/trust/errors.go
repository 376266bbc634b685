package trust

import "errors"

var (
	// ErrFormat is returned when a trust file or key file cannot be parsed
	// or is internally inconsistent (threshold out of range, duplicate keys).
	ErrFormat = errors.New("trust: malformed trust file")

	// ErrThreshold is returned when a trust file carries fewer valid
	// signatures by distinct root keys than its threshold requires.
	ErrThreshold = errors.New("trust: not enough valid root signatures")

	// ErrNotNewer is returned when an update's version is not higher than
	// the trusted one (rollback or replay of an old trust file).
	ErrNotNewer = errors.New("trust: trust file version not newer than the installed one")

	// ErrUnknownSigner is returned when a key id is not listed as a signer.
	ErrUnknownSigner = errors.New("trust: unknown signing key")

	// ErrSignerExpired is returned when a signer is used outside its
	// not_before/not_after validity period.
	ErrSignerExpired = errors.New("trust: signing key outside its validity period")

	// ErrSignerRevoked is returned when a signer has been revoked.
	ErrSignerRevoked = errors.New("trust: signing key revoked")

	// ErrKeyPermissions is returned when a private key file is readable or
	// writable by anyone but its owner.
	ErrKeyPermissions = errors.New("trust: private key file permissions too open (want 0600 or stricter)")
)
