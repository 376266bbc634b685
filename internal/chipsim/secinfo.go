package chipsim

import (
	"encoding/asn1"
	"fmt"
)

// Object identifiers of BSI TR-03110 Part 3 and Doc 9303 Part 11 §9.2.
var (
	oidBSI    = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7}
	oidPKECDH = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 2, 2, 1, 2}
	oidCAECDH = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 2, 2, 3, 2}
	oidPACE   = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 2, 2, 4}
	// OIDAAProtocol is id-icao-mrtd-security-aaProtocolObject, the protocol
	// of ActiveAuthenticationInfo in DG14.
	OIDAAProtocol = asn1.ObjectIdentifier{2, 23, 136, 1, 1, 5}
	// oidECDSAPlain is ecdsa-plain-signatures (BSI TR-03111); .1 SHA-1,
	// .2 SHA-224, .3 SHA-256, .4 SHA-384, .5 SHA-512.
	oidECDSAPlain = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 1, 1, 4, 1}
)

// PACE mappings and key agreements (the 10th arc of id-PACE-*).
const (
	paceDHGM   = 1
	paceECDHGM = 2
	paceDHIM   = 3
	paceECDHIM = 4
	paceECDHCM = 6
)

// Symmetric suites (the last arc of id-PACE-* and id-CA-*).
const (
	suite3DES   = 1
	suiteAES128 = 2
	suiteAES192 = 3
	suiteAES256 = 4
)

// PACEOID returns id-PACE-ECDH-GM-<suite> for suite 1 (3DES), 2 (AES-128),
// 3 (AES-192) or 4 (AES-256).
func PACEOID(suite int) asn1.ObjectIdentifier {
	return append(append(asn1.ObjectIdentifier{}, oidPACE...), paceECDHGM, suite)
}

// CAOID returns id-CA-ECDH-<suite>.
func CAOID(suite int) asn1.ObjectIdentifier {
	return append(append(asn1.ObjectIdentifier{}, oidCAECDH...), suite)
}

// OIDPKECDH is id-PK-ECDH, the protocol of ChipAuthenticationPublicKeyInfo.
var OIDPKECDH = oidPKECDH

// ECDSAPlainOID returns ecdsa-plain-SHAx for an arc 1…5.
func ECDSAPlainOID(arc int) asn1.ObjectIdentifier {
	return append(append(asn1.ObjectIdentifier{}, oidECDSAPlain...), arc)
}

// suiteCipher gives the cipher and key length of a suite number.
func suiteCipher(suite int) (cipherKind, int, bool) {
	switch suite {
	case suite3DES:
		return cipher3DES, 16, true
	case suiteAES128:
		return cipherAES, 16, true
	case suiteAES192:
		return cipherAES, 24, true
	case suiteAES256:
		return cipherAES, 32, true
	}
	return 0, 0, false
}

// securityInfo is SecurityInfo ::= SEQUENCE { protocol OBJECT IDENTIFIER,
// requiredData ANY, optionalData ANY OPTIONAL }.
type securityInfo struct {
	Protocol asn1.ObjectIdentifier
	Required asn1.RawValue
	Optional asn1.RawValue `asn1:"optional"`
}

// parseSecurityInfos decodes SecurityInfos ::= SET OF SecurityInfo.
func parseSecurityInfos(der []byte) ([]securityInfo, error) {
	var raws []asn1.RawValue
	rest, err := asn1.UnmarshalWithParams(der, &raws, "set")
	if err != nil {
		return nil, fmt.Errorf("SecurityInfos: %w", err)
	}
	if len(rest) > 0 {
		return nil, fmt.Errorf("SecurityInfos: %d bytes after the SET", len(rest))
	}
	out := make([]securityInfo, 0, len(raws))
	for _, r := range raws {
		var si securityInfo
		if rest, err := asn1.Unmarshal(r.FullBytes, &si); err != nil || len(rest) > 0 {
			return nil, fmt.Errorf("SecurityInfo: %v", err)
		}
		out = append(out, si)
	}
	return out, nil
}

// hasPrefix reports whether oid starts with prefix.
func hasPrefix(oid, prefix asn1.ObjectIdentifier) bool {
	return len(oid) > len(prefix) && oid[:len(prefix)].Equal(prefix)
}

// asInt decodes an INTEGER RawValue.
func asInt(r asn1.RawValue) (int, bool) {
	if r.Class != asn1.ClassUniversal || r.Tag != asn1.TagInteger {
		return 0, false
	}
	var v int
	if _, err := asn1.Unmarshal(r.FullBytes, &v); err != nil {
		return 0, false
	}
	return v, true
}
