package emrtd

import (
	"crypto/sha1"
	"fmt"
	"strings"

	"github.com/checkpoint-edge/checkpoint/mrz"
)

// Key is what opens the chip: the MRZ's document number, birth and
// expiry dates (with their check digits), or a card access number.
type Key struct {
	DocumentNumber string // as printed, fillers allowed; longer than 9 for TD1 long numbers
	BirthDate      string // YYMMDD
	ExpiryDate     string // YYMMDD
	CAN            string // six digits; when set, PACE uses it instead of the MRZ
}

// KeyFromMRZ takes the key fields from a parsed MRZ.
func KeyFromMRZ(d *mrz.Document) (Key, error) {
	if d == nil {
		return Key{}, fmt.Errorf("%w: no MRZ", ErrKey)
	}
	k := Key{DocumentNumber: d.DocumentNumber}
	if f, ok := d.FieldByName(mrz.FieldBirthDate); ok {
		k.BirthDate = f.Raw
	}
	if f, ok := d.FieldByName(mrz.FieldExpiryDate); ok {
		k.ExpiryDate = f.Raw
	}
	return k, k.validate()
}

func (k Key) validate() error {
	if k.CAN != "" {
		if len(k.CAN) != 6 || strings.Trim(k.CAN, "0123456789") != "" {
			return fmt.Errorf("%w: CAN must be six digits", ErrKey)
		}
		return nil
	}
	if k.DocumentNumber == "" || len(k.BirthDate) != 6 || len(k.ExpiryDate) != 6 {
		return fmt.Errorf("%w: document number, birth date and expiry date are needed", ErrKey)
	}
	return nil
}

// MRZInfo is the key seed text of Doc 9303 Part 11 §9.7.2: document
// number padded to 9 with its check digit, birth date and its check
// digit, expiry date and its check digit.
func (k Key) MRZInfo() string {
	num := strings.ToUpper(strings.ReplaceAll(k.DocumentNumber, " ", ""))
	for len(num) < 9 {
		num += "<"
	}
	cd := func(s string) string { return string(mrz.CheckDigit(s)) }
	return num + cd(num) + k.BirthDate + cd(k.BirthDate) + k.ExpiryDate + cd(k.ExpiryDate)
}

// seed is SHA-1 of the MRZ information (BAC uses its first 16 bytes;
// PACE's password π is all 20).
func (k Key) seed() []byte {
	s := sha1.Sum([]byte(k.MRZInfo()))
	return s[:]
}
