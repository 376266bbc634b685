// Package pki is the fleet's mutual-TLS plumbing: a small certificate
// authority that headquarters keeps offline, the hub's server certificate,
// one client certificate per unit, and the *tls.Config values both ends use.
//
// Keys are ECDSA P-256: every TLS stack a national back end may run (Go,
// OpenSSL, Java, HSMs) handles it, and Go's TLS 1.3 implementation is
// constant-time for it.
//
// A unit's identity is its certificate, never a field it sends: the unit id
// sits in the subject common name and in a URI SAN "checkpoint:unit:<id>",
// and UnitID reads it from a verified peer chain only. Headquarters'
// operators (analysts, consoles) have certificates of their own
// (IssueOperator): OU "operator" and a URI SAN "checkpoint:operator:<name>",
// never a unit URI. Peer tells the two roles apart; a certificate naming
// both is refused, so a unit can never act as an operator nor an operator
// upload as a unit.
//
// Ownership: private keys are written with mode 0600 through
// internal/atomicfile and never logged; the CA key belongs on the
// technician's or headquarters' machine, not on units.
package pki
