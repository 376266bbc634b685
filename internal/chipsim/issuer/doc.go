// Package issuer plays the issuing state for tests and the demo: it
// personalises emulated chips (package chipsim) and runs a test PKI. It is
// never used in production.
//
// # The document (Issue)
//
// Issue turns a Traveller (MRZ fields, face image, optional DG11/DG12
// details) and a document signer into the logical data structure of Doc
// 9303 Part 10: EF.COM, DG1 (the MRZ), DG2 (the face in an ISO/IEC 19794-5
// record inside the CBEFF templates; JPEG or JPEG 2000), DG11, DG12, DG14
// (ChipAuthenticationInfo, ChipAuthenticationPublicKeyInfo, PACEInfo,
// ActiveAuthenticationInfo for ECDSA), DG15 (the Active Authentication
// public key), EF.CardAccess (PACEInfo) and EF.SOD: a CMS SignedData over
// the LDS security object (SHA-256 data-group hashes by default) signed by
// the document signer with RSA PKCS#1 v1.5, RSA-PSS or ECDSA, the DS
// certificate included. The chip's private keys (AA, CA) are generated and
// returned with the files.
//
// Tamper options make the negative cases: a data group altered after
// signing, unknown tags (signed, so that a reader must skip them), an
// oversized DG2 (signed), a missing hash.
//
// # The PKI (NewCSCA, NewDS, ...)
//
// A CSCA is self-signed with keyCertSign and cRLSign; a DS certificate has
// digitalSignature and optionally the ICAO document type extension; a link
// certificate carries a new CSCA key under the old CSCA's signature; a CRL
// revokes DS certificates; a master list is a CMS SignedData of content type
// id-icao-cscaMasterList (2.23.136.1.1.2) signed by a master-list signer
// issued by the CSCA. Bad material for negative tests: an expired DS, a DS
// under an unknown CSCA, a revoked DS, and a rogue CSCA with the same
// subject name and serial number as a trusted one (a reader that chains by
// name instead of by signature accepts its DS).
//
// Everything is verifiable by OpenSSL (`openssl cms -verify`), which the
// tests use as an independent check.
package issuer
