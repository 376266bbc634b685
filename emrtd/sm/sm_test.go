package sm

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"strings"
	"testing"
)

func h(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// TestBACWorkedExample follows ICAO Doc 9303 Part 11 Appendix D.
func TestBACWorkedExample(t *testing.T) {
	seed := sha1.Sum([]byte("L898902C<369080619406236"))
	if !bytes.Equal(seed[:16], h("239AB9CB282DAF66231DC5A4DF6BFBAE")) {
		t.Fatalf("Kseed %X", seed[:16])
	}
	kenc, kmac := KDF(seed[:16], CounterEnc, TDES), KDF(seed[:16], CounterMAC, TDES)
	if !bytes.Equal(kenc, h("AB94FDECF2674FDFB9B391F85D7F76F2")) || !bytes.Equal(kmac, h("7962D9ECE03D1ACD4C76089DCE131543")) {
		t.Fatalf("Kenc %X Kmac %X", kenc, kmac)
	}
	s := h("781723860C06C2264608F919887022120B795240CB7049B01C19B33E32804F0B")
	eifd, _ := Encrypt(TDES, kenc, nil, s)
	if !bytes.Equal(eifd, h("72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2")) {
		t.Fatalf("Eifd %X", eifd)
	}
	mifd, _ := RetailMAC(kmac, Pad(eifd, 8))
	if !bytes.Equal(mifd, h("5F1448EEA8AD90A7")) {
		t.Fatalf("Mifd %X", mifd)
	}
	// Session keys from K.IFD xor K.IC.
	kseed := make([]byte, 16)
	kifd, kic := h("0B795240CB7049B01C19B33E32804F0B"), h("0B4F80323EB3191CB04970CB4052790B")
	for i := range kseed {
		kseed[i] = kifd[i] ^ kic[i]
	}
	if !bytes.Equal(kseed, h("0036D272F5C350ACAC50C3F572D23600")) {
		t.Fatalf("session seed %X", kseed)
	}
	sess := New(TDES, kseed, h("887022120C06C226"))
	if !bytes.Equal(sess.KEnc, h("979EC13B1CBFE9DCD01AB0FED307EAE5")) || !bytes.Equal(sess.KMAC, h("F1CB1F1FB5ADF208806B89DC579DC1F8")) {
		t.Fatalf("KSenc %X KSmac %X", sess.KEnc, sess.KMAC)
	}
	// SELECT EF.COM.
	got, err := sess.Wrap(Command{CLA: 0x00, INS: 0xA4, P1: 0x02, P2: 0x0C, Data: []byte{0x01, 0x1E}})
	if err != nil || !bytes.Equal(got, h("0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800")) {
		t.Fatalf("protected SELECT %X %v", got, err)
	}
	plain, err := sess.Unwrap(h("990290008E08FA855A5D4C50A8ED9000"))
	if err != nil || !bytes.Equal(plain, h("9000")) {
		t.Fatalf("SELECT response %X %v", plain, err)
	}
	// READ BINARY of the first four bytes.
	got, _ = sess.Wrap(Command{CLA: 0x00, INS: 0xB0, P1: 0, P2: 0, Ne: 4})
	if !bytes.Equal(got, h("0CB000000D9701048E08ED6705417E96BA5500")) {
		t.Fatalf("protected READ BINARY %X", got)
	}
	plain, err = sess.Unwrap(h("8709019FF0EC34F9922651990290008E08AD55CC17140B2DED9000"))
	if err != nil || !bytes.Equal(plain, h("60145F019000")) {
		t.Fatalf("READ BINARY response %X %v", plain, err)
	}
	// A flipped bit in the MAC is refused.
	sess2 := New(TDES, kseed, h("887022120C06C226"))
	sess2.Wrap(Command{CLA: 0x00, INS: 0xA4, P1: 0x02, P2: 0x0C, Data: []byte{0x01, 0x1E}})
	if _, err := sess2.Unwrap(h("990290008E08FA855A5D4C50A8EC9000")); err != ErrMAC {
		t.Fatalf("tampered MAC: %v", err)
	}
}

// TestPACEKeys checks the KDF on Doc 9303 Part 11 Appendix G.1's values.
func TestPACEKeys(t *testing.T) {
	kpi := KDF(h("7E2D2A41C74EA0B38CD36F863939BFA8E9032AAD"), CounterPACE, AES128)
	if !bytes.Equal(kpi, h("89DED1B26624EC1E634C1989302849DD")) {
		t.Fatalf("Kpi %X", kpi)
	}
	s, _ := Decrypt(AES128, kpi, nil, h("95A3A016522EE98D01E76CB6B98B42C3"))
	if !bytes.Equal(s, h("3F00C4D39D153F2B2A214A078D899B22")) {
		t.Fatalf("nonce %X", s)
	}
	k := h("28768D20701247DAE81804C9E780EDE582A9996DB4A315020B2733197DB84925")
	if e := KDF(k, CounterEnc, AES128); !bytes.Equal(e, h("F5F0E35C0D7161EE6724EE513A0D9A7F")) {
		t.Fatalf("KSenc %X", e)
	}
	if m := KDF(k, CounterMAC, AES128); !bytes.Equal(m, h("FE251C7858B356B24514B3BD5F4297D1")) {
		t.Fatalf("KSmac %X", m)
	}
}

// TestCMAC uses NIST SP 800-38B's AES-128 examples.
func TestCMAC(t *testing.T) {
	key := h("2B7E151628AED2A6ABF7158809CF4F3C")
	for _, c := range []struct{ msg, mac string }{
		{"", "BB1D6929E95937287FA37D129B756746"},
		{"6BC1BEE22E409F96E93D7E117393172A", "070A16B46B4D4144F79BDD9DD04A287C"},
		{"6BC1BEE22E409F96E93D7E117393172AAE2D8A571E03AC9C9EB76FAC45AF8E5130C81C46A35CE411", "DFA66747DE9AE63030CA32611497C827"},
	} {
		m, _ := CMAC(key, h(c.msg))
		if !bytes.Equal(m, h(c.mac)) {
			t.Errorf("CMAC(%s) = %X", c.msg, m)
		}
	}
}

func TestAESRoundTrip(t *testing.T) {
	// Both ends of a session: what one wraps, a mirror session verifies.
	k := h("28768D20701247DAE81804C9E780EDE582A9996DB4A315020B2733197DB84925")
	a := New(AES128, k, make([]byte, 16))
	b := New(AES128, k, make([]byte, 16))
	cmd, err := a.Wrap(Command{INS: 0xB0, Ne: 0xDF})
	if err != nil || cmd[0] != 0x0C {
		t.Fatal(cmd, err)
	}
	b.inc()
	// The chip's answer, built by hand with the mirror keys.
	b.inc()
	iv, _ := b.iv()
	enc, _ := Encrypt(AES128, b.KEnc, iv, Pad([]byte("hello"), 16))
	do87 := append([]byte{0x87, byte(len(enc) + 1), 0x01}, enc...)
	do99 := []byte{0x99, 0x02, 0x90, 0x00}
	mac, _ := MAC(AES128, b.KMAC, Pad(append(append(append([]byte{}, b.SSC...), do87...), do99...), 16))
	resp := append(append(append(append(do87, do99...), 0x8E, 0x08), mac...), 0x90, 0x00)
	plain, err := a.Unwrap(resp)
	if err != nil || string(plain[:5]) != "hello" {
		t.Fatalf("%q %v", plain, err)
	}
}
