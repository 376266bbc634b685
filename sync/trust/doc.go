// Package trust is a unit's root of trust for watchlist bundles.
//
// A trust file lists the issuing-authority keys (Ed25519) allowed to sign
// bundles, each with a validity period and a revocation flag, so signing
// keys can be rotated and revoked without reinstalling units. The file
// itself carries a version and must be signed by a threshold k of the n
// root keys it names. The root keys pinned at install (the first trust file
// a unit accepts) decide every later update: a newer file is accepted only
// if k of the currently trusted root keys signed it, its version is higher,
// and, when it changes the root keys, k of its own new root keys signed it
// too (so a root rotation needs both the old and the new quorum).
//
// Ownership: private keys (signing and root) are written with mode 0600 and
// never logged; ReadPrivateKey refuses files others can read. Root private
// keys belong offline with their custodians, never on units.
package trust
