package scanner_test

import (
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/device/scanner"
	"github.com/checkpoint-edge/checkpoint/device/scanner/scannertest"
	"github.com/checkpoint-edge/checkpoint/mrz"
)

// BenchmarkDecoder measures framing alone, per document (one TD3 with
// line noise before it), fed in 64-byte reads like a USB adapter delivers.
func BenchmarkDecoder(b *testing.B) {
	for _, f := range scanner.Framings() {
		b.Run(f.String(), func(b *testing.B) {
			stream := append(scanner.Noise(f, 1), scannertest.Encode(f, td3...)...)
			d := scanner.NewDecoder(f, time.Second)
			now := t0
			b.SetBytes(int64(len(stream)))
			b.ReportAllocs()
			frames := 0
			for b.Loop() {
				for i := 0; i < len(stream); i += 64 {
					frames += len(d.Feed(stream[i:min(i+64, len(stream))], now))
				}
				now = now.Add(time.Millisecond)
			}
			if frames != b.N {
				b.Fatalf("%d frames for %d documents", frames, b.N)
			}
		})
	}
}

// BenchmarkDocument is the scanner's share of document-to-decision: frame
// decoding plus MRZ parsing of one TD3.
func BenchmarkDocument(b *testing.B) {
	stream := scannertest.Encode(scanner.FramingSTXBCC, td3...)
	d := scanner.NewDecoder(scanner.FramingSTXBCC, time.Second)
	b.ReportAllocs()
	for b.Loop() {
		for _, f := range d.Feed(stream, t0) {
			if doc := mrz.Parse(f.Lines, mrz.Options{}); doc == nil {
				b.Fatal("nil document")
			}
		}
	}
}
