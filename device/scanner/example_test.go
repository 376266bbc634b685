package scanner_test

import (
	"bytes"
	"context"
	"fmt"

	"github.com/checkpoint-edge/checkpoint/device/scanner"
	"github.com/checkpoint-edge/checkpoint/mrz"
)

func scannerOpts() mrz.Options { return mrz.Options{} }

// Decoding a recorded byte stream with the same code the serial driver
// runs: an STX/ETX reader with a BCC, line noise, and a document scanned
// twice.
func ExampleNewStream() {
	lines := []string{
		"P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
		"L898902C36UTO7408122F1204159ZE184226B<<<<<10",
	}
	frame, _ := scanner.Encode(scanner.FramingSTXBCC, lines)
	var rec bytes.Buffer
	rec.Write([]byte{0x00, 0xff})
	rec.Write(frame)
	rec.Write(frame)

	s := scanner.NewStream(&rec, scanner.Config{Framing: scanner.FramingSTXBCC})
	go s.Run(context.Background())
	for ev := range s.Events() {
		fmt.Println(ev.Lines[1][:9], "repeat:", ev.Repeat)
	}
	fmt.Printf("%+v\n", s.State().Decoder)
	// Output:
	// L898902C3 repeat: false
	// L898902C3 repeat: true
	// {Frames:2 Noise:2 Partial:0 BadBCC:0 Overlong:0 Malformed:0}
}
