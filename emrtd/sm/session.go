package sm

import (
	"crypto/subtle"
	"errors"
	"fmt"

	"github.com/checkpoint-edge/checkpoint/emrtd/tlv"
)

var (
	// ErrMAC is returned when a response's MAC does not verify: the
	// session is out of step or the response was tampered with.
	ErrMAC = errors.New("sm: response MAC does not verify")
	// ErrResponse is returned for a protected response that lacks its
	// status word or MAC, or carries malformed objects.
	ErrResponse = errors.New("sm: malformed protected response")
)

// Session holds secure-messaging keys and the send-sequence counter.
type Session struct {
	Alg    Alg
	KEnc   []byte
	KMAC   []byte
	SSC    []byte // 8 bytes (3DES) or 16 bytes (AES), big-endian counter
	Broken bool   // a response failed verification: the chip dropped SM
}

// New returns a session with keys derived from secret and ssc.
func New(alg Alg, secret, ssc []byte) *Session {
	return &Session{Alg: alg, KEnc: KDF(secret, CounterEnc, alg), KMAC: KDF(secret, CounterMAC, alg), SSC: ssc}
}

// NewWithKeys returns a session with the given keys and SSC.
func NewWithKeys(alg Alg, kenc, kmac, ssc []byte) *Session {
	return &Session{Alg: alg, KEnc: kenc, KMAC: kmac, SSC: append([]byte(nil), ssc...)}
}

func (s *Session) inc() {
	for i := len(s.SSC) - 1; i >= 0; i-- {
		s.SSC[i]++
		if s.SSC[i] != 0 {
			break
		}
	}
}

func (s *Session) iv() ([]byte, error) {
	if s.Alg == TDES {
		return nil, nil
	}
	b, err := blockFor(s.Alg, s.KEnc)
	if err != nil {
		return nil, err
	}
	iv := make([]byte, 16)
	b.Encrypt(iv, s.SSC)
	return iv, nil
}

// Command is a plain command APDU.
type Command struct {
	CLA, INS, P1, P2 byte
	Data             []byte
	// Ne is the expected response length: 0 none, 1..65536; 256 or
	// 65536 mean "as much as there is" in short or extended form.
	Ne int
	// Extended forces extended length fields.
	Extended bool
}

// Bytes encodes the command (short or extended form).
func (c Command) Bytes() []byte {
	ext := c.Extended || len(c.Data) > 255 || c.Ne > 256
	out := []byte{c.CLA, c.INS, c.P1, c.P2}
	if len(c.Data) > 0 {
		if ext {
			out = append(out, 0, byte(len(c.Data)>>8), byte(len(c.Data)))
		} else {
			out = append(out, byte(len(c.Data)))
		}
		out = append(out, c.Data...)
	}
	if c.Ne > 0 {
		switch {
		case ext && len(c.Data) > 0:
			out = append(out, byte(c.Ne>>8), byte(c.Ne))
		case ext:
			out = append(out, 0, byte(c.Ne>>8), byte(c.Ne))
		default:
			out = append(out, byte(c.Ne))
		}
	}
	return out
}

// Wrap protects a command (9303-11 §9.8.5) and advances the counter.
func (s *Session) Wrap(c Command) ([]byte, error) {
	bs := s.Alg.BlockSize()
	cla := c.CLA | 0x0C
	header := Pad([]byte{cla, c.INS, c.P1, c.P2}, bs)
	var do87, do97 []byte
	if len(c.Data) > 0 {
		s.inc() // the IV uses the counter value of this command
		iv, err := s.iv()
		s.dec()
		if err != nil {
			return nil, err
		}
		enc, err := Encrypt(s.Alg, s.KEnc, iv, Pad(c.Data, bs))
		if err != nil {
			return nil, err
		}
		if c.INS&1 == 1 {
			// Odd instructions carry BER-TLV data: DO85, no padding
			// indicator (9303-11 §9.8.5).
			do87 = tlv.Encode(0x85, enc)
		} else {
			do87 = tlv.Encode(0x87, []byte{0x01}, enc)
		}
	}
	ext := c.Extended || c.Ne > 256 || len(c.Data) > 200
	if c.Ne > 0 {
		switch {
		case ext && c.Ne >= 65536:
			do97 = []byte{0x97, 0x02, 0, 0}
		case ext:
			do97 = []byte{0x97, 0x02, byte(c.Ne >> 8), byte(c.Ne)}
		case c.Ne >= 256:
			do97 = []byte{0x97, 0x01, 0}
		default:
			do97 = []byte{0x97, 0x01, byte(c.Ne)}
		}
	}
	s.inc()
	m := append(append(append([]byte{}, header...), do87...), do97...)
	mac, err := MAC(s.Alg, s.KMAC, Pad(append(append([]byte{}, s.SSC...), m...), bs))
	if err != nil {
		return nil, err
	}
	body := append(append(append([]byte{}, do87...), do97...), 0x8E, 0x08)
	body = append(body, mac...)
	pc := Command{CLA: cla, INS: c.INS, P1: c.P1, P2: c.P2, Data: body, Ne: 256, Extended: ext}
	if ext {
		pc.Ne = 65536
	}
	return pc.Bytes(), nil
}

func (s *Session) dec() {
	for i := len(s.SSC) - 1; i >= 0; i-- {
		s.SSC[i]--
		if s.SSC[i] != 0xFF {
			break
		}
	}
}

// Unwrap verifies and decrypts a protected response (data + SW) and
// returns the plain response (data + the protected SW). A chip that
// answers a protected command with a bare error status word (it dropped
// secure messaging) is returned as is, with the session marked Broken.
func (s *Session) Unwrap(resp []byte) ([]byte, error) {
	if len(resp) < 2 {
		return nil, fmt.Errorf("%w: %d bytes", ErrResponse, len(resp))
	}
	sw := resp[len(resp)-2:]
	body := resp[:len(resp)-2]
	if len(body) == 0 {
		s.Broken = true
		s.inc()
		return append([]byte(nil), sw...), nil
	}
	var do87, do99, do8e []byte
	var macd []byte
	odd := false
	rest := body
	for len(rest) > 0 {
		t, r, err := tlv.Next(rest)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrResponse, err)
		}
		switch t.Tag {
		case 0x87:
			do87 = t.Value
			macd = append(macd, t.Raw...)
		case 0x85:
			do87, odd = t.Value, true
			macd = append(macd, t.Raw...)
		case 0x99:
			do99 = t.Value
			macd = append(macd, t.Raw...)
		case 0x8E:
			do8e = t.Value
		default:
			return nil, fmt.Errorf("%w: unexpected tag %X", ErrResponse, t.Tag)
		}
		rest = r
	}
	s.inc()
	if do8e == nil || len(do99) != 2 {
		s.Broken = true
		return nil, fmt.Errorf("%w: missing MAC or status", ErrResponse)
	}
	bs := s.Alg.BlockSize()
	mac, err := MAC(s.Alg, s.KMAC, Pad(append(append([]byte{}, s.SSC...), macd...), bs))
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(mac, do8e) != 1 {
		s.Broken = true
		return nil, ErrMAC
	}
	var plain []byte
	if do87 != nil {
		ct := do87
		if !odd {
			if len(do87) < 1+bs || do87[0] != 0x01 {
				return nil, fmt.Errorf("%w: DO87", ErrResponse)
			}
			ct = do87[1:]
		}
		iv, err := s.iv()
		if err != nil {
			return nil, err
		}
		dec, err := Decrypt(s.Alg, s.KEnc, iv, ct)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrResponse, err)
		}
		if plain, err = Unpad(dec); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrResponse, err)
		}
	}
	return append(plain, do99...), nil
}
