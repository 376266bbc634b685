package chipsim

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha1"
	"encoding/asn1"
	"fmt"
	"math/big"

	"github.com/checkpoint-edge/checkpoint/internal/chipsim/ecc"
	"github.com/checkpoint-edge/checkpoint/internal/chipsim/lds"
)

// PACE version 2 with ECDH Generic Mapping, the chip's side (Doc 9303 Part
// 11 §4.4, BSI TR-03110 Part 2 §3.2 and Part 3 §B).

// paceInfo is one PACEInfo of EF.CardAccess that the chip runs.
type paceInfo struct {
	oid    asn1.ObjectIdentifier
	curve  *ecc.Curve
	cipher cipherKind
	keyLen int
}

// parsePACEInfos reads EF.CardAccess. Every PACEInfo must be one the
// emulator implements (ECDH-GM on a curve of package ecc): a chip that
// announced a protocol it cannot run would fail readers for no reason.
func parsePACEInfos(der []byte) ([]paceInfo, error) {
	infos, err := lds.ParseSecurityInfos(der)
	if err != nil {
		return nil, err
	}
	var out []paceInfo
	for _, si := range infos {
		if !lds.HasPrefix(si.Protocol, lds.OIDPACE) {
			continue
		}
		if len(si.Protocol) != len(lds.OIDPACE)+2 {
			continue // PACEDomainParameterInfo and the like
		}
		version, ok := lds.IntValue(si.Required)
		if !ok || version != 2 {
			return nil, fmt.Errorf("PACEInfo %v: version must be 2", si.Protocol)
		}
		mapping, suite := si.Protocol[len(lds.OIDPACE)], si.Protocol[len(lds.OIDPACE)+1]
		if mapping != lds.PACEECDHGM {
			return nil, fmt.Errorf("PACEInfo %v: only ECDH Generic Mapping is emulated", si.Protocol)
		}
		kind, keyLen, ok := suiteCipher(suite)
		if !ok {
			return nil, fmt.Errorf("PACEInfo %v: unknown cipher suite", si.Protocol)
		}
		id, ok := lds.IntValue(si.Optional)
		if !ok {
			return nil, fmt.Errorf("PACEInfo %v: parameterId missing (proprietary domain parameters are not emulated)", si.Protocol)
		}
		curve := ecc.ByPACEID(id)
		if curve == nil {
			return nil, fmt.Errorf("PACEInfo %v: domain parameters %d are not emulated", si.Protocol, id)
		}
		out = append(out, paceInfo{oid: si.Protocol, curve: curve, cipher: kind, keyLen: keyLen})
	}
	return out, nil
}

// paceState follows one PACE run through its GENERAL AUTHENTICATE steps.
type paceState struct {
	info     paceInfo
	password []byte // π
	step     int    // the next GENERAL AUTHENTICATE expected, 1…4
	nonce    *big.Int
	mapPCD   ecc.Point
	gen      ecc.Point // the mapped generator Ĝ
	skEph    *big.Int
	pkEph    ecc.Point // the chip's ephemeral public key
	pkEphPCD ecc.Point
	ksEnc    []byte
	ksMac    []byte
}

// manageSecurityEnvironment is MSE:Set AT for PACE (P1P2 C1A4) and for Chip
// Authentication (41A4), and MSE:Set KAT for 3DES Chip Authentication
// (41A6).
func (c *Card) manageSecurityEnvironment(cmd Command, secured bool) ([]byte, uint16) {
	switch {
	case cmd.P1 == 0xC1 && cmd.P2 == 0xA4:
		return c.mseSetATPACE(cmd)
	case cmd.P1 == 0x41 && cmd.P2 == 0xA4:
		return c.mseSetATCA(cmd, secured)
	case cmd.P1 == 0x41 && cmd.P2 == 0xA6:
		return c.mseSetKAT(cmd, secured)
	}
	return nil, swWrongP1P2
}

func (c *Card) mseSetATPACE(cmd Command) ([]byte, uint16) {
	c.pace = nil
	items, err := lds.ParseTLVs(cmd.Data)
	if err != nil {
		return nil, swWrongData
	}
	var oid, ref, param []byte
	for _, it := range items {
		switch it.Tag {
		case 0x80:
			oid = it.Value
		case 0x83:
			ref = it.Value
		case 0x84:
			param = it.Value
		case 0x7F4C, 0x67, 0x65:
			// CHAT and auxiliary data are for Terminal Authentication,
			// which an eMRTD does not need.
		default:
			return nil, swWrongData
		}
	}
	if oid == nil || len(ref) != 1 {
		return nil, swWrongData
	}
	var info *paceInfo
	for i := range c.paceInfos {
		in := &c.paceInfos[i]
		enc, _ := asn1.Marshal(in.oid)
		if bytes.Equal(enc[2:], oid) && (param == nil || (len(param) == 1 && int(param[0]) == in.curve.PACEID)) {
			info = in
			break
		}
	}
	if info == nil {
		return nil, swRefDataNotFound
	}
	var pw []byte
	switch ref[0] {
	case 0x01: // MRZ: π = SHA-1(MRZ_information)
		h := sha1.Sum([]byte(c.cfg.MRZ.Information()))
		pw = h[:]
	case 0x02: // CAN
		if c.cfg.CAN == "" {
			return nil, swRefDataNotFound
		}
		pw = []byte(c.cfg.CAN)
	default: // PIN and PUK belong to other documents
		return nil, swRefDataNotFound
	}
	c.pace = &paceState{info: *info, password: pw, step: 1}
	return nil, swOK
}

// generalAuthenticate runs PACE steps 1–4, or Chip Authentication after
// MSE:Set AT with a CA protocol.
func (c *Card) generalAuthenticate(cmd Command, secured bool) ([]byte, uint16) {
	if cmd.P1 != 0 || cmd.P2 != 0 {
		return nil, swWrongP1P2
	}
	dyn, rest, err := lds.ParseTLV(cmd.Data)
	if err != nil || dyn.Tag != 0x7C || len(rest) != 0 {
		return nil, swWrongData
	}
	if c.caSel != nil && c.pace == nil {
		return c.caGeneralAuthenticate(dyn.Value, secured)
	}
	p := c.pace
	if p == nil {
		return nil, swConditionsNotSat
	}
	data, sw := c.paceStep(p, dyn.Value)
	if sw != swOK {
		c.pace = nil
	}
	return data, sw
}

func (c *Card) paceStep(p *paceState, dyn []byte) ([]byte, uint16) {
	curve := p.info.curve
	items, err := lds.ParseTLVs(dyn)
	if err != nil {
		return nil, swWrongData
	}
	get := func(tag uint32) []byte {
		if len(items) != 1 || items[0].Tag != tag {
			return nil
		}
		return items[0].Value
	}
	switch p.step {
	case 1: // encrypted nonce
		if len(items) != 0 {
			return nil, swWrongData
		}
		bs := 16
		if p.info.cipher == cipher3DES {
			bs = 8
		}
		s := make([]byte, bs)
		if _, err := c.rand.Read(s); err != nil {
			return nil, swNoPreciseDiagnosis
		}
		kpi := kdf(p.password, 3, p.info.cipher, p.info.keyLen)
		block, err := blockCipher(p.info.cipher, kpi)
		if err != nil {
			return nil, swNoPreciseDiagnosis
		}
		z := cbcEncrypt(block, make([]byte, bs), s)
		p.nonce = new(big.Int).SetBytes(s)
		p.step = 2
		return lds.EncodeTLV(0x7C, lds.EncodeTLV(0x80, z)), swOK

	case 2: // mapping: Ĝ = s·G + SK·PK_map,PCD
		pk, err := curve.Unmarshal(get(0x81))
		if err != nil {
			return nil, swWrongData
		}
		sk, err := curve.RandomScalar(c.rand)
		if err != nil {
			return nil, swNoPreciseDiagnosis
		}
		h := curve.ScalarMult(pk, sk)
		if h.Infinity() {
			return nil, swWrongData
		}
		p.gen = curve.Add(curve.ScalarBaseMult(p.nonce), h)
		if p.gen.Infinity() {
			return nil, swWrongData
		}
		p.mapPCD = pk
		p.step = 3
		return lds.EncodeTLV(0x7C, lds.EncodeTLV(0x82, curve.Marshal(curve.ScalarBaseMult(sk)))), swOK

	case 3: // key agreement on Ĝ
		pk, err := curve.Unmarshal(get(0x83))
		if err != nil || pk.Equal(p.mapPCD) {
			return nil, swWrongData
		}
		sk, err := curve.RandomScalar(c.rand)
		if err != nil {
			return nil, swNoPreciseDiagnosis
		}
		p.skEph, p.pkEph = sk, curve.ScalarMult(p.gen, sk)
		shared := curve.ScalarMult(pk, sk)
		if shared.Infinity() {
			return nil, swWrongData
		}
		k := curve.FieldBytes(shared.X)
		p.ksEnc = kdf(k, 1, p.info.cipher, p.info.keyLen)
		p.ksMac = kdf(k, 2, p.info.cipher, p.info.keyLen)
		p.pkEphPCD = pk
		p.step = 4
		return lds.EncodeTLV(0x7C, lds.EncodeTLV(0x84, curve.Marshal(p.pkEph))), swOK

	case 4: // mutual authentication with tokens
		tPCD := get(0x85)
		c.count(func(s *statsCounters) { s.paceAttempts++ })
		want := paceToken(p.info, p.ksMac, curve.Marshal(p.pkEph))
		if len(tPCD) != 8 || !macEqual(tPCD, want) || c.faults.RefusePACE {
			return nil, swAuthFailed
		}
		tPICC := paceToken(p.info, p.ksMac, curve.Marshal(p.pkEphPCD))
		bs := 16
		if p.info.cipher == cipher3DES {
			bs = 8
		}
		sm, err := newSM(p.info.cipher, p.ksEnc, p.ksMac, make([]byte, bs))
		if err != nil {
			return nil, swNoPreciseDiagnosis
		}
		// The answer goes in the clear (the command came plain); the
		// session starts with the next command.
		c.startSM(sm, accessPACE)
		return lds.EncodeTLV(0x7C, lds.EncodeTLV(0x86, tPICC)), swOK
	}
	return nil, swConditionsNotSat
}

// paceToken is the authentication token: the MAC over the public key data
// object 7F49 { 06 protocol OID, 86 public point } (TR-03110 Part 3 §D.3.4).
func paceToken(info paceInfo, ksMac, point []byte) []byte {
	return authToken(info.cipher, ksMac, info.oid, point)
}

func authToken(kind cipherKind, ksMac []byte, oid asn1.ObjectIdentifier, point []byte) []byte {
	enc, _ := asn1.Marshal(oid)
	data := lds.EncodeTLV(0x7F49, enc, lds.EncodeTLV(0x86, point))
	if kind == cipherAES {
		m, _ := aesCMAC(ksMac, data)
		return m[:8]
	}
	m, _ := retailMAC(ksMac, pad(data, 8))
	return m
}

func blockCipher(kind cipherKind, key []byte) (cipher.Block, error) {
	if kind == cipherAES {
		return aes.NewCipher(key)
	}
	return tdes(key)
}
