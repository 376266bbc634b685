package chipsim

import "errors"

var (
	// ErrConfig is returned by NewCard, LoadProfile and NewEmulator when the
	// card description is unusable: unknown file names, a bad MRZ key,
	// unsupported key types, a profile that does not decode.
	ErrConfig = errors.New("chipsim: invalid card configuration")
	// ErrInserted is returned by Emulator.Insert when the card is already in
	// the field.
	ErrInserted = errors.New("chipsim: card already inserted")
	// ErrNotInserted is returned by Emulator.Remove when the card is not in
	// the field.
	ErrNotInserted = errors.New("chipsim: card not inserted")
)
