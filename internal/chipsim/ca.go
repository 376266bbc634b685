package chipsim

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/asn1"
	"fmt"
	"io"

	"github.com/checkpoint-edge/checkpoint/internal/chipsim/ecc"
	"github.com/checkpoint-edge/checkpoint/internal/chipsim/lds"
)

// Chip Authentication version 1 with ECDH (Doc 9303 Part 11 §6.2, BSI
// TR-03110 Part 1 §3.4): after BAC or PACE the terminal sends an ephemeral
// key, the chip agrees a secret with its static DG14 key, and secure
// messaging restarts with keys derived from it. A clone without the private
// key cannot follow.

// caProtocol is one ChipAuthenticationInfo of DG14.
type caProtocol struct {
	oid    asn1.ObjectIdentifier
	cipher cipherKind
	keyLen int
	keyID  int // -1 when DG14 gives none
}

type caKey struct {
	key       *ecc.PrivateKey
	protocols []caProtocol
}

// newCAKey checks the key against DG14 and learns the announced protocols.
func newCAKey(k any, dg14 []byte, clone bool, r io.Reader) (*caKey, error) {
	var key *ecc.PrivateKey
	switch k := k.(type) {
	case *ecc.PrivateKey:
		key = k
	case *ecdsa.PrivateKey:
		var err error
		if key, err = ecc.FromECDSA(k); err != nil {
			return nil, fmt.Errorf("%w: CA key: %v", ErrConfig, err)
		}
	default:
		return nil, fmt.Errorf("%w: CA key of type %T (want an EC key)", ErrConfig, k)
	}
	if dg14 == nil {
		return nil, fmt.Errorf("%w: a CA key without DG14", ErrConfig)
	}
	t, _, err := lds.ParseTLV(dg14)
	if err != nil || t.Tag != 0x6E {
		return nil, fmt.Errorf("%w: DG14 is not a 6E template", ErrConfig)
	}
	infos, err := lds.ParseSecurityInfos(t.Value)
	if err != nil {
		return nil, fmt.Errorf("%w: DG14: %v", ErrConfig, err)
	}
	ca := &caKey{key: key}
	keyMatches := false
	for _, si := range infos {
		switch {
		case lds.HasPrefix(si.Protocol, lds.OIDCAECDH) && len(si.Protocol) == len(lds.OIDCAECDH)+1:
			kind, keyLen, ok := suiteCipher(si.Protocol[len(lds.OIDCAECDH)])
			if !ok {
				return nil, fmt.Errorf("%w: DG14 ChipAuthenticationInfo %v: unknown suite", ErrConfig, si.Protocol)
			}
			id := -1
			if v, ok := lds.IntValue(si.Optional); ok {
				id = v
			}
			ca.protocols = append(ca.protocols, caProtocol{si.Protocol, kind, keyLen, id})
		case si.Protocol.Equal(lds.OIDPKECDH):
			c, p, err := ecc.ParsePKIX(si.Required.FullBytes)
			if err != nil {
				return nil, fmt.Errorf("%w: DG14 ChipAuthenticationPublicKeyInfo: %v", ErrConfig, err)
			}
			if c == key.Curve && p.Equal(key.Public) {
				keyMatches = true
			}
		}
	}
	if len(ca.protocols) == 0 {
		return nil, fmt.Errorf("%w: DG14 announces no ECDH Chip Authentication", ErrConfig)
	}
	if !keyMatches {
		return nil, fmt.Errorf("%w: the CA key is not the one in DG14", ErrConfig)
	}
	if clone {
		if ca.key, err = ecc.GenerateKey(key.Curve, r); err != nil {
			return nil, err
		}
	}
	return ca, nil
}

func (ca *caKey) find(oid []byte, keyID []byte) *caProtocol {
	for i := range ca.protocols {
		p := &ca.protocols[i]
		enc, _ := asn1.Marshal(p.oid)
		if oid != nil && !bytes.Equal(enc[2:], oid) {
			continue
		}
		if keyID != nil && (p.keyID < 0 || !bytes.Equal(keyID, intBytes(p.keyID))) {
			continue
		}
		return p
	}
	return nil
}

// intBytes is the minimal big-endian encoding of a key reference.
func intBytes(v int) []byte {
	if v == 0 {
		return []byte{0}
	}
	var out []byte
	for ; v > 0; v >>= 8 {
		out = append([]byte{byte(v)}, out...)
	}
	return out
}

// mseSetATCA is MSE:Set AT for Chip Authentication (AES): 80 protocol
// OID, optional 84 key reference; GENERAL AUTHENTICATE follows.
func (c *Card) mseSetATCA(cmd Command, secured bool) ([]byte, uint16) {
	if !secured {
		return nil, swSecurityStatus
	}
	if c.ca == nil {
		return nil, swRefDataNotFound
	}
	items, err := lds.ParseTLVs(cmd.Data)
	if err != nil {
		return nil, swWrongData
	}
	var oid, keyID []byte
	for _, it := range items {
		switch it.Tag {
		case 0x80:
			oid = it.Value
		case 0x84:
			keyID = it.Value
		default:
			return nil, swWrongData
		}
	}
	if oid == nil {
		return nil, swWrongData
	}
	p := c.ca.find(oid, keyID)
	if p == nil {
		return nil, swRefDataNotFound
	}
	c.caSel = p
	c.pace = nil
	return nil, swOK
}

// mseSetKAT is MSE:Set KAT (3DES Chip Authentication): 91 ephemeral public
// key, optional 84 key reference; the key agreement happens at once.
func (c *Card) mseSetKAT(cmd Command, secured bool) ([]byte, uint16) {
	if !secured {
		return nil, swSecurityStatus
	}
	if c.ca == nil {
		return nil, swRefDataNotFound
	}
	items, err := lds.ParseTLVs(cmd.Data)
	if err != nil {
		return nil, swWrongData
	}
	var pk, keyID []byte
	for _, it := range items {
		switch it.Tag {
		case 0x91:
			pk = it.Value
		case 0x84:
			keyID = it.Value
		default:
			return nil, swWrongData
		}
	}
	// Set KAT is the 3DES form; prefer a 3DES protocol of that key.
	var p *caProtocol
	for i := range c.ca.protocols {
		q := &c.ca.protocols[i]
		if keyID != nil && (q.keyID < 0 || !bytes.Equal(keyID, intBytes(q.keyID))) {
			continue
		}
		if p == nil || (q.cipher == cipher3DES && p.cipher != cipher3DES) {
			p = q
		}
	}
	if p == nil || pk == nil {
		return nil, swWrongData
	}
	return nil, c.caAgree(p, pk)
}

// caGeneralAuthenticate takes 7C { 80 ephemeral public key } and answers an
// empty 7C.
func (c *Card) caGeneralAuthenticate(dyn []byte, secured bool) ([]byte, uint16) {
	p := c.caSel
	c.caSel = nil
	if !secured {
		return nil, swSecurityStatus
	}
	items, err := lds.ParseTLVs(dyn)
	if err != nil || len(items) != 1 || items[0].Tag != 0x80 {
		return nil, swWrongData
	}
	if sw := c.caAgree(p, items[0].Value); sw != swOK {
		return nil, sw
	}
	return []byte{0x7C, 0x00}, swOK
}

// caAgree derives the new session keys; they take effect after the answer.
func (c *Card) caAgree(p *caProtocol, pkPCD []byte) uint16 {
	curve := c.ca.key.Curve
	pk, err := curve.Unmarshal(pkPCD)
	if err != nil {
		return swWrongData
	}
	k, err := curve.ECDH(c.ca.key.D, pk)
	if err != nil {
		return swWrongData
	}
	bs := 16
	if p.cipher == cipher3DES {
		bs = 8
	}
	sm, err := newSM(p.cipher, kdf(k, 1, p.cipher, p.keyLen), kdf(k, 2, p.cipher, p.keyLen), make([]byte, bs))
	if err != nil {
		return swNoPreciseDiagnosis
	}
	c.pendingSM = sm
	c.count(func(s *statsCounters) { s.caCompletions++ })
	return swOK
}
