// Package faceindex is the in-memory 1:N search over face templates
// (128-D dlib embeddings) of one watchlist version.
//
// The store decrypts the templates once, when it opens a watchlist version,
// and hands them to an Index; the Index keeps them in one contiguous slab
// outside the Go heap, locked into RAM with mlock where the process limit
// allows (Locked reports whether it did) and excluded from core dumps, so that
// decrypted biometric data does not reach swap or a crash file.
//
// An Index holds templates of ONE face model: embeddings of different models
// live in different spaces and a distance between them means nothing, so
// Search with another model id fails with ErrModelMismatch.
//
// Search is an exact brute-force scan (squared Euclidean distance in float32,
// unrolled, top-k kept in a small sorted buffer), split across workers when
// the index is large. Measured on the project's 2-core box, a million
// templates take about 35 ms on one core; an early exit against the current
// k-th best was tried and made the scan slower, because reading only the first
// cache lines of each template defeats the hardware prefetcher.
//
// Ownership: an Index is safe for concurrent use by many searchers and a
// writer (Add takes a write lock). The owner must Close it; Close zeroes the
// templates, unlocks and unmaps the memory, and is idempotent. Vectors passed
// to Add are copied; result slices belong to the caller. No method logs
// template values or ids.
package faceindex
