package emrtd

import (
	"context"
	"crypto/subtle"
	"encoding/asn1"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"

	"github.com/checkpoint-edge/checkpoint/emrtd/ecc"
	"github.com/checkpoint-edge/checkpoint/emrtd/lds"
	"github.com/checkpoint-edge/checkpoint/emrtd/sm"
	"github.com/checkpoint-edge/checkpoint/emrtd/tlv"
)

// paceAlg returns the secure messaging suite a PACE OID names.
func paceAlg(oid string) (sm.Alg, bool) {
	switch {
	case strings.HasSuffix(oid, ".1"):
		return sm.TDES, true
	case strings.HasSuffix(oid, ".2"):
		return sm.AES128, true
	case strings.HasSuffix(oid, ".3"):
		return sm.AES192, true
	case strings.HasSuffix(oid, ".4"):
		return sm.AES256, true
	}
	return 0, false
}

// oidBytes is the DER content of an OID (what MSE:Set AT's tag 80 and the
// public key data object's tag 06 carry).
func oidBytes(oid string) ([]byte, error) {
	var ids asn1.ObjectIdentifier
	for _, p := range strings.Split(oid, ".") {
		n, err := strconv.Atoi(p)
		if err != nil {
			return nil, err
		}
		ids = append(ids, n)
	}
	der, err := asn1.Marshal(ids)
	if err != nil {
		return nil, err
	}
	return der[2:], nil
}

// paceSupported picks the PACE variant we run from those EF.CardAccess
// lists: ECDH Generic Mapping on a curve we know.
func paceSupported(infos []lds.PACEInfo) (lds.PACEInfo, *ecc.Curve, bool) {
	for _, p := range infos {
		if !p.GenericECDH() || p.Version != 2 {
			continue
		}
		if _, ok := paceAlg(p.OID); !ok {
			continue
		}
		if c := ecc.ByPACEID(p.ParameterID); c != nil {
			return p, c, true
		}
	}
	return lds.PACEInfo{}, nil, false
}

// pace runs PACE v2 with ECDH Generic Mapping (9303-11 §4.4) and installs
// the session.
func (c *conn) pace(ctx context.Context, info lds.PACEInfo, curve *ecc.Curve, k Key, rnd io.Reader) error {
	alg, _ := paceAlg(info.OID)
	oid, err := oidBytes(info.OID)
	if err != nil {
		return err
	}
	c.sm = nil
	var pw []byte
	ref := byte(1)
	if k.CAN != "" {
		pw, ref = []byte(k.CAN), 2
	} else {
		pw = k.seed()
	}
	kpi := sm.KDF(pw, sm.CounterPACE, alg)

	mse := append(tlv.Encode(0x80, oid), tlv.Encode(0x83, []byte{ref})...)
	if info.ParameterID >= 0 {
		mse = append(mse, tlv.Encode(0x84, []byte{byte(info.ParameterID)})...)
	}
	if _, err := c.ok(ctx, "PACE set authentication template", sm.Command{INS: 0x22, P1: 0xC1, P2: 0xA4, Data: mse}); err != nil {
		return err
	}
	ga := func(step string, tag uint32, data []byte, last bool) ([]byte, error) {
		cla := byte(0x10)
		if last {
			cla = 0
		}
		var body []byte
		if tag != 0 {
			body = tlv.Encode(0x7C, tlv.Encode(tag, data))
		} else {
			body = []byte{0x7C, 0x00}
		}
		resp, err := c.ok(ctx, "PACE "+step, sm.Command{CLA: cla, INS: 0x86, Data: body, Ne: 256})
		if err != nil {
			if swIs(err, 0x6300, 0x6982) || (last && swIs(err, 0x6A80)) {
				return nil, fmt.Errorf("%w (PACE %s: %v)", ErrAccessDenied, step, err)
			}
			return nil, err
		}
		t, err := tlv.Parse(resp)
		if err != nil || t.Tag != 0x7C {
			return nil, fmt.Errorf("PACE %s: %w: malformed dynamic authentication data", step, ErrProtocol)
		}
		return t.Value, nil
	}
	want := func(step string, b []byte, tag uint32) ([]byte, error) {
		t, ok, err := tlv.Find(b, tag)
		if err != nil || !ok {
			return nil, fmt.Errorf("PACE %s: %w: no tag %X", step, ErrProtocol, tag)
		}
		return t.Value, nil
	}

	// 1. Encrypted nonce.
	r, err := ga("nonce", 0, nil, false)
	if err != nil {
		return err
	}
	z, err := want("nonce", r, 0x80)
	if err != nil {
		return err
	}
	sBytes, err := sm.Decrypt(alg, kpi, nil, z)
	if err != nil {
		return fmt.Errorf("PACE nonce: %w: %w", ErrProtocol, err)
	}
	s := new(big.Int).SetBytes(sBytes)

	// 2. Generic mapping: G' = s·G + H, H = skMap·PKmap,IC.
	skMap, pkMap, err := curve.GenerateKey(rnd, curve.G)
	if err != nil {
		return err
	}
	r, err = ga("mapping", 0x81, curve.Marshal(pkMap), false)
	if err != nil {
		return err
	}
	b, err := want("mapping", r, 0x82)
	if err != nil {
		return err
	}
	pkMapIC, err := curve.Unmarshal(b)
	if err != nil {
		return fmt.Errorf("PACE mapping: %w: chip's key %w", ErrProtocol, err)
	}
	h := curve.Mul(pkMapIC, skMap)
	if h.Inf() {
		return fmt.Errorf("PACE mapping: %w: degenerate shared point", ErrProtocol)
	}
	g := curve.Add(curve.Mul(curve.G, s), h)
	if g.Inf() {
		return fmt.Errorf("PACE mapping: %w: degenerate generator", ErrProtocol)
	}

	// 3. Key agreement on G'.
	sk, pk, err := curve.GenerateKey(rnd, g)
	if err != nil {
		return err
	}
	r, err = ga("key agreement", 0x83, curve.Marshal(pk), false)
	if err != nil {
		return err
	}
	b, err = want("key agreement", r, 0x84)
	if err != nil {
		return err
	}
	pkIC, err := curve.Unmarshal(b)
	if err != nil {
		return fmt.Errorf("PACE key agreement: %w: chip's key %w", ErrProtocol, err)
	}
	if pkIC.X.Cmp(pk.X) == 0 && pkIC.Y.Cmp(pk.Y) == 0 {
		return fmt.Errorf("PACE key agreement: %w: chip reflected our key", ErrProtocol)
	}
	shared := curve.Mul(pkIC, sk)
	if shared.Inf() {
		return fmt.Errorf("PACE key agreement: %w: degenerate shared secret", ErrProtocol)
	}
	secret := shared.X.FillBytes(make([]byte, curve.Size()))
	kenc, kmac := sm.KDF(secret, sm.CounterEnc, alg), sm.KDF(secret, sm.CounterMAC, alg)

	// 4. Mutual authentication tokens over each other's keys.
	tIFD, err := paceToken(alg, kmac, oid, curve.Marshal(pkIC))
	if err != nil {
		return err
	}
	r, err = ga("mutual authentication", 0x85, tIFD, true)
	if err != nil {
		return err
	}
	tIC, err := want("mutual authentication", r, 0x86)
	if err != nil {
		return err
	}
	exp, err := paceToken(alg, kmac, oid, curve.Marshal(pk))
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(exp, tIC) != 1 {
		return fmt.Errorf("PACE: %w: chip's authentication token does not verify", ErrProtocol)
	}
	c.sm = sm.NewWithKeys(alg, kenc, kmac, make([]byte, alg.BlockSize()))
	return nil
}

// paceToken is the MAC over the public key data object (7F49 with the
// protocol OID and the other party's ephemeral point).
func paceToken(alg sm.Alg, kmac, oid, point []byte) ([]byte, error) {
	data := tlv.Encode(0x7F49, tlv.Encode(0x06, oid), tlv.Encode(0x86, point))
	if alg == sm.TDES {
		return sm.RetailMAC(kmac, sm.Pad(data, 8))
	}
	m, err := sm.CMAC(kmac, data)
	if err != nil {
		return nil, err
	}
	return m[:8], nil
}
