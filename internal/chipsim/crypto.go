package chipsim

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

// Symmetric cryptography of Doc 9303 Part 11 §9.7 (key derivation) and §9.8
// (secure messaging), written from the specification.

// errPadding is returned when ISO/IEC 9797-1 padding method 2 is missing.
var errPadding = errors.New("bad padding")

// pad appends ISO/IEC 9797-1 padding method 2 (80 00 ...) up to a multiple of
// the block size; a full block is added to aligned input.
func pad(b []byte, block int) []byte {
	out := make([]byte, len(b), len(b)+block)
	copy(out, b)
	out = append(out, 0x80)
	for len(out)%block != 0 {
		out = append(out, 0)
	}
	return out
}

// unpad removes padding method 2.
func unpad(b []byte) ([]byte, error) {
	for i := len(b) - 1; i >= 0; i-- {
		switch b[i] {
		case 0:
			continue
		case 0x80:
			return b[:i], nil
		}
		break
	}
	return nil, errPadding
}

// cipherKind names the block cipher of a secure-messaging session.
type cipherKind int

const (
	cipher3DES cipherKind = iota
	cipherAES
)

// kdf is the key derivation function of Doc 9303 Part 11 §9.7.1:
// keydata = H(K || c) with c a 32-bit big-endian counter (1 encryption,
// 2 MAC, 3 PACE password), SHA-1 for 3DES and AES-128, SHA-256 for AES-192
// and AES-256. 3DES keys are Ka || Kb with parity adjusted.
func kdf(k []byte, c uint32, kind cipherKind, keyLen int) []byte {
	in := make([]byte, len(k)+4)
	copy(in, k)
	binary.BigEndian.PutUint32(in[len(k):], c)
	var h []byte
	if kind == cipher3DES || keyLen == 16 {
		s := sha1.Sum(in)
		h = s[:]
	} else {
		s := sha256.Sum256(in)
		h = s[:]
	}
	if kind == cipher3DES {
		return adjustParity(h[:16])
	}
	return h[:keyLen]
}

// adjustParity sets the DES odd-parity bit (the lowest bit) of every byte.
func adjustParity(k []byte) []byte {
	out := make([]byte, len(k))
	for i, b := range k {
		ones := 0
		for v := b >> 1; v != 0; v >>= 1 {
			ones += int(v & 1)
		}
		out[i] = b&0xFE | byte((ones+1)%2)
	}
	return out
}

// tdes returns a two-key 3DES cipher (K1, K2, K1) for a 16-byte key.
func tdes(key []byte) (cipher.Block, error) {
	if len(key) != 16 {
		return nil, fmt.Errorf("3DES key of %d bytes, want 16", len(key))
	}
	k := make([]byte, 24)
	copy(k, key)
	copy(k[16:], key[:8])
	return des.NewTripleDESCipher(k)
}

// cbcEncrypt encrypts block-aligned data in CBC mode.
func cbcEncrypt(b cipher.Block, iv, data []byte) []byte {
	out := make([]byte, len(data))
	cipher.NewCBCEncrypter(b, iv).CryptBlocks(out, data)
	return out
}

// cbcDecrypt decrypts block-aligned data in CBC mode.
func cbcDecrypt(b cipher.Block, iv, data []byte) ([]byte, error) {
	if len(data) == 0 || len(data)%b.BlockSize() != 0 {
		return nil, fmt.Errorf("ciphertext of %d bytes is not whole blocks", len(data))
	}
	out := make([]byte, len(data))
	cipher.NewCBCDecrypter(b, iv).CryptBlocks(out, data)
	return out, nil
}

// retailMAC is ISO/IEC 9797-1 MAC algorithm 3 with DES (the "retail MAC"):
// single-DES CBC with Ka over all blocks, then decrypt with Kb and encrypt
// with Ka on the last. The input must already be padded.
func retailMAC(key, data []byte) ([]byte, error) {
	if len(key) != 16 || len(data)%8 != 0 || len(data) == 0 {
		return nil, fmt.Errorf("retail MAC: key %d bytes, data %d bytes", len(key), len(data))
	}
	ka, err := des.NewCipher(key[:8])
	if err != nil {
		return nil, err
	}
	kb, err := des.NewCipher(key[8:16])
	if err != nil {
		return nil, err
	}
	h := make([]byte, 8)
	for i := 0; i < len(data); i += 8 {
		subtle.XORBytes(h, h, data[i:i+8])
		ka.Encrypt(h, h)
	}
	kb.Decrypt(h, h)
	ka.Encrypt(h, h)
	return h, nil
}

// aesCMAC is CMAC (NIST SP 800-38B, RFC 4493) with AES, full 16 bytes.
func aesCMAC(key, data []byte) ([]byte, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	k1, k2 := cmacSubkeys(b)
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

func cmacSubkeys(b cipher.Block) (k1, k2 []byte) {
	l := make([]byte, 16)
	b.Encrypt(l, l)
	dbl := func(in []byte) []byte {
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
	k1 = dbl(l)
	k2 = dbl(k1)
	return k1, k2
}

// macEqual compares MACs in constant time.
func macEqual(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }
