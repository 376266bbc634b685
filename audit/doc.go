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
// The chain alone cannot show that its last entries were cut off, or that
// the tail was rewritten consistently. Anchoring does (anchor.go): the
// unit's uploader sends headquarters a signed Anchor (its Head and the
// complete entries since the head headquarters holds, from Log.Proof);
// headquarters recomputes them (CheckSegment) and keeps the newest head
// that extends the one before; the unit keeps headquarters' answer
// (Acknowledged, AckPath) and VerifyAgainst checks the log still passes
// through it. See hub/README.md, "Audit anchoring".
//
// A Log is safe for concurrent use. Close it when done.
package audit
