package chipsim

import "github.com/checkpoint-edge/checkpoint/internal/chipsim/lds"

// suiteCipher gives the cipher and key length of a suite number.
func suiteCipher(suite int) (cipherKind, int, bool) {
	switch suite {
	case lds.Suite3DES:
		return cipher3DES, 16, true
	case lds.SuiteAES128:
		return cipherAES, 16, true
	case lds.SuiteAES192:
		return cipherAES, 24, true
	case lds.SuiteAES256:
		return cipherAES, 32, true
	}
	return 0, 0, false
}
