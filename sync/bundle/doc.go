// Package bundle builds, verifies and installs watchlist bundles: signed
// (Ed25519, by an issuing-authority key listed in the unit's root of trust,
// see sync/trust) and encrypted (age, X25519) files carrying a full
// snapshot or a delta of a watchlist as compressed JSON Lines of
// watchlist.Change. FORMAT.md describes the file and the static publication
// layout (index.json + bundle files) that any web server can serve.
//
// A unit refuses a bundle, with a sentinel error and nothing changed, when
// it is not for this unit, damaged, truncated, too large, forged, signed by
// an unknown, expired or revoked key, expired, a rollback or replay, a
// delta for another base, or when the records do not hash to the signed
// state. Install verifies the whole file first (signature, payload hash,
// bounded decompression, every record), then streams it a second time into
// the store's atomic swap (watchlist.Store.ReplaceAll or ApplyDelta), which
// re-checks the payload hash and the state hash before committing. The
// file is read twice rather than copied in clear: the caller passes a
// private copy (a download's .part file, a sideloaded file copied off the
// stick) and it stays encrypted at rest.
//
// Channel bundles (channel.go, FORMAT.md "Channel bundles") carry other
// signed data in the same file format: a header with a kind ("trust",
// "alerts", "prearrival", …) and a channel, and a payload of Records, the
// channel's whole content. BuildChannel writes one, ReadChannel verifies
// one completely and returns its records, Publish places one under
// <kind>/<channel>/. A header without a kind is a watchlist bundle, whose
// bytes are unchanged. The unit side (installed sequence, expiry, the
// consumers of each kind) is sync/channel.
//
// Ownership: the caller owns the bundle file and the store; Install closes
// every file it opens. Nothing in this package logs record content.
package bundle
