// Package web serves the officer's page: sign-in with local accounts
// (argon2id-hashed PINs), sessions that expire, a live view of the lane over
// server-sent events, and the officer's verdict on each transaction. Assets
// are embedded in the binary. The server listens on loopback by default;
// config refuses other addresses without TLS.
package web
