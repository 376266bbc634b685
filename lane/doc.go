// Package lane is the transaction pipeline of one lane (a desk or an
// e-gate): a scanned document starts a transaction; the best face is
// captured within a window; document, person and face are checked against
// the watchlist; a decision is made, persisted to the outbox and the audit
// log, and only then published to the officer's page and the gate.
//
// The pipeline depends on small interfaces (documents, faces, checker,
// queue, audit) so that it runs with real devices in the daemon and with
// recorded streams in tests. Transactions it publishes are views: they carry
// what the officer needs to see and never leave the unit except through the
// encrypted outbox.
package lane
