package paxdata

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/paxdata/edifact"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// parseNow is the tests' clock: a few days before the flights.
var parseNow = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

func parseFile(t testing.TB, name string) *Result {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Parse(b, ParseOptions{Now: func() time.Time { return parseNow }})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return res
}

// golden compares what a file parses to with testdata/NAME.golden.json
// (go test -update rewrites it).
func golden(t *testing.T, name string, res *Result) {
	t.Helper()
	got, err := json.MarshalIndent(struct {
		Manifests []*Manifest `json:"manifests"`
		Errors    []string    `json:"errors"`
	}{res.Manifests, res.ErrorStrings()}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", name+".golden.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from %s:\n%s", name, path, got)
	}
}

func TestParseMessages(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse("2006-01-02 15:04", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		file  string
		check func(t *testing.T, r *Result)
	}{
		{"paxlst-d05b-lines.edi", func(t *testing.T, r *Result) {
			m := only(t, r)
			f := m.Flight
			if m.Message != TypePAXLST || m.Version != "D05B" || f.Number != "UA0123" || f.Departure != "ORD" || f.Arrival != "AMS" ||
				!f.ArrivalAt.Equal(at("2026-11-25 08:55")) || !f.DepartureAt.Equal(at("2026-11-24 18:10")) || m.Declared != 3 || len(m.Warnings) != 0 {
				t.Fatalf("%+v", m)
			}
			jane, sean, petr := m.Travellers[0], m.Travellers[1], m.Travellers[2]
			if jane.Surname != "DOE" || jane.GivenNames != "JANE MARIE" || jane.BirthDate != "1980-03-12" || jane.Sex != "F" ||
				jane.DocumentNumber != "X12345678" || jane.IssuingState != "USA" || jane.DocumentExpiry != "2031-01-01" ||
				jane.BookingRef != "ABC123" || jane.Seat != "12A" || jane.Embarkation != "ORD" || jane.Role != RolePassenger {
				t.Errorf("jane %+v", jane)
			}
			if sean.Surname != "O'NEILL" || sean.BirthDate != "1975-12-31" || sean.DocumentNumber != "PA1234567" ||
				len(sean.OtherDocuments) != 1 || sean.OtherDocuments[0].Type != "V" || sean.OtherDocuments[0].IssuingState != "NLD" {
				t.Errorf("sean %+v", sean)
			}
			if petr.DocumentNumber != "" || petr.Nationality != "CZE" || petr.BirthDate != "1990-01-01" {
				t.Errorf("petr (no document) %+v", petr)
			}
		}},
		{"paxlst-d02b-oneline.edi", func(t *testing.T, r *Result) {
			m := only(t, r)
			f := m.Flight
			if m.Version != "D02B" || f.Number != "LH0400" || f.Arrival != "FRA" || len(f.Legs) != 2 || f.Legs[1].Arrival != "MUC" ||
				!f.Legs[1].DepartureAt.Equal(at("2026-11-25 09:00")) {
				t.Fatalf("multi-leg flight %+v", f)
			}
			if s := m.Travellers[0]; s.Debarkation != "MUC" || s.InTransit || s.BirthDate != "1970-02-02" {
				t.Errorf("continuing domestic passenger enters at FRA: %+v", s)
			}
			if g := m.Travellers[1]; g.Surname != "GARCIA LOPEZ" || g.GivenNames != "MARIA JOSE" || g.DocumentNumber != "" {
				t.Errorf("garcia %+v", g)
			}
			if h := m.Travellers[2]; h.BirthDate != "1962-01-15" || h.IssuingState != "D" || h.DocumentExpiry != "2028-01-01" {
				t.Errorf("mueller %+v", h)
			}
		}},
		{"paxlst-crew-custom.edi", func(t *testing.T, r *Result) {
			m := only(t, r)
			if !m.Crew || m.Flight.Number != "KL0641" || len(m.Travellers) != 2 || m.Declared != 2 {
				t.Fatalf("%+v", m)
			}
			a, b := m.Travellers[0], m.Travellers[1]
			if a.Role != RoleCrew || a.InTransit || a.Surname != "DE VRIES" || b.Role != RoleCrew || !b.InTransit || b.Qualifier != "DDT" ||
				b.BirthDate != "1979-09-09" || b.DocumentNumber != "NX7654321" {
				t.Errorf("crew %+v %+v", a, b)
			}
		}},
		{"paxlst-five-messages.edi", func(t *testing.T, r *Result) {
			if len(r.Manifests) != 2 || r.Manifests[0].Reference != "A1" || r.Manifests[1].Reference != "C3" {
				t.Fatalf("manifests %d", len(r.Manifests))
			}
			want := []string{
				"message B2, segment 10 (UNT): UNT counts 99 segments, the message has 10",
				"message D4, segment 9 (XYZ): unknown segment XYZ in a PAXLST message",
				`message E5, segment 7 (DTM): arrival: date "nnnnnnnnnn" is not a calendar date/time`,
			}
			if got := r.ErrorStrings(); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			c := r.Manifests[1]
			if c.Travellers[0].BirthDate != "" || c.Travellers[1].BirthDate != "2002-02-28" && c.Travellers[1].BirthDate != "" || len(c.Warnings) != 3 {
				t.Errorf("warnings %q, travellers %+v", c.Warnings, c.Travellers)
			}
			if !strings.Contains(c.Warnings[0], "message C3, segment 10 (DTM): date of birth") ||
				!strings.Contains(c.Warnings[2], "CNT+42 declares 3 passengers, the list has 2") {
				t.Errorf("warnings %q", c.Warnings)
			}
			for _, w := range c.Warnings {
				if strings.Contains(w, "911341") || strings.Contains(w, "LEROY") {
					t.Errorf("personal data in a warning: %s", w)
				}
			}
		}},
		{"pnrgov-two-bookings.edi", func(t *testing.T, r *Result) {
			m := only(t, r)
			if m.Message != TypePNRGOV || m.Version != "11.1" || m.Flight.Number != "BA0117" || !m.Flight.ArrivalAt.Equal(at("2026-11-26 13:00")) ||
				m.Bookings != 2 || len(m.Travellers) != 3 || m.Contacts != 4 || m.Payments != 2 {
				t.Fatalf("%+v", m)
			}
			alice, tom, jan := m.Travellers[0], m.Travellers[1], m.Travellers[2]
			if alice.Surname != "BROWN" || alice.GivenNames != "ALICE MARY" || alice.BirthDate != "1964-07-12" || alice.DocumentNumber != "123456789" ||
				alice.BookingRef != "XYZ123" || !alice.InTransit || alice.Debarkation != "MIA" || alice.Source != "DOCS" {
				t.Errorf("alice %+v", alice)
			}
			if tom.GivenNames != "TOM" || tom.BirthDate != "2015-02-01" || tom.Sex != "M" {
				t.Errorf("tom %+v", tom)
			}
			if jan.Surname != "KOWALSKI" || jan.GivenNames != "JAN" || jan.DocumentNumber != "EE1234567" || jan.InTransit || jan.BookingRef != "QWE987" {
				t.Errorf("jan (DOCS before TIF) %+v", jan)
			}
		}},
		{"pnrgov-oneline.edi", func(t *testing.T, r *Result) {
			m := only(t, r)
			v := m.Travellers[0]
			if m.Version != "13.1" || v.DocumentNumber != "" || v.BirthDate != "1977-05-05" || len(v.OtherDocuments) != 1 ||
				v.OtherDocuments[0].Number != "FR0098765" || !m.Flight.ArrivalAt.Equal(at("2026-12-10 23:50")) {
				t.Errorf("%+v", m)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			r := parseFile(t, tc.file)
			tc.check(t, r)
			golden(t, tc.file, r)
		})
	}
}

func only(t *testing.T, r *Result) *Manifest {
	t.Helper()
	if len(r.Errors) != 0 || len(r.Manifests) != 1 {
		t.Fatalf("%d manifests, errors %q", len(r.Manifests), r.ErrorStrings())
	}
	return r.Manifests[0]
}

// TestBadMessages checks that damage is reported with the message, the
// segment number and the reason.
func TestBadMessages(t *testing.T) {
	wrap := func(typ string, segs ...string) string {
		b := "UNB+UNOA:4+S+R+1:1+R'UNH+M+" + typ + "'"
		for _, s := range segs {
			b += s + "'"
		}
		return b + "UNT+" + strconv.Itoa(len(segs)+2) + "+M'UNZ+1+R'"
	}
	fl := []string{"BGM+745", "TDT+20+XX100", "LOC+125+AAA", "DTM+189:2611241000:201", "LOC+87+BBB", "DTM+232:2611241200:201"}
	px := "PAXLST:D:05B:UN:IATA"
	tests := []struct{ name, in, want string }{
		{"no BGM", wrap(px, fl[1:]...), "message M, segment 2 (TDT): BGM must follow UNH"},
		{"no flight", wrap(px, "BGM+745", "CNT+42:0"), "message M, segment 4 (UNT): no flight (TDT) in the message"},
		{"traveller before flight", wrap(px, "BGM+745", "NAD+FL+++A:B"), "segment 3 (NAD): traveller before the flight"},
		{"unknown party", wrap(px, append(append([]string{}, fl...), "NAD+ZZ+++A:B")...), "segment 8 (NAD): party qualifier \"ZZ\" is not a traveller"},
		{"ATT outside traveller", wrap(px, append(append([]string{}, fl...), "ATT+2++M")...), "segment 8 (ATT): traveller segment before any NAD"},
		{"bad sex", wrap(px, append(append([]string{}, fl...), "NAD+FL+++A:B", "ATT+2++Q")...), "segment 9 (ATT): sex \"Q\""},
		{"bad airport", wrap(px, "BGM+745", "TDT+20+XX100", "LOC+125+A1"), "segment 4 (LOC): location \"A1\" is not an IATA airport code"},
		{"bad flight", wrap(px, "BGM+745", "TDT+20+X"), "segment 3 (TDT): flight"},
		{"no arrival time", wrap(px, "BGM+745", "TDT+20+XX100", "LOC+125+AAA", "LOC+87+BBB"), "no arrival time"},
		{"bad count", wrap(px, append(append([]string{}, fl...), "CNT+42:x")...), "segment 8 (CNT): count \"x\" is not a number"},
		{"other message type", wrap("CUSRES:D:05B:UN"), "message type \"CUSRES\" is neither PAXLST nor PNRGOV"},
		{"PNR without flight", wrap("PNRGOV:11:1:IA", "MSG+:22", "SRC"), "segment 3 (SRC): PNR (SRC) before the flight"},
		{"PNR unknown segment", wrap("PNRGOV:11:1:IA", "MSG+:22", "QQQ+1"), "segment 3 (QQQ): unknown segment QQQ in a PNRGOV message"},
		{"PNR bad flight date", wrap("PNRGOV:11:1:IA", "TVL+321126:1000+LHR+JFK+BA+117"), "segment 2 (TVL): departure: date"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Parse([]byte(tc.in), ParseOptions{Now: func() time.Time { return parseNow }})
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Manifests) != 0 || len(r.Errors) != 1 || !strings.Contains(r.Errors[0].Error(), tc.want) {
				t.Fatalf("errors %q, want %q", r.ErrorStrings(), tc.want)
			}
			if !errors.Is(r.Errors[0], edifact.ErrSyntax) {
				t.Fatal("not an edifact error")
			}
		})
	}
	if _, err := Parse([]byte("\x00\x01garbage"), ParseOptions{}); !errors.Is(err, edifact.ErrNoInterchange) {
		t.Fatalf("garbage: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.edi")
	for _, p := range files {
		b, _ := os.ReadFile(p)
		f.Add(b)
		f.Add(b[:len(b)*2/3])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Parse(b, ParseOptions{Now: func() time.Time { return parseNow }})
		if err != nil {
			return
		}
		for _, m := range r.Manifests {
			if m.Flight.Number == "" || m.Flight.Arrival == "" || m.Flight.ExpectedArrival().IsZero() || m.Flight.Arrival == m.Flight.Departure {
				t.Fatalf("manifest without a flight: %+v", m.Flight)
			}
			for _, tr := range m.Travellers {
				if tr.Surname == "" || (tr.Role != RolePassenger && tr.Role != RoleCrew) {
					t.Fatalf("bad traveller %+v", tr)
				}
			}
		}
		for _, e := range r.Errors {
			if e.Message == "" || e.Reason == "" {
				t.Fatalf("error without message or reason: %+v", e)
			}
		}
	})
}

// wrapBody puts message segments into a valid envelope, counting them for
// UNT, so that the fuzzer reaches the message parsers rather than the
// envelope checks.
func wrapBody(typ string, body []byte) []byte {
	n := 2
	tok := edifact.NewTokenizer(body, edifact.Default, 0)
	for _, ok := tok.Next(); ok; _, ok = tok.Next() {
		n++
	}
	var b []byte
	b = append(b, "UNB+UNOA:3+S+R+1:1+R'UNH+1+"+typ+"'"...)
	b = append(b, body...)
	if len(body) > 0 && body[len(body)-1] != '\'' {
		b = append(b, '\'')
	}
	b = append(b, "UNT+"+strconv.Itoa(n)+"+1'UNZ+1+R'"...)
	return b
}

// messageBodies returns the segments between UNH and UNT of the test
// files' messages of type typ.
func messageBodies(t testing.TB, typ string) [][]byte {
	files, _ := filepath.Glob("testdata/*.edi")
	var out [][]byte
	for _, p := range files {
		b, _ := os.ReadFile(p)
		ics, err := edifact.ParseAll(b)
		if err != nil {
			continue
		}
		for _, ic := range ics {
			for _, m := range ic.Messages {
				if m.Type != typ || m.Err != nil {
					continue
				}
				var body []byte
				for _, s := range m.Segments[1 : len(m.Segments)-1] {
					body = append(body, s.Tag...)
					for _, e := range s.Elements {
						body = append(body, '+')
						for ri, r := range e {
							if ri > 0 {
								body = append(body, '*')
							}
							body = append(body, strings.Join(r, ":")...)
						}
					}
					body = append(body, '\'')
				}
				out = append(out, body)
			}
		}
	}
	return out
}

func fuzzBody(f *testing.F, typ string) {
	for _, b := range messageBodies(f, strings.SplitN(typ, ":", 2)[0]) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := Parse(wrapBody(typ, body), ParseOptions{Now: func() time.Time { return parseNow }})
		if err != nil {
			return
		}
		for _, m := range r.Manifests {
			if m.Flight.Number == "" || m.Flight.Arrival == "" {
				t.Fatalf("manifest without a flight: %+v", m.Flight)
			}
			if _, err := json.Marshal(m); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// FuzzPAXLST fuzzes the PAXLST parser behind a valid envelope.
func FuzzPAXLST(f *testing.F) { fuzzBody(f, "PAXLST:D:05B:UN:IATA") }

// FuzzPNRGOV fuzzes the PNRGOV parser behind a valid envelope.
func FuzzPNRGOV(f *testing.F) { fuzzBody(f, "PNRGOV:11:1:IA") }
