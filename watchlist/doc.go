// Package watchlist is the local, encrypted copy of the watchlists a
// Checkpoint unit checks travellers against: lost, stolen and revoked
// documents (SLTD scale: 100 million), listed persons and their face
// templates.
//
// Storage is one bbolt file. Every value is sealed (internal/seal, AEAD) under
// a random data key with its bucket and key as associated data, so a record
// cannot be moved to another place; the data key is stored wrapped by a
// key-encryption key from a seal.KeyProvider and RotateKEK re-wraps it without
// touching the records. Lookup keys are blind indexes: truncated HMACs, under
// a key derived from the data key, of normalised values (issuing state and
// document number, name tokens and phonetic keys, person ids). The file alone
// reveals no names, numbers or ids.
//
// A watchlist version lives in a generation bucket. ReplaceAll builds a new
// generation beside the installed one (large imports are sorted through
// partitioned spill files holding only sealed values and blind keys, then
// appended to bbolt in key order) and flips a pointer in one final
// transaction; ApplyDelta changes the installed generation in one
// transaction after checking the resulting state hash. Readers therefore see
// the old or the new version, never a mix; a crash leaves a half-built
// generation that Open deletes.
//
// Person records come in two formats (FORMAT.md): format 1 with one date of
// birth and nationality, and format 2 with every date of birth, name (graded
// strong or weak, in its original script), nationality, place of birth,
// identity document and list reference the lists give. Both are read; a
// format-1 record encodes and digests as it always did.
//
// ScreenPerson and ScreenPersons screen travellers known without a scanned
// document (API/PNR passengers, batch files) through the same matcher and
// thresholds as Check; ScreenBatch does it for JSON Lines, as `checkpointctl
// watchlist search --batch` and the daemon's admin socket serve it.
//
// A record that fails authentication is reported as an *IntegrityError for
// that record (errors.Is ErrIntegrity), counted and signalled through
// Options.OnIntegrity and Alarms; the store keeps serving the rest.
//
// Ownership: a Store is safe for concurrent use by many readers and one
// writer at a time (writers are serialised internally). The owner must Close
// it; Close is idempotent. Results returned (hits, alerts, person summaries)
// hold personal data for the officer's screen: the store never logs them and
// neither may callers. Options.Logger receives only counts, durations and
// generation numbers.
package watchlist
