// Package audit is the unit's append-only, hash-chained audit log.
//
// Every officer decision, watchlist change, key operation and configuration
// change is appended as one JSON line. Each entry carries the SHA-256 of the
// previous entry, so removing, reordering or editing any entry breaks the
// chain from that point on, which Verify reports. Entries are fsynced before
// Append returns.
//
// Entries must not carry personal data (names, document numbers, images,
// embeddings): they reference transactions and watchlist records by id.
//
// A Log is safe for concurrent use. Close it when done.
package audit
