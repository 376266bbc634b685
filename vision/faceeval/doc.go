// Package faceeval measures a face pipeline on labelled photos: 1:1
// verification (10-fold accuracy, true-accept rate at fixed false-accept
// rates, DET curves) and 1:N identification (false-negative identification
// rate at fixed false-positive identification rates, rank-1), overall and
// per population group, plus a DET plot as PNG and an on-disk cache of
// embeddings so repeated evaluations do not re-run the networks.
//
// It is pure Go: the caller embeds the photos (checkpointctl vision
// evaluate uses the configured pipeline) and hands over Samples.
// Embeddings are personal data: the cache file is written 0600 in the
// user's cache directory and nothing here logs them.
package faceeval
