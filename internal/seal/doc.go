// Package seal is the project's envelope encryption for data at rest.
//
// A random data key (DEK) encrypts every record with XChaCha20-Poly1305; the
// caller passes associated data (bucket and key) so that sealed values cannot
// be swapped between records. The DEK is stored wrapped by a key-encryption
// key (KEK) that comes from a KeyProvider: a key file (0600), a systemd
// credential ($CREDENTIALS_DIRECTORY, which systemd-creds can seal to a TPM)
// or, for tests only, an environment variable. Rotating the KEK re-wraps the
// DEK; nothing else is re-encrypted.
//
// Keys returned by providers are owned by the caller, who should Wipe them
// once they are no longer needed.
package seal
