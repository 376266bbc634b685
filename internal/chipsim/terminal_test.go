package chipsim

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"math/big"
	"testing"

	"github.com/checkpoint-edge/checkpoint/internal/chipsim/ecc"
	"github.com/checkpoint-edge/checkpoint/internal/chipsim/lds"
)

// The test terminal: the reader's side of BAC, PACE and secure messaging,
// just enough to drive the emulated chip end to end (directly or through
// pcscd). It lives in test files only; the product's reader is elsewhere.

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// transmitter sends a raw command APDU and returns the raw response.
type transmitter func(apdu []byte) ([]byte, error)

type terminal struct {
	t  testing.TB
	tx transmitter
	sm *termSM
}

// termSM is the terminal's half of secure messaging.
type termSM struct {
	aes        bool
	enc        cipher.Block
	kenc, kmac []byte
	ssc        []byte
	bs         int
}

func newTermSM(t testing.TB, useAES bool, kenc, kmac, ssc []byte) *termSM {
	s := &termSM{aes: useAES, kenc: kenc, kmac: kmac, ssc: bytes.Clone(ssc)}
	var err error
	if useAES {
		s.enc, err = aes.NewCipher(kenc)
		s.bs = 16
	} else {
		s.enc, err = tdes(kenc)
		s.bs = 8
	}
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *termSM) inc() {
	for i := len(s.ssc) - 1; i >= 0; i-- {
		s.ssc[i]++
		if s.ssc[i] != 0 {
			break
		}
	}
}

func (s *termSM) iv() []byte {
	iv := make([]byte, s.bs)
	if s.aes {
		s.enc.Encrypt(iv, s.ssc)
	}
	return iv
}

func (s *termSM) mac(m []byte) []byte {
	n := pad(append(bytes.Clone(s.ssc), m...), s.bs)
	if s.aes {
		out, _ := aesCMAC(s.kmac, n)
		return out[:8]
	}
	out, _ := retailMAC(s.kmac, n)
	return out
}

// wrap builds the protected APDU for a plain command.
func (s *termSM) wrap(c Command) []byte {
	cla := c.CLA | 0x0C
	var dos []byte
	if len(c.Data) > 0 {
		ct := cbcEncryptT(s.enc, s.ivNext(), pad(c.Data, s.bs))
		if c.INS&1 == 1 {
			dos = append(dos, lds.EncodeTLV(0x85, ct)...)
		} else {
			dos = append(dos, lds.EncodeTLV(0x87, []byte{1}, ct)...)
		}
	}
	ext := c.Extended || len(c.Data) > 223 || c.Ne > 256
	if c.Ne > 0 {
		if ext {
			n := c.Ne
			if n >= 65536 {
				n = 0
			}
			dos = append(dos, 0x97, 0x02, byte(n>>8), byte(n))
		} else {
			dos = append(dos, 0x97, 0x01, byte(c.Ne))
		}
	}
	s.inc()
	m := append(pad([]byte{cla, c.INS, c.P1, c.P2}, s.bs), dos...)
	dos = append(dos, lds.EncodeTLV(0x8E, s.mac(m))...)
	out := Command{CLA: cla, INS: c.INS, P1: c.P1, P2: c.P2, Data: dos, Ne: 256, Extended: ext}
	if ext {
		out.Ne = 65536
	}
	return out.Bytes()
}

// ivNext is the IV the next command will use: the SSC is incremented first.
func (s *termSM) ivNext() []byte {
	saved := bytes.Clone(s.ssc)
	s.inc()
	iv := s.iv()
	s.ssc = saved
	return iv
}

func cbcEncryptT(b cipher.Block, iv, data []byte) []byte {
	out := make([]byte, len(data))
	cipher.NewCBCEncrypter(b, iv).CryptBlocks(out, data)
	return out
}

// unwrap checks and decrypts a protected response.
func (s *termSM) unwrap(resp []byte) ([]byte, uint16, error) {
	if len(resp) < 2 {
		return nil, 0, fmt.Errorf("response of %d bytes", len(resp))
	}
	sw := uint16(resp[len(resp)-2])<<8 | uint16(resp[len(resp)-1])
	body := resp[:len(resp)-2]
	if len(body) == 0 {
		return nil, sw, fmt.Errorf("unprotected response %04X", sw)
	}
	items, err := lds.ParseTLVs(body)
	if err != nil {
		return nil, sw, err
	}
	var m, ct, cc []byte
	odd := false
	var sw99 []byte
	for _, it := range items {
		switch it.Tag {
		case 0x87, 0x85:
			ct, odd = it.Value, it.Tag == 0x85
			m = append(m, it.Raw...)
		case 0x99:
			sw99 = it.Value
			m = append(m, it.Raw...)
		case 0x8E:
			cc = it.Value
		default:
			return nil, sw, fmt.Errorf("unexpected DO %X", it.Tag)
		}
	}
	s.inc()
	if cc == nil || subtle.ConstantTimeCompare(cc, s.mac(m)) != 1 {
		return nil, sw, fmt.Errorf("response MAC wrong")
	}
	if len(sw99) != 2 || uint16(sw99[0])<<8|uint16(sw99[1]) != sw {
		return nil, sw, fmt.Errorf("DO'99' %X does not match SW %04X", sw99, sw)
	}
	if ct == nil {
		return nil, sw, nil
	}
	if !odd {
		if len(ct) == 0 || ct[0] != 1 {
			return nil, sw, fmt.Errorf("bad padding indicator")
		}
		ct = ct[1:]
	}
	pt, err := cbcDecrypt(s.enc, s.iv(), ct)
	if err != nil {
		return nil, sw, err
	}
	data, err := unpad(pt)
	return data, sw, err
}

// send transmits a plain command, protected when a session is open.
func (tm *terminal) send(c Command) ([]byte, uint16) {
	tm.t.Helper()
	data, sw, err := tm.sendErr(c)
	if err != nil {
		tm.t.Fatalf("%02X: %v", c.INS, err)
	}
	return data, sw
}

func (tm *terminal) sendErr(c Command) ([]byte, uint16, error) {
	raw := c.Bytes()
	if tm.sm != nil {
		raw = tm.sm.wrap(c)
	}
	resp, err := tm.tx(raw)
	if err != nil {
		return nil, 0, err
	}
	if len(resp) < 2 {
		return nil, 0, fmt.Errorf("short response % X", resp)
	}
	if tm.sm != nil {
		sw := uint16(resp[len(resp)-2])<<8 | uint16(resp[len(resp)-1])
		if sw == swSMMissing || sw == swSMIncorrect {
			tm.sm = nil
			return nil, sw, nil
		}
		return tm.sm.unwrap(resp)
	}
	return resp[:len(resp)-2], uint16(resp[len(resp)-2])<<8 | uint16(resp[len(resp)-1]), nil
}

func (tm *terminal) selectApp() uint16 {
	_, sw := tm.send(Command{INS: 0xA4, P1: 0x04, P2: 0x0C, Data: AID})
	return sw
}

func (tm *terminal) selectEF(fid uint16) uint16 {
	_, sw := tm.send(Command{INS: 0xA4, P1: 0x02, P2: 0x0C, Data: []byte{byte(fid >> 8), byte(fid)}})
	return sw
}

// bac runs BAC with rndIFD and kIFD (random when nil).
func (tm *terminal) bac(key MRZKey, rndIFD, kIFD []byte) uint16 {
	tm.t.Helper()
	if rndIFD == nil {
		rndIFD = make([]byte, 8)
		rand.Read(rndIFD)
	}
	if kIFD == nil {
		kIFD = make([]byte, 16)
		rand.Read(kIFD)
	}
	rndIC, sw := tm.send(Command{INS: 0x84, Ne: 8})
	if sw != swOK {
		return sw
	}
	kenc, kmac := bacKeys(key)
	block, _ := tdes(kenc)
	s := append(append(bytes.Clone(rndIFD), rndIC...), kIFD...)
	eIFD := cbcEncryptT(block, make([]byte, 8), s)
	mIFD, _ := retailMAC(kmac, pad(eIFD, 8))
	resp, sw := tm.send(Command{INS: 0x82, Data: append(eIFD, mIFD...), Ne: 40})
	if sw != swOK {
		return sw
	}
	if len(resp) != 40 {
		tm.t.Fatalf("MUTUAL AUTHENTICATE answer of %d bytes", len(resp))
	}
	mIC, _ := retailMAC(kmac, pad(resp[:32], 8))
	if !bytes.Equal(mIC, resp[32:]) {
		tm.t.Fatal("chip's M.IC wrong")
	}
	r, _ := cbcDecrypt(block, make([]byte, 8), resp[:32])
	if !bytes.Equal(r[:8], rndIC) || !bytes.Equal(r[8:16], rndIFD) {
		tm.t.Fatal("chip's R does not carry the nonces")
	}
	seed := make([]byte, 16)
	subtle.XORBytes(seed, kIFD, r[16:32])
	ssc := append(bytes.Clone(rndIC[4:]), rndIFD[4:]...)
	tm.sm = newTermSM(tm.t, false, kdf(seed, 1, cipher3DES, 16), kdf(seed, 2, cipher3DES, 16), ssc)
	return swOK
}

// readFile reads a whole TLV-encoded file by FID with chunks of chunk bytes
// (short Le when chunk <= 256), odd-INS reads past 32 KiB.
func (tm *terminal) readFile(fid uint16, chunk int) ([]byte, uint16) {
	tm.t.Helper()
	if sw := tm.selectEF(fid); sw != swOK {
		return nil, sw
	}
	head, sw := tm.send(Command{INS: 0xB0, Ne: 8})
	if sw != swOK {
		return nil, sw
	}
	t, _, err := lds.ParseTLV(head)
	total := 0
	if err != nil {
		// Header only: tag, length bytes.
		total = tlvTotal(tm.t, head)
	} else {
		total = len(t.Raw)
	}
	out := bytes.Clone(head)
	if total < len(out) {
		return out[:total], swOK
	}
	for len(out) < total {
		n := min(chunk, total-len(out))
		var data []byte
		if len(out) <= 0x7FFF {
			data, sw = tm.send(Command{INS: 0xB0, P1: byte(len(out) >> 8), P2: byte(len(out)), Ne: n, Extended: n > 256})
		} else {
			off := []byte{byte(len(out) >> 16), byte(len(out) >> 8), byte(len(out))}
			var resp []byte
			resp, sw = tm.send(Command{INS: 0xB1, Data: lds.EncodeTLV(0x54, off), Ne: n + 4, Extended: true})
			if sw == swOK {
				do53, _, err := lds.ParseTLV(resp)
				if err != nil || do53.Tag != 0x53 {
					tm.t.Fatalf("odd READ BINARY answer % X", resp[:min(len(resp), 8)])
				}
				data = do53.Value
			}
		}
		if sw != swOK {
			return out, sw
		}
		if len(data) == 0 {
			tm.t.Fatalf("empty read at %d of %d", len(out), total)
		}
		out = append(out, data...)
	}
	return out, swOK
}

// tlvTotal reads the total length from a TLV header.
func tlvTotal(t testing.TB, h []byte) int {
	i := 1
	if h[0]&0x1F == 0x1F {
		for i < len(h) && h[i]&0x80 != 0 {
			i++
		}
		i++
	}
	l := int(h[i])
	i++
	if l > 0x80 {
		n := l & 0x7F
		l = 0
		for _, b := range h[i : i+n] {
			l = l<<8 | int(b)
		}
		i += n
	}
	return i + l
}

// pace runs PACE ECDH-GM from the terminal's side with password reference
// ref (1 MRZ, 2 CAN).
func (tm *terminal) pace(suite int, curve *ecc.Curve, ref byte, password []byte) uint16 {
	tm.t.Helper()
	kind, keyLen, _ := suiteCipher(suite)
	oid, _ := asn1.Marshal(lds.PACEOID(suite))
	// 84 names the domain parameters: required when the chip offers
	// several for one protocol.
	mse := append(lds.EncodeTLV(0x80, oid[2:]), lds.EncodeTLV(0x83, []byte{ref})...)
	mse = append(mse, lds.EncodeTLV(0x84, []byte{byte(curve.PACEID)})...)
	if _, sw := tm.send(Command{INS: 0x22, P1: 0xC1, P2: 0xA4, Data: mse}); sw != swOK {
		return sw
	}
	ga := func(cla byte, tag uint32, v []byte) ([]byte, uint16) {
		var inner []byte
		if tag != 0 {
			inner = lds.EncodeTLV(tag, v)
		}
		resp, sw := tm.send(Command{CLA: cla, INS: 0x86, Data: lds.EncodeTLV(0x7C, inner), Ne: 256})
		if sw != swOK {
			return nil, sw
		}
		dyn, _, err := lds.ParseTLV(resp)
		if err != nil || dyn.Tag != 0x7C {
			tm.t.Fatalf("GENERAL AUTHENTICATE answer % X", resp)
		}
		items, _ := lds.ParseTLVs(dyn.Value)
		if len(items) != 1 {
			tm.t.Fatalf("GENERAL AUTHENTICATE answer with %d objects", len(items))
		}
		return items[0].Value, sw
	}
	z, sw := ga(0x10, 0, nil)
	if sw != swOK {
		return sw
	}
	kpi := kdf(password, 3, kind, keyLen)
	block, _ := blockCipher(kind, kpi)
	s, err := cbcDecrypt(block, make([]byte, block.BlockSize()), z)
	if err != nil {
		tm.t.Fatal(err)
	}
	skMap, pkMap, _ := curve.GenerateKey(nil)
	pkMapIC, sw := ga(0x10, 0x81, curve.Marshal(pkMap))
	if sw != swOK {
		return sw
	}
	pt, err := curve.Unmarshal(pkMapIC)
	if err != nil {
		tm.t.Fatal(err)
	}
	gen := curve.Add(curve.ScalarBaseMult(new(big.Int).SetBytes(s)), curve.ScalarMult(pt, skMap))
	skEph, _ := curve.RandomScalar(nil)
	pkEph := curve.ScalarMult(gen, skEph)
	pkEphIC, sw := ga(0x10, 0x83, curve.Marshal(pkEph))
	if sw != swOK {
		return sw
	}
	pt, err = curve.Unmarshal(pkEphIC)
	if err != nil {
		tm.t.Fatal(err)
	}
	k := curve.FieldBytes(curve.ScalarMult(pt, skEph).X)
	ksEnc, ksMac := kdf(k, 1, kind, keyLen), kdf(k, 2, kind, keyLen)
	tIC, sw := ga(0x00, 0x85, authToken(kind, ksMac, lds.PACEOID(suite), pkEphIC))
	if sw != swOK {
		return sw
	}
	if !bytes.Equal(tIC, authToken(kind, ksMac, lds.PACEOID(suite), curve.Marshal(pkEph))) {
		tm.t.Fatal("chip's PACE token wrong")
	}
	tm.sm = newTermSM(tm.t, kind == cipherAES, ksEnc, ksMac, make([]byte, block.BlockSize()))
	return swOK
}

// chipAuthenticate runs Chip Authentication with the DG14 key: MSE:Set AT
// and GENERAL AUTHENTICATE, or MSE:Set KAT when kat is set.
func (tm *terminal) chipAuthenticate(dg14 []byte, kat bool) uint16 {
	tm.t.Helper()
	t, _, err := lds.ParseTLV(dg14)
	if err != nil {
		tm.t.Fatal(err)
	}
	infos, err := lds.ParseSecurityInfos(t.Value)
	if err != nil {
		tm.t.Fatal(err)
	}
	var oid asn1.ObjectIdentifier
	var curve *ecc.Curve
	var pkIC ecc.Point
	for _, si := range infos {
		if lds.HasPrefix(si.Protocol, lds.OIDCAECDH) {
			oid = si.Protocol
		}
		if si.Protocol.Equal(lds.OIDPKECDH) {
			if curve, pkIC, err = ecc.ParsePKIX(si.Required.FullBytes); err != nil {
				tm.t.Fatal(err)
			}
		}
	}
	kind, keyLen, _ := suiteCipher(oid[len(oid)-1])
	sk, pk, _ := curve.GenerateKey(nil)
	if kat {
		if _, sw := tm.send(Command{INS: 0x22, P1: 0x41, P2: 0xA6, Data: lds.EncodeTLV(0x91, curve.Marshal(pk))}); sw != swOK {
			return sw
		}
	} else {
		enc, _ := asn1.Marshal(oid)
		if _, sw := tm.send(Command{INS: 0x22, P1: 0x41, P2: 0xA4, Data: lds.EncodeTLV(0x80, enc[2:])}); sw != swOK {
			return sw
		}
		resp, sw := tm.send(Command{INS: 0x86, Data: lds.EncodeTLV(0x7C, lds.EncodeTLV(0x80, curve.Marshal(pk))), Ne: 256})
		if sw != swOK {
			return sw
		}
		if !bytes.Equal(resp, []byte{0x7C, 0x00}) {
			tm.t.Fatalf("CA GENERAL AUTHENTICATE answered % X", resp)
		}
	}
	k, err := curve.ECDH(sk, pkIC)
	if err != nil {
		tm.t.Fatal(err)
	}
	bs := 16
	if kind == cipher3DES {
		bs = 8
	}
	tm.sm = newTermSM(tm.t, kind == cipherAES, kdf(k, 1, kind, keyLen), kdf(k, 2, kind, keyLen), make([]byte, bs))
	return swOK
}

// verifyAA checks an Active Authentication signature against DG15.
func verifyAA(t testing.TB, dg15 []byte, hash crypto.Hash, challenge, sig []byte) error {
	t.Helper()
	spki, _, err := lds.ParseTLV(dg15)
	if err != nil {
		return err
	}
	if curve, pub, err := ecc.ParsePKIX(spki.Value); err == nil {
		h := hash.New()
		h.Write(challenge)
		if !curve.Verify(pub, h.Sum(nil), sig) {
			return fmt.Errorf("ECDSA signature does not verify")
		}
		return nil
	}
	key, err := x509.ParsePKIXPublicKey(spki.Value)
	if err != nil {
		return err
	}
	pub := key.(*rsa.PublicKey)
	f := new(big.Int).Exp(new(big.Int).SetBytes(sig), big.NewInt(int64(pub.E)), pub.N).FillBytes(make([]byte, len(sig)))
	tl := 1
	if f[len(f)-1] == 0xCC {
		tl = 2
	}
	if f[0] != 0x6A || (tl == 1 && f[len(f)-1] != 0xBC) {
		return fmt.Errorf("not an ISO 9796-2 scheme 1 representative: % X … % X", f[:2], f[len(f)-2:])
	}
	hl := hash.Size()
	m1 := f[1 : len(f)-hl-tl]
	d := f[len(f)-hl-tl : len(f)-tl]
	h := hash.New()
	h.Write(m1)
	h.Write(challenge)
	if !bytes.Equal(h.Sum(nil), d) {
		return fmt.Errorf("ISO 9796-2 digest does not match")
	}
	return nil
}
