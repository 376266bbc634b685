package emrtd

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/checkpoint-edge/checkpoint/emrtd/lds"
	"github.com/checkpoint-edge/checkpoint/emrtd/sm"
	"github.com/checkpoint-edge/checkpoint/emrtd/tlv"
)

// caAlg is the secure messaging suite a Chip Authentication OID names.
func caAlg(oid string) (sm.Alg, bool) { return paceAlg(oid) }

// chipAuth runs Chip Authentication v1 (9303-11 §6.2) with the DG14 key:
// an ephemeral key pair on the chip key's curve, the chip's key agreement,
// then secure messaging restarts with keys from the shared secret. A
// clone without the chip's private key cannot answer under the new keys.
func (c *conn) chipAuth(ctx context.Context, info lds.CAInfo, key lds.CAPublicKey, rnd io.Reader) error {
	alg, ok := caAlg(info.OID)
	if !ok || !strings.HasPrefix(info.OID, lds.OIDCAECDH+".") {
		return fmt.Errorf("chip authentication: %s is not supported", info.OID)
	}
	curve := key.Curve
	sk, pk, err := curve.GenerateKey(rnd, curve.G)
	if err != nil {
		return err
	}
	pub := curve.Marshal(pk)
	var kid []byte
	if key.KeyID > 0 {
		kid = tlv.Encode(0x84, []byte{byte(key.KeyID)})
	}
	if alg == sm.TDES {
		// MSE:Set KAT with the ephemeral key.
		data := append(tlv.Encode(0x91, pub), kid...)
		if _, err := c.ok(ctx, "chip authentication (MSE:Set KAT)", sm.Command{INS: 0x22, P1: 0x41, P2: 0xA6, Data: data}); err != nil {
			return err
		}
	} else {
		oid, err := oidBytes(info.OID)
		if err != nil {
			return err
		}
		if _, err := c.ok(ctx, "chip authentication (MSE:Set AT)", sm.Command{INS: 0x22, P1: 0x41, P2: 0xA4, Data: append(tlv.Encode(0x80, oid), kid...)}); err != nil {
			return err
		}
		if _, err := c.ok(ctx, "chip authentication (general authenticate)", sm.Command{INS: 0x86, Data: tlv.Encode(0x7C, tlv.Encode(0x80, pub)), Ne: 256}); err != nil {
			return err
		}
	}
	shared := curve.Mul(key.Point, sk)
	if shared.Inf() {
		return fmt.Errorf("chip authentication: %w: degenerate shared secret", ErrProtocol)
	}
	secret := shared.X.FillBytes(make([]byte, curve.Size()))
	c.sm = sm.NewWithKeys(alg, sm.KDF(secret, sm.CounterEnc, alg), sm.KDF(secret, sm.CounterMAC, alg), make([]byte, alg.BlockSize()))
	return nil
}
