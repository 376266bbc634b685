package mrz_test

import (
	"fmt"
	"time"

	"github.com/checkpoint-edge/checkpoint/mrz"
)

func ExampleParse() {
	d := mrz.Parse([]string{
		"P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
		"L898902C36UTO7408122F1204159ZE184226B<<<<<10",
	}, mrz.Options{Now: time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)})
	fmt.Println(d.Format, d.Valid, d.Surname, d.GivenNames, d.DocumentNumber, d.BirthDate, d.ExpiryDate)
	// Output: TD3 true ERIKSSON [ANNA MARIA] L898902C3 1974-08-12 2012-04-15
}

func ExampleParse_autocorrect() {
	d := mrz.Parse([]string{
		"P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
		"L8989O2C36UTO7408122F1204159ZE184226B<<<<<10",
	}, mrz.Options{Autocorrect: true, Now: time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)})
	fmt.Println(d.Valid, d.DocumentNumber)
	for _, c := range d.Corrections {
		fmt.Println(c)
	}
	// Output:
	// true L898902C3
	// line 2 col 6: "O"→"0" in document_number (the one most plausible candidate that satisfies the check digit)
}

func ExampleGenerate() {
	lines, err := mrz.Generate(mrz.Spec{
		Format: mrz.FormatTD1, IssuingState: "UTO", Nationality: "UTO",
		Surname: "Eriksson", GivenNames: []string{"Anna", "Maria"},
		DocumentNumber: "D23145890734", Sex: "F",
		BirthDate:  time.Date(1974, 8, 12, 0, 0, 0, 0, time.UTC),
		ExpiryDate: time.Date(2012, 4, 15, 0, 0, 0, 0, time.UTC),
	})
	if err != nil {
		panic(err)
	}
	for _, l := range lines {
		fmt.Println(l)
	}
	// Output:
	// I<UTOD23145890<7349<<<<<<<<<<<
	// 7408122F1204159UTO<<<<<<<<<<<6
	// ERIKSSON<<ANNA<MARIA<<<<<<<<<<
}

func ExampleTransliterate() {
	fmt.Println(mrz.Transliterate("Müller-Lüdenscheidt"))
	fmt.Println(mrz.TransliterateVariants("Müller"))
	fmt.Println(mrz.Transliterate("Юрий Гагарин"))
	// Output:
	// MUELLER LUEDENSCHEIDT
	// [MUELLER MULLER MUXXLLER]
	// IURII GAGARIN
}
