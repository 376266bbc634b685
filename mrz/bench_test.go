package mrz

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkParseTD3 is the budget: ≥ 1,000,000 TD3 parses per second per
// core, allocation-free when the Document is reused.
func BenchmarkParseTD3(b *testing.B) {
	lines := td3("ERIKSSON<<ANNA<MARIA", "L898902C3", "UTO", "740812", "F", "320415", "ZE184226B")
	opts := Options{Now: now}
	var d Document
	b.ReportAllocs()
	for b.Loop() {
		ParseInto(&d, lines, opts)
	}
	if !d.Valid {
		b.Fatal(d.Problems)
	}
}

// BenchmarkParseTD3New is Parse, which allocates the Document.
func BenchmarkParseTD3New(b *testing.B) {
	lines := td3("ERIKSSON<<ANNA<MARIA", "L898902C3", "UTO", "740812", "F", "320415", "ZE184226B")
	opts := Options{Now: now}
	b.ReportAllocs()
	for b.Loop() {
		if d := Parse(lines, opts); !d.Valid {
			b.Fatal(d.Problems)
		}
	}
}

func BenchmarkParseTD1(b *testing.B) {
	var d Document
	opts := Options{Now: now}
	b.ReportAllocs()
	for b.Loop() {
		ParseInto(&d, specTD1, opts)
	}
}

// BenchmarkParseAutocorrect measures the slow path: a TD3 with an O read
// for 0 in the document number, repaired under the check digit.
func BenchmarkParseAutocorrect(b *testing.B) {
	lines := []string{specTD3[0], "L8989O2C36UTO7408122F1204159ZE184226B<<<<<10"}
	opts := Options{Now: now, Autocorrect: true}
	var d Document
	b.ReportAllocs()
	for b.Loop() {
		ParseInto(&d, lines, opts)
	}
	if !d.Valid {
		b.Fatal(d.Problems)
	}
}

func BenchmarkTransliterate(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Transliterate("Müller-Lüdenscheidt Юрий")
	}
}

func BenchmarkGenerate(b *testing.B) {
	s := Random(rand.New(rand.NewPCG(1, 1)), FormatTD3, now)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Generate(s); err != nil {
			b.Fatal(err)
		}
	}
}
