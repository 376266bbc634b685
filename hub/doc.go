// Package hub is headquarters: it serves bundles as static files, ingests
// the results units upload from their outboxes (sync/outbox) over mutual
// TLS, anchors each unit's audit log, and gives operators a live hit feed,
// queries and confirmed-hit sharing (README.md).
//
// Storage is a Store: the sealed bbolt file (OpenBolt, the embedded
// default) or PostgreSQL (OpenPostgres, any number of replicas), with the
// same guarantees. Ingestion is idempotent: every record carries an
// idempotency key and the store holds each key at most once, so units may
// resend freely after a cut link or a crash. A batch is committed before
// the hub answers; the answer lists the keys the store holds, and only
// those are deleted on the unit. Records are numbered per unit in commit
// order (unit_seq) without gaps, whichever replica commits. The unit id
// always comes from the verified client certificate (pki.Peer), never from
// the request body; operator certificates read, unit certificates upload.
//
// Stored results are personal data and are sealed at rest with
// internal/seal under a data key wrapped by the hub's key-encryption key;
// only metadata is in clear for queries. Logs carry unit ids and counts
// only.
//
// Ownership: a Hub owns its Store and closes it (Close is idempotent). The
// bbolt store holds its file lock until then; a second process (e.g.
// `checkpoint-hub import` while the server runs) gets an error after
// BoltOptions.Timeout instead of waiting forever, and should use POST
// /v1/imports instead. A PostgreSQL store holds a connection pool, one
// connection for the feed's LISTEN and, on the leading replica, one for the
// alert publisher's advisory lock.
package hub
