// Package hub is the reference headquarters service: it serves watchlist
// bundles as static files and ingests the results units upload from their
// outboxes (sync/outbox), over mutual TLS.
//
// Ingestion is idempotent: every record carries an idempotency key and the
// hub stores each key at most once, so units may resend freely after a cut
// link or a crash. A batch is committed (bbolt, fsync) before the hub
// answers; the answer lists the keys the hub holds, and only those are
// deleted on the unit. Records are kept per unit in arrival order under a
// per-unit sequence number. The unit id always comes from the verified
// client certificate (pki.UnitID), never from the request body.
//
// Stored results are personal data and are sealed at rest with
// internal/seal, like the unit's outbox. Logs carry unit ids and counts only.
//
// Ownership: a Hub holds its bbolt file lock until Close (idempotent); a
// second process (e.g. `checkpoint-hub import` while the server runs) gets
// an error after Options.Timeout instead of waiting forever, and should use
// POST /v1/imports instead.
package hub
