package scannertest

import (
	"github.com/checkpoint-edge/checkpoint/device/scanner"
)

// Encode frames lines with scanner.Encode and panics on error: test input
// is known to be encodable.
func Encode(f scanner.Framing, lines ...string) []byte {
	b, err := scanner.Encode(f, lines)
	if err != nil {
		panic(err)
	}
	return b
}

// Specimen MRZs from ICAO Doc 9303 (the fictional state Utopia), one per
// format, for tests that need valid lines.
var (
	TD1 = []string{
		"I<UTOD231458907<<<<<<<<<<<<<<<",
		"7408122F1204159UTO<<<<<<<<<<<6",
		"ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
	}
	TD2 = []string{
		"I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<",
		"D231458907UTO7408122F1204159<<<<<<<6",
	}
	TD3 = []string{
		"P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
		"L898902C36UTO7408122F1204159ZE184226B<<<<<10",
	}
	MRVB = []string{
		"V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<",
		"L8988901C4XXX4009078F9612109<<<<<<<<",
	}
)
