package bundle

import "errors"

var (
	// ErrFormat is returned when a file is not a bundle, or a bundle is
	// malformed (bad magic, header, record or trailing data).
	ErrFormat = errors.New("bundle: malformed bundle")

	// ErrBadSignature is returned when the header signature does not verify
	// or the payload does not match the hash the signed header announces.
	ErrBadSignature = errors.New("bundle: bad signature or tampered payload")

	// ErrUnknownSigner is returned when the signing key is not listed in the
	// root of trust.
	ErrUnknownSigner = errors.New("bundle: unknown signing key")

	// ErrSignerExpired is returned when the signing key is outside its
	// validity period.
	ErrSignerExpired = errors.New("bundle: signing key expired or not yet valid")

	// ErrSignerRevoked is returned when the signing key has been revoked.
	ErrSignerRevoked = errors.New("bundle: signing key revoked")

	// ErrRollback is returned when the bundle's sequence is not newer than
	// the installed one (rollback or replay).
	ErrRollback = errors.New("bundle: sequence not newer than installed (rollback or replay)")

	// ErrBaseMismatch is returned when a delta's base sequence is not the
	// installed sequence (mix-and-match); a full bundle is needed.
	ErrBaseMismatch = errors.New("bundle: delta base is not the installed version")

	// ErrWatchlistMismatch is returned when a bundle is for another
	// watchlist than the installed one.
	ErrWatchlistMismatch = errors.New("bundle: bundle is for another watchlist")

	// ErrStateMismatch is returned when the records do not hash to the
	// signed state hash (divergence): the old list is kept and a full
	// bundle should be fetched.
	ErrStateMismatch = errors.New("bundle: state hash mismatch (divergence; full bundle needed)")

	// ErrExpired is returned when the bundle is past its expires-at time.
	ErrExpired = errors.New("bundle: bundle expired")

	// ErrTooLarge is returned when a bundle, its decompressed payload or one
	// record exceeds the configured limits (including decompression bombs).
	ErrTooLarge = errors.New("bundle: bundle exceeds size limits")

	// ErrTruncated is returned when the file ends before the bundle does.
	ErrTruncated = errors.New("bundle: truncated")

	// ErrNotForThisUnit is returned when none of the unit's age identities
	// can decrypt the bundle.
	ErrNotForThisUnit = errors.New("bundle: not encrypted to this unit")

	// ErrDecrypt is returned when the encrypted file fails authentication
	// (tampered or damaged ciphertext).
	ErrDecrypt = errors.New("bundle: decryption failed (tampered or damaged)")

	// ErrUnencrypted is returned when a bundle is not encrypted and the
	// options do not allow it.
	ErrUnencrypted = errors.New("bundle: bundle is not encrypted")

	// ErrIdentityPermissions is returned when an age identity file is
	// readable or writable by anyone but its owner.
	ErrIdentityPermissions = errors.New("bundle: identity file permissions too open (want 0600 or stricter)")

	// ErrWrongKind is returned when a bundle is of another kind than the
	// one asked for (a channel bundle given to the watchlist, a watchlist
	// given to a channel, or a kind no consumer on this unit takes).
	ErrWrongKind = errors.New("bundle: wrong kind of bundle")

	// ErrChannelMismatch is returned when a channel bundle is for another
	// channel than the one asked for (mix-and-match).
	ErrChannelMismatch = errors.New("bundle: bundle is for another channel")

	// ErrRejected is returned when the consumer of a channel refuses the
	// records of an authentic bundle; nothing is installed.
	ErrRejected = errors.New("bundle: records rejected by the channel's consumer")
)
