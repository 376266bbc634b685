package lists

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/checkpoint-edge/checkpoint/mrz"
	"github.com/checkpoint-edge/checkpoint/watchlist"
)

func readSeed(f *testing.F, path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// checkEntries: whatever a parser accepts is a valid record.
func checkEntries(t *testing.T, p *Parsed, prefix string) {
	for _, e := range p.Entries {
		if !strings.HasPrefix(e.Person.ID, prefix) {
			t.Fatalf("id %q", e.Person.ID)
		}
		if err := watchlist.ValidatePerson(&e.Person); err != nil {
			t.Fatalf("invalid record accepted: %v", err)
		}
		for _, d := range watchlist.DocumentAlertsOf(&e.Person) {
			c := watchlist.Change{Op: watchlist.OpPut, Kind: watchlist.KindDocument, ID: d.ID, Document: &d}
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// FuzzParseUN: any input is parsed or refused with ErrBadList, never a
// panic, and what is accepted validates.
func FuzzParseUN(f *testing.F) {
	seed := readSeed(f, "testdata/un_excerpt.xml")
	f.Add(seed)
	f.Add(seed[:len(seed)/2])
	f.Add([]byte(`<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><FIRST_NAME>A</FIRST_NAME><REFERENCE_NUMBER>X</REFERENCE_NUMBER><INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>BETWEEN</TYPE_OF_DATE><FROM_YEAR>1990</FROM_YEAR><TO_YEAR>1980</TO_YEAR></INDIVIDUAL_DATE_OF_BIRTH></INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>`))
	f.Add([]byte(`<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><FIRST_NAME>عبد الله</FIRST_NAME><REFERENCE_NUMBER>Y</REFERENCE_NUMBER><INDIVIDUAL_DOCUMENT><TYPE_OF_DOCUMENT>Passport</TYPE_OF_DOCUMENT><NUMBER>---</NUMBER></INDIVIDUAL_DOCUMENT></INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseUN(bytes.NewReader(data), Options{MaxBytes: 1 << 20})
		if err != nil {
			return
		}
		checkEntries(t, p, "UN-")
	})
}

// FuzzParseOFAC: the three CSV files of an OFAC list.
func FuzzParseOFAC(f *testing.F) {
	f.Add(readSeed(f, "testdata/ofac/cons_prim.csv"), readSeed(f, "testdata/ofac/cons_alt.csv"), readSeed(f, "testdata/ofac/cons_comments.csv"))
	f.Add([]byte(`1,"A, B","individual","X",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,"DOB circa 1971; alt. DOB 1958 to 1963; Passport 123456 (Iran) expires 2020; a.k.a. 'X'; nationality Korea, North"`+"\r\n"),
		[]byte(`1,2,"aka","C, D",-0- `), []byte("1,\"; POB Gaza\"\x1a"))
	f.Add([]byte("1,\"\"\"\",individual"), []byte{}, []byte{0xff, 0xfe})
	f.Fuzz(func(t *testing.T, prim, alt, comments []byte) {
		p, err := ParseOFAC(OFACFiles{List: "OFAC-SDN", Prim: bytes.NewReader(prim), Alt: bytes.NewReader(alt), Comments: bytes.NewReader(comments)}, Options{MaxBytes: 1 << 20})
		if err != nil {
			return
		}
		checkEntries(t, p, "OFAC-")
	})
}

// FuzzRemarks: OFAC's free-text remarks.
func FuzzRemarks(f *testing.F) {
	for _, s := range []string{
		"DOB 12 Feb 1961; POB Port-au-Prince, Haiti; nationality Haiti; Gender Male; National ID No. 0032768386 (Haiti); a.k.a. 'Sweet Micky'.",
		"DOB circa 1971; alt. DOB 1958 to 1963; citizen Iran; Passport A1234 (Iran) expires 01 Jan 2020; Diplomatic Passport 77 (Syria)",
		"a.k.a. '; DOB (;; Passport ()",
		"DOB 31 Feb 1961; DOB 99999; nationality ;",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p := watchlist.PersonAlert{ID: "X", Name: watchlist.Name{Surname: "X"}, Category: "c", Action: "a", Source: "s"}
		parseRemarks(&p, s, newParsed("OFAC-SDN"), Options{}.withDefaults())
		if err := watchlist.ValidatePerson(&p); err != nil {
			t.Fatalf("remarks %q made an invalid record: %v", s, err)
		}
	})
}

// FuzzParseCSL: the Consolidated Screening List CSV.
func FuzzParseCSL(f *testing.F) {
	seed := readSeed(f, "testdata/csl_excerpt.csv")
	f.Add(seed)
	f.Add([]byte("source,name,type,ids,dates_of_birth,alt_names\nX Treasury,\"A, B\",Individual,\"IR, 1, Passport; 2\",1974; 19xx,\"C, D; ;\"\n"))
	f.Add([]byte("name\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseCSL(bytes.NewReader(data), Options{MaxBytes: 1 << 20})
		if err != nil {
			return
		}
		checkEntries(t, p, "CSL-")
	})
}

// FuzzParseListedDate: accepted dates are valid listed dates.
func FuzzParseListedDate(f *testing.F) {
	for _, s := range []string{"1961-02-12", "12 Feb 1961", "Feb 1961", "circa 1971", "1958 to 1963", "between 1958 and 1963", "12/02/1961", "0/0/0000", "circa 9999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, ok := parseListedDate(s, 2)
		if !ok {
			return
		}
		if _, err := watchlist.ParseBirthDate(b.String()); err != nil {
			t.Fatalf("%q accepted as %q: %v", s, b.String(), err)
		}
	})
}

// FuzzCountry: a mapped country is a known ICAO code that maps to itself.
func FuzzCountry(f *testing.F) {
	for _, s := range []string{"Russian Federation", "Korea, North", "SY", "DEU", "Côte d'Ivoire", "(", ",", "the the"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, ok := Country(s)
		if !ok {
			return
		}
		if _, known := mrz.CountryName(c); !known || len(c) != 3 {
			t.Fatalf("Country(%q) = %q", s, c)
		}
		if again, ok := Country(c); !ok || again != c {
			t.Fatalf("Country(%q) = %q, not stable", c, again)
		}
	})
}
