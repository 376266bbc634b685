package chipsim

import (
	"crypto/aes"
	"crypto/cipher"
	"fmt"

	"github.com/checkpoint-edge/checkpoint/internal/chipsim/lds"
)

// smSession is the chip's side of secure messaging (Doc 9303 Part 11 §9.8):
// 3DES with retail MAC after BAC (or 3DES PACE), AES with CMAC after AES
// PACE or Chip Authentication. The send sequence counter is incremented
// before each command is checked and before each response is protected.
type smSession struct {
	kind       cipherKind
	kmac       []byte
	enc        cipher.Block
	ssc        []byte
	blockSize  int
	responses  int // responses protected so far
	badMACFrom int // fault: first response (1-based) with a corrupt MAC; 0 off
}

func newSM(kind cipherKind, kenc, kmac, ssc []byte) (*smSession, error) {
	s := &smSession{kind: kind, kmac: kmac}
	var err error
	switch kind {
	case cipher3DES:
		s.enc, err = tdes(kenc)
		s.blockSize = 8
	case cipherAES:
		s.enc, err = aes.NewCipher(kenc)
		s.blockSize = 16
	}
	if err != nil {
		return nil, err
	}
	if len(ssc) != s.blockSize {
		return nil, fmt.Errorf("SSC of %d bytes, want %d", len(ssc), s.blockSize)
	}
	s.ssc = append([]byte(nil), ssc...)
	return s, nil
}

func (s *smSession) incSSC() {
	for i := len(s.ssc) - 1; i >= 0; i-- {
		s.ssc[i]++
		if s.ssc[i] != 0 {
			return
		}
	}
}

// iv is zero for 3DES; for AES it is E(KSenc, SSC) (§9.8.6.3).
func (s *smSession) iv() []byte {
	iv := make([]byte, s.blockSize)
	if s.kind == cipherAES {
		s.enc.Encrypt(iv, s.ssc)
	}
	return iv
}

// mac computes the 8-byte MAC of pad(SSC || m).
func (s *smSession) mac(m []byte) []byte {
	n := pad(append(append([]byte(nil), s.ssc...), m...), s.blockSize)
	var out []byte
	if s.kind == cipherAES {
		out, _ = aesCMAC(s.kmac, n)
	} else {
		out, _ = retailMAC(s.kmac, n)
	}
	return out[:8]
}

// unwrap checks and decrypts a protected command. On error it returns the
// status word to send in the clear (6987 or 6988); the caller then ends the
// session.
func (s *smSession) unwrap(c Command) (Command, uint16) {
	items, err := lds.ParseTLVs(c.Data)
	if err != nil {
		return Command{}, swSMIncorrect
	}
	var cryptogram, le, cc []byte
	var odd, haveLe bool
	m := pad([]byte{c.CLA, c.INS, c.P1, c.P2}, s.blockSize)
	for _, it := range items {
		switch it.Tag {
		case 0x87, 0x85:
			if cryptogram != nil || haveLe || cc != nil {
				return Command{}, swSMIncorrect
			}
			cryptogram, odd = it.Value, it.Tag == 0x85
			m = append(m, it.Raw...)
		case 0x97:
			if haveLe || cc != nil {
				return Command{}, swSMIncorrect
			}
			le, haveLe = it.Value, true
			m = append(m, it.Raw...)
		case 0x8E:
			if cc != nil {
				return Command{}, swSMIncorrect
			}
			cc = it.Value
		default:
			return Command{}, swSMIncorrect
		}
	}
	if cc == nil {
		return Command{}, swSMMissing
	}
	s.incSSC()
	if len(cc) != 8 || !macEqual(cc, s.mac(m)) {
		return Command{}, swSMIncorrect
	}
	inner := Command{CLA: c.CLA &^ 0x0C, INS: c.INS, P1: c.P1, P2: c.P2}
	if cryptogram != nil {
		ct := cryptogram
		if !odd {
			if len(ct) < 1 || ct[0] != 0x01 {
				return Command{}, swSMIncorrect
			}
			ct = ct[1:]
		}
		pt, err := cbcDecrypt(s.enc, s.iv(), ct)
		if err != nil {
			return Command{}, swSMIncorrect
		}
		if inner.Data, err = unpad(pt); err != nil {
			return Command{}, swSMIncorrect
		}
	}
	if haveLe {
		switch len(le) {
		case 1:
			inner.Ne = shortNe(le[0])
		case 2:
			inner.Ne = extNe(le[0], le[1])
			inner.Extended = true
		default:
			return Command{}, swSMIncorrect
		}
	}
	if len(inner.Data) > 255 {
		inner.Extended = true
	}
	return inner, 0
}

// wrap protects a response: [DO'87' or DO'85'] DO'99' DO'8E', then the
// status word in the clear. DO'85' (a cryptogram without padding
// indicator) answers odd INS codes, whose data is BER-TLV.
func (s *smSession) wrap(ins byte, data []byte, sw uint16) []byte {
	s.incSSC()
	s.responses++
	var out []byte
	if len(data) > 0 {
		ct := cbcEncrypt(s.enc, s.iv(), pad(data, s.blockSize))
		if ins&1 == 1 {
			out = lds.EncodeTLV(0x85, ct)
		} else {
			out = lds.EncodeTLV(0x87, []byte{0x01}, ct)
		}
	}
	out = append(out, 0x99, 0x02, byte(sw>>8), byte(sw))
	cc := s.mac(out)
	if s.badMACFrom > 0 && s.responses >= s.badMACFrom {
		cc[0] ^= 0x5A
	}
	out = append(out, lds.EncodeTLV(0x8E, cc)...)
	return appendSW(out, sw)
}
