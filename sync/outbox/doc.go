// Package outbox is the unit's durable, encrypted queue of results for
// headquarters, and the Uploader that drains it.
//
// Enqueue returns only after the item is committed to a bbolt file with
// fsync, so the daemon may acknowledge a transaction (to the officer or the
// e-gate) as soon as Enqueue returns nil: kill -9 or power loss after that
// point loses nothing. Each value is sealed with internal/seal (a random data
// key wrapped by the KeyProvider's key-encryption key; associated data is
// bucket and key, so values cannot be swapped between records).
//
// Every item gets an idempotency key, "<unit id>:<128-bit random hex>",
// unique across restarts and even if the outbox file is deleted and
// recreated; headquarters stores each key at most once.
//
// Order and retention: items of Priority Hit are uploaded before Routine
// items, each class in enqueue order. Hits are never dropped. Routine items
// beyond Options.RoutineQuota (items and/or bytes) are evicted oldest-first;
// evictions are counted, logged at Warn (without content) and reported by
// Status. A full disk makes Enqueue fail with ErrDiskFull and sets
// Status.DiskFull; nothing already stored is affected.
//
// Hand-carry: Export writes every queued item into an age-encrypted file,
// signed with the unit's TLS client key, for air-gapped posts. Exported items
// stay in the outbox until an upload is acknowledged (or Ack is called):
// the hub deduplicates, so carrying the same item twice is harmless, while
// deleting on export would lose data when a USB stick is lost.
//
// Several hubs: UploaderOptions.HubURLs are tried in turn when one is
// unreachable or answers 5xx/429 (Retry-After is honoured within
// MaxBackoff); a 4xx is not retried elsewhere. Audit anchoring: with
// UploaderOptions.Audit every upload carries the unit's signed audit head
// and the entries since the head headquarters acknowledged (audit.Anchor),
// sent alone when only the log moved; the answer is kept at AuditAckPath.
//
// Ownership: an Outbox holds the bbolt file lock until Close (idempotent).
// One Uploader per Outbox; Uploader.Run and Uploader.Drain may be called
// from different goroutines (uploads are serialized). Nothing in this
// package logs payloads, document data or keys.
package outbox
