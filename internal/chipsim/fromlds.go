package chipsim

import "github.com/checkpoint-edge/checkpoint/internal/chipsim/issuer"

// FromLDS describes the chip of an issued document: its files, access key
// and private keys. Faults and transport settings are left to the caller.
func FromLDS(l *issuer.LDS) Config {
	cfg := Config{
		MRZ:    MRZKey{DocumentNumber: l.DocumentNumber, DateOfBirth: l.DateOfBirth, DateOfExpiry: l.DateOfExpiry},
		CAN:    l.CAN,
		Files:  l.Files,
		AAKey:  l.AAKey,
		AAHash: l.AAHash,
	}
	if l.CAKey != nil { // a nil *ecc.PrivateKey must not become a non-nil any
		cfg.CAKey = l.CAKey
	}
	return cfg
}
