package emrtd

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"io"

	"github.com/checkpoint-edge/checkpoint/emrtd/sm"
)

// bac runs Basic Access Control (9303-11 §4.3) and installs the session.
func (c *conn) bac(ctx context.Context, k Key, rnd io.Reader) error {
	if rnd == nil {
		rnd = rand.Reader
	}
	seed := k.seed()[:16]
	kenc, kmac := sm.KDF(seed, sm.CounterEnc, sm.TDES), sm.KDF(seed, sm.CounterMAC, sm.TDES)
	c.sm = nil
	rndIC, err := c.ok(ctx, "BAC get challenge", sm.Command{INS: 0x84, Ne: 8})
	if err != nil {
		return err
	}
	if len(rndIC) != 8 {
		return fmt.Errorf("BAC: %w: challenge of %d bytes", ErrProtocol, len(rndIC))
	}
	buf := make([]byte, 24)
	if _, err := io.ReadFull(rnd, buf); err != nil {
		return err
	}
	rndIFD, kIFD := buf[:8], buf[8:24]
	s := append(append(append([]byte{}, rndIFD...), rndIC...), kIFD...)
	eifd, err := sm.Encrypt(sm.TDES, kenc, nil, s)
	if err != nil {
		return err
	}
	mifd, _ := sm.RetailMAC(kmac, sm.Pad(eifd, 8))
	resp, err := c.ok(ctx, "BAC external authenticate", sm.Command{INS: 0x82, Data: append(eifd, mifd...), Ne: 40})
	if err != nil {
		if swIs(err, 0x6300, 0x6982, 0x6A80, 0x6988) {
			return fmt.Errorf("%w (BAC: %v)", ErrAccessDenied, err)
		}
		return err
	}
	if len(resp) != 40 {
		return fmt.Errorf("BAC: %w: answer of %d bytes", ErrProtocol, len(resp))
	}
	mic, _ := sm.RetailMAC(kmac, sm.Pad(resp[:32], 8))
	if subtle.ConstantTimeCompare(mic, resp[32:]) != 1 {
		return fmt.Errorf("BAC: %w: chip's cryptogram MAC does not verify", ErrProtocol)
	}
	r, err := sm.Decrypt(sm.TDES, kenc, nil, resp[:32])
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(r[0:8], rndIC) != 1 || subtle.ConstantTimeCompare(r[8:16], rndIFD) != 1 {
		return fmt.Errorf("BAC: %w: chip's cryptogram does not answer our challenge", ErrProtocol)
	}
	kIC := r[16:32]
	kseed := make([]byte, 16)
	subtle.XORBytes(kseed, kIFD, kIC)
	ssc := append(append([]byte{}, rndIC[4:8]...), rndIFD[4:8]...)
	c.sm = sm.New(sm.TDES, kseed, ssc)
	return nil
}
