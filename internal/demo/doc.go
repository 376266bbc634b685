// Package demo prepares and drives the Checkpoint demonstration that
// `make run` starts: a complete desk unit on one machine, with the fleet's
// keys, a signed and encrypted watchlist published on a local hub,
// synthetic travellers whose faces come from the labelled test photos,
// a recorded "camera" video and the MRZ blocks a simulated scanner sends
// in step with it.
//
// Prepare is deterministic for a given seed, photo set and model: the same
// travellers, roles, documents and watchlist records come out every time
// (keys and certificates are fresh random material, as they must be).
// Before it returns it installs the bundle it built into a scratch store
// through the unit's own verification path and checks every traveller
// against it, so a demo never starts with a designed hit that does not
// hit or a clear traveller that does.
//
// Feed sends each traveller's MRZ to the scanner port while the looping
// video shows that traveller, reading the camera's frame counter from the
// daemon's admin socket.
//
// Ownership: everything Prepare writes lives under Options.Dir (keys 0600
// in a 0700 directory). The travellers are made up, but they are shown as
// personal data would be: nothing here logs names, document numbers,
// images or embeddings; printed summaries carry indexes and roles only.
package demo
