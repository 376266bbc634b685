package sm

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
)

// Alg is a secure-messaging cipher suite.
type Alg int

// Cipher suites.
const (
	TDES Alg = iota + 1 // two-key 3DES, retail MAC
	AES128
	AES192
	AES256
)

func (a Alg) String() string {
	switch a {
	case TDES:
		return "3DES"
	case AES128:
		return "AES-128"
	case AES192:
		return "AES-192"
	case AES256:
		return "AES-256"
	}
	return "unknown"
}

// BlockSize is the cipher's block size.
func (a Alg) BlockSize() int {
	if a == TDES {
		return 8
	}
	return 16
}

// KeyLen is the session key length.
func (a Alg) KeyLen() int {
	switch a {
	case TDES, AES128:
		return 16
	case AES192:
		return 24
	}
	return 32
}

// KDF counters (9303-11 §9.7.1).
const (
	CounterEnc  = 1
	CounterMAC  = 2
	CounterPACE = 3
)

// KDF derives a key from a shared secret (9303-11 §9.7.1): SHA-1 for 3DES
// and AES-128, SHA-256 for AES-192/256; 3DES keys get DES parity bits.
func KDF(secret []byte, counter uint32, alg Alg) []byte {
	var c [4]byte
	binary.BigEndian.PutUint32(c[:], counter)
	var h []byte
	if alg == TDES || alg == AES128 {
		s := sha1.Sum(append(append([]byte{}, secret...), c[:]...))
		h = s[:]
	} else {
		s := sha256.Sum256(append(append([]byte{}, secret...), c[:]...))
		h = s[:]
	}
	k := append([]byte(nil), h[:alg.KeyLen()]...)
	if alg == TDES {
		setParity(k)
	}
	return k
}

func setParity(k []byte) {
	for i, b := range k {
		b &= 0xFE
		ones := 0
		for x := b; x != 0; x >>= 1 {
			ones += int(x & 1)
		}
		if ones%2 == 0 {
			b |= 1
		}
		k[i] = b
	}
}

// Pad applies ISO/IEC 9797-1 padding method 2.
func Pad(b []byte, block int) []byte {
	out := make([]byte, len(b), len(b)+block)
	copy(out, b)
	out = append(out, 0x80)
	for len(out)%block != 0 {
		out = append(out, 0)
	}
	return out
}

// ErrPadding is returned when decrypted data is not padded with method 2.
var ErrPadding = errors.New("sm: bad padding")

// Unpad removes ISO/IEC 9797-1 padding method 2.
func Unpad(b []byte) ([]byte, error) {
	for i := len(b) - 1; i >= 0; i-- {
		switch b[i] {
		case 0:
			continue
		case 0x80:
			return b[:i], nil
		}
		break
	}
	return nil, ErrPadding
}

func tdesBlock(key []byte) (cipher.Block, error) {
	if len(key) != 16 {
		return nil, fmt.Errorf("sm: 3DES key of %d bytes", len(key))
	}
	k := append(append([]byte{}, key...), key[:8]...)
	return des.NewTripleDESCipher(k)
}

func blockFor(alg Alg, key []byte) (cipher.Block, error) {
	if alg == TDES {
		return tdesBlock(key)
	}
	return aes.NewCipher(key)
}

// Encrypt is CBC encryption of block-aligned data with iv (zero if nil).
func Encrypt(alg Alg, key, iv, data []byte) ([]byte, error) {
	b, err := blockFor(alg, key)
	if err != nil {
		return nil, err
	}
	if len(data)%b.BlockSize() != 0 {
		return nil, fmt.Errorf("sm: %d bytes not block aligned", len(data))
	}
	if iv == nil {
		iv = make([]byte, b.BlockSize())
	}
	out := make([]byte, len(data))
	cipher.NewCBCEncrypter(b, iv).CryptBlocks(out, data)
	return out, nil
}

// Decrypt is CBC decryption of block-aligned data with iv (zero if nil).
func Decrypt(alg Alg, key, iv, data []byte) ([]byte, error) {
	b, err := blockFor(alg, key)
	if err != nil {
		return nil, err
	}
	if len(data) == 0 || len(data)%b.BlockSize() != 0 {
		return nil, fmt.Errorf("sm: %d bytes not block aligned", len(data))
	}
	if iv == nil {
		iv = make([]byte, b.BlockSize())
	}
	out := make([]byte, len(data))
	cipher.NewCBCDecrypter(b, iv).CryptBlocks(out, data)
	return out, nil
}

// RetailMAC is ISO/IEC 9797-1 MAC algorithm 3 with DES (single-DES CBC
// with K1, then decrypt with K2 and encrypt with K1 on the last block)
// over data already padded.
func RetailMAC(key, padded []byte) ([]byte, error) {
	if len(key) != 16 || len(padded)%8 != 0 || len(padded) == 0 {
		return nil, fmt.Errorf("sm: retail MAC needs a 16-byte key and padded data")
	}
	k1, _ := des.NewCipher(key[:8])
	k2, _ := des.NewCipher(key[8:])
	h := make([]byte, 8)
	for i := 0; i < len(padded); i += 8 {
		subtle.XORBytes(h, h, padded[i:i+8])
		k1.Encrypt(h, h)
	}
	k2.Decrypt(h, h)
	k1.Encrypt(h, h)
	return h, nil
}

// CMAC is AES-CMAC (NIST SP 800-38B), full 16 bytes.
func CMAC(key, data []byte) ([]byte, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	l := make([]byte, 16)
	b.Encrypt(l, l)
	k1 := shiftXor(l)
	k2 := shiftXor(k1)
	n := (len(data) + 15) / 16
	complete := n > 0 && len(data)%16 == 0
	if n == 0 {
		n = 1
	}
	last := make([]byte, 16)
	if complete {
		subtle.XORBytes(last, data[(n-1)*16:], k1)
	} else {
		rem := data[(n-1)*16:]
		copy(last, rem)
		last[len(rem)] = 0x80
		subtle.XORBytes(last, last, k2)
	}
	x := make([]byte, 16)
	for i := 0; i < n-1; i++ {
		subtle.XORBytes(x, x, data[i*16:(i+1)*16])
		b.Encrypt(x, x)
	}
	subtle.XORBytes(x, x, last)
	b.Encrypt(x, x)
	return x, nil
}

func shiftXor(in []byte) []byte {
	out := make([]byte, 16)
	carry := byte(0)
	for i := 15; i >= 0; i-- {
		out[i] = in[i]<<1 | carry
		carry = in[i] >> 7
	}
	if in[0]&0x80 != 0 {
		out[15] ^= 0x87
	}
	return out
}

// MAC computes the 8-byte secure-messaging MAC of padded data (retail
// MAC for 3DES, CMAC truncated to 8 bytes for AES).
func MAC(alg Alg, key, padded []byte) ([]byte, error) {
	if alg == TDES {
		return RetailMAC(key, padded)
	}
	m, err := CMAC(key, padded)
	if err != nil {
		return nil, err
	}
	return m[:8], nil
}
