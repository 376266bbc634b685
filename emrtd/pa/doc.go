// Package pa is passive authentication (ICAO Doc 9303 Part 11 §5.1 and
// Part 12): the document security object (EF.SOD, a CMS SignedData over
// the LDS security object) is verified with its document signer (DS)
// certificate, the DS certificate is chained to a country signing CA
// (CSCA) certificate of the issuing state by signature, validity periods,
// key usages and revocation lists are checked, and the hash of every data
// group read is compared with the signed one.
//
// Each step is reported on its own (Result.Steps), so that an officer or
// a technician sees which step failed and for which data group. The
// outcome is Valid, Invalid (a step failed) or NotVerifiable (no CSCA of
// the issuing state is trusted: the signature may well be genuine, we
// cannot tell).
//
// Chaining is by signature only. Subject names, serial numbers and key
// identifiers only pick candidates; a CSCA is the issuer of a DS
// certificate when its key verifies the DS certificate's signature. A
// rogue CSCA copying a trusted CSCA's subject and serial number therefore
// anchors nothing.
//
// Trust anchors live in a Store, filled atomically from ICAO master lists
// (CMS-signed lists of CSCA certificates), folders of certificates and
// CRLs, or sets delivered by the trust bundle channel.
package pa
