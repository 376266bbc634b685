// Package lds parses the files of an eMRTD's Logical Data Structure
// (ICAO Doc 9303 Part 10): EF.COM, DG1 (the chip's MRZ), DG2 (the face,
// ISO/IEC 19794-5 inside a CBEFF biometric information template), DG11
// and DG12 (additional personal and document details), DG14 and
// EF.CardAccess (security infos for PACE and Chip Authentication) and
// DG15 (the Active Authentication public key).
//
// Every parser takes untrusted bytes read from a chip or a dump file: it
// never panics, bounds every length by the input, and reports what is
// malformed. Parsing says nothing about authenticity: that is passive
// authentication's job (package pa).
package lds
