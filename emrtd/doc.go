// Package emrtd reads and verifies the chip of an ICAO 9303 travel
// document (passport or ID card): access control with the printed MRZ
// (PACE v2 Generic Mapping when EF.CardAccess offers it, BAC otherwise)
// or the card access number, secure messaging, reading EF.COM, EF.SOD
// and the data groups (short and extended reads, resumption after a brief
// removal, per-file size limits), and the chip's clone checks: Active
// Authentication (DG15) and Chip Authentication (DG14).
//
// Read talks to a card through the small Card interface (device/chip's
// cards satisfy it) and returns a Dump: the files as read plus what only
// the live chip can show (the Active Authentication challenge and answer,
// the Chip Authentication outcome). Verify turns a Dump into a Report:
// passive authentication (package pa), Active Authentication checked
// offline from the dump, consistency of the chip's MRZ with the printed
// one, and the face image of DG2. A Dump can be saved (MarshalJSON) and
// verified later (checkpointctl chip verify).
//
// Every failure has a reason an officer can read ("chip refused access:
// MRZ does not open this chip"); no step waits without a deadline.
//
// Sub-packages: tlv (BER-TLV), sm (secure messaging crypto), ecc (NIST
// and Brainpool curves), lds (file parsers), pa (passive authentication
// and the trust store). Dumps and reports hold personal data: nothing in
// this package logs them.
package emrtd
