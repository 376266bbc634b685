package lds

import (
	"encoding/asn1"
	"fmt"
)

// Object identifiers of BSI TR-03110 Part 3 (PACE, Chip Authentication)
// and Doc 9303 Parts 10–12.
var (
	// OIDPACE is id-PACE; a PACE protocol is id-PACE.mapping.suite.
	OIDPACE = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 2, 2, 4}
	// OIDCAECDH is id-CA-ECDH; a protocol is id-CA-ECDH.suite.
	OIDCAECDH = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 2, 2, 3, 2}
	// OIDPKECDH is id-PK-ECDH, the protocol of
	// ChipAuthenticationPublicKeyInfo.
	OIDPKECDH = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 2, 2, 1, 2}
	// OIDAAProtocol is id-icao-mrtd-security-aaProtocolObject, the protocol
	// of ActiveAuthenticationInfo in DG14.
	OIDAAProtocol = asn1.ObjectIdentifier{2, 23, 136, 1, 1, 5}
	// OIDECDSAPlain is ecdsa-plain-signatures (BSI TR-03111); .1 SHA-1,
	// .2 SHA-224, .3 SHA-256, .4 SHA-384, .5 SHA-512.
	OIDECDSAPlain = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 1, 1, 4, 1}
	// OIDLDSSecurityObject is id-icao-mrtd-security-ldsSecurityObject, the
	// content type of EF.SOD.
	OIDLDSSecurityObject = asn1.ObjectIdentifier{2, 23, 136, 1, 1, 1}
	// OIDCSCAMasterList is id-icao-cscaMasterList, the content type of a
	// CSCA master list.
	OIDCSCAMasterList = asn1.ObjectIdentifier{2, 23, 136, 1, 1, 2}
	// OIDMasterListSigner is id-icao-cscaMasterListSigningKey, the
	// extended key usage of a master list signer certificate.
	OIDMasterListSigner = asn1.ObjectIdentifier{2, 23, 136, 1, 1, 3}
	// OIDDocumentTypeList is id-icao-mrtd-security-extensions-
	// documentTypeList, the document type extension of DS certificates.
	OIDDocumentTypeList = asn1.ObjectIdentifier{2, 23, 136, 1, 1, 6, 2}
)

// PACE mappings (the 10th arc of id-PACE-*).
const (
	PACEDHGM   = 1
	PACEECDHGM = 2
	PACEDHIM   = 3
	PACEECDHIM = 4
	PACEECDHCM = 6
)

// Symmetric suites (the last arc of id-PACE-* and id-CA-*).
const (
	Suite3DES   = 1
	SuiteAES128 = 2
	SuiteAES192 = 3
	SuiteAES256 = 4
)

// PACEOID returns id-PACE-ECDH-GM-<suite>.
func PACEOID(suite int) asn1.ObjectIdentifier {
	return append(append(asn1.ObjectIdentifier{}, OIDPACE...), PACEECDHGM, suite)
}

// CAOID returns id-CA-ECDH-<suite>.
func CAOID(suite int) asn1.ObjectIdentifier {
	return append(append(asn1.ObjectIdentifier{}, OIDCAECDH...), suite)
}

// ECDSAPlainOID returns ecdsa-plain-SHAx for an arc 1…5.
func ECDSAPlainOID(arc int) asn1.ObjectIdentifier {
	return append(append(asn1.ObjectIdentifier{}, OIDECDSAPlain...), arc)
}

// HasPrefix reports whether oid starts with prefix and is longer.
func HasPrefix(oid, prefix asn1.ObjectIdentifier) bool {
	return len(oid) > len(prefix) && oid[:len(prefix)].Equal(prefix)
}

// SecurityInfo is SecurityInfo ::= SEQUENCE { protocol OBJECT IDENTIFIER,
// requiredData ANY, optionalData ANY OPTIONAL } (Doc 9303 Part 11 §9.2).
type SecurityInfo struct {
	Protocol asn1.ObjectIdentifier
	Required asn1.RawValue
	Optional asn1.RawValue `asn1:"optional"`
}

// ParseSecurityInfos decodes SecurityInfos ::= SET OF SecurityInfo, the
// content of EF.CardAccess and of DG14 (inside its 6E template).
func ParseSecurityInfos(der []byte) ([]SecurityInfo, error) {
	var raws []asn1.RawValue
	rest, err := asn1.UnmarshalWithParams(der, &raws, "set")
	if err != nil {
		return nil, fmt.Errorf("SecurityInfos: %w", err)
	}
	if len(rest) > 0 {
		return nil, fmt.Errorf("SecurityInfos: %d bytes after the SET", len(rest))
	}
	out := make([]SecurityInfo, 0, len(raws))
	for _, r := range raws {
		var si SecurityInfo
		if rest, err := asn1.Unmarshal(r.FullBytes, &si); err != nil || len(rest) > 0 {
			return nil, fmt.Errorf("SecurityInfo: %v", err)
		}
		out = append(out, si)
	}
	return out, nil
}

// MarshalSecurityInfos encodes SecurityInfos from DER-encoded SecurityInfo
// elements (the SET is sorted as DER requires).
func MarshalSecurityInfos(infos ...[]byte) ([]byte, error) {
	raws := make([]asn1.RawValue, len(infos))
	for i, der := range infos {
		raws[i] = asn1.RawValue{FullBytes: der}
	}
	return asn1.MarshalWithParams(raws, "set")
}

// IntValue decodes an INTEGER RawValue.
func IntValue(r asn1.RawValue) (int, bool) {
	if r.Class != asn1.ClassUniversal || r.Tag != asn1.TagInteger {
		return 0, false
	}
	var v int
	if _, err := asn1.Unmarshal(r.FullBytes, &v); err != nil {
		return 0, false
	}
	return v, true
}
