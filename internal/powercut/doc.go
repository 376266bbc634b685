// Package powercut is a FUSE file system for crash-consistency tests: it
// passes every operation through to a backing directory and keeps, beside
// it, what a power cut would leave on disk. kill -9 keeps the page cache,
// so it never tests fsync ordering; a power cut keeps only what was made
// durable. Like bbolt's dm-flakey robustness tests, a test runs the real
// code on the mount, cuts the power at a random operation, and restarts
// from what survived.
//
// The model of durability is the strict one of POSIX (and of LazyFS):
//
//   - a file's contents are durable as of its last fsync or fdatasync;
//     writes and truncations since are lost (Options.Torn keeps a random
//     subset of them instead: a disk that wrote some pages and not others);
//   - a directory's entries (files created, renamed, linked, removed) are
//     durable as of the last fsync of that directory; a file that was
//     created and fsync'd but whose directory was not is gone;
//   - what was on the backing directory when it was mounted is durable.
//
// Cut freezes that state at a random point (the n-th mutating operation):
// from then on every operation blocks, so the program under test cannot
// acknowledge anything the cut lost. The test then kills the program,
// unmounts, and Restore writes the surviving state into a fresh directory,
// where the program is restarted.
//
// Mounting needs /dev/fuse and either root (the mount(2) call is made
// directly) or fusermount3 (Debian fuse3). Mount says clearly when the
// machine cannot mount; tests fail then under CI and skip otherwise.
//
// The package is for tests only; nothing in the daemon imports it.
package powercut
