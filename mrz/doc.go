// Package mrz parses, checks, repairs and generates the machine-readable
// zones of ICAO Doc 9303 travel documents: TD1 (3×30), TD2 (2×36),
// TD3 passports (2×44) and machine-readable visas MRV-A (2×44) and
// MRV-B (2×36).
//
// Parse never panics and never returns nil: whatever the scanner delivered,
// the caller gets a Document with every field that could be read, the
// validity of each field, and a list of Problems. Document.Valid is true
// only when no Problem has severity "error"; warnings (an unknown country
// code, a truncated name, an expired document, unknown date parts) are
// reported but do not make the MRZ invalid.
//
// OCR repair is opt-in (Options.Autocorrect). It only changes characters
// where the field type (numeric, alphabetic) or the check digits leave a
// single answer, and it lists every change in Document.Corrections. Without
// it the input is never changed.
//
// Ownership: a Document's strings are substrings of the lines passed to
// Parse (no copies on the hot path); a Document must be used through its
// pointer, because its slices share storage embedded in the Document.
// ParseInto lets a caller reuse one Document across parses without
// allocating; the previous result is overwritten.
//
// The package holds no personal data beyond the Document it returns and
// never logs.
package mrz
