package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/audit"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/paxdata/paxdatatest"
	"github.com/checkpoint-edge/checkpoint/paxdata/paxstore"
)

func TestPaxdataScreenCLI(t *testing.T) {
	bin := techBinary(t)
	d := t.TempDir()
	p := func(n string) string { return filepath.Join(d, n) }
	os.MkdirAll(p("state"), 0o700)
	if err := seal.GenerateKeyFile(p("kek")); err != nil {
		t.Fatal(err)
	}
	// A watchlist with a stolen passport and a wanted person.
	list := `{"kind":"meta","watchlist_id":"national","authority":"HQ"}
{"op":"put","kind":"document","id":"D1","document":{"id":"D1","issuing_state":"UTO","document_type":"P","number":"L898902C3","status":"stolen","source":"SLTD","action":"refer"}}
{"op":"put","kind":"person","id":"P1","person":{"id":"P1","name":{"surname":"Kowalczyk","given_names":"Anna"},"birth":"1975-06-01","nationality":"POL","sex":"F","category":"wanted","action":"arrest","source":"interpol_red"}}
`
	os.WriteFile(p("list.jsonl"), []byte(list), 0o600)
	store := []string{"--store", p("state/watchlist.db"), "--key", "file:" + p("kek")}
	ctl(t, bin, 0, append([]string{"watchlist", "import", p("list.jsonl"), "--unsigned"}, store...)...)

	pax := paxdatatest.Travellers(60, 4)
	pax[7].DocumentNumber, pax[7].IssuingState = "L898902C3", "UTO"
	pax[33].Surname, pax[33].GivenNames, pax[33].BirthDate, pax[33].Nationality, pax[33].Sex = "KOWALCZYK", "ANNA", "1975-06-01", "POL", "F"
	arr := time.Now().Add(3 * time.Hour).Truncate(time.Minute)
	msg := paxdatatest.PAXLST(paxdatatest.Flight{Carrier: "XX", Number: "123", Departure: "JFK", Arrival: "LHR",
		DepartureAt: arr.Add(-7 * time.Hour), ArrivalAt: arr}, pax, "CLI1")
	os.WriteFile(p("flight.edi"), msg, 0o600)

	// No daemon and no unit config: screened here, printed, not kept.
	args := append([]string{"paxdata", "screen", p("flight.edi"), "--config", p("none.yaml")}, store...)
	var res paxFileResult
	jsonLine(t, ctl(t, bin, 0, append(args, "--json")...), &res)
	if res.Via != "local" || len(res.Reports) != 1 || len(res.Errors) != 0 {
		t.Fatalf("result %+v", res)
	}
	r := res.Reports[0]
	if r.Counts.Passengers+r.Counts.Crew != 60 || r.Counts.Screened != 60 || r.Counts.Hits != 2 || r.Flight.Number != "XX0123" {
		t.Fatalf("report counts %+v", r.Counts)
	}
	out := ctl(t, bin, 0, args...)
	for _, want := range []string{"PAXLST XX0123 JFK → LHR", "60 screened, 2 hits", "document D1", "person P1", "KOWALCZYK, ANNA"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}

	// A file with a damaged message: the other is screened, the damage
	// named, exit 1.
	bad := bytes.Replace(msg, []byte("UNE+1+CLI1'"), []byte(""), 1)
	bad = bytes.Replace(bad, []byte("NAD+FL"), []byte("NAD+ZZ"), 1)
	os.WriteFile(p("bad.edi"), bad, 0o600)
	errOut := ctl(t, bin, 1, append([]string{"paxdata", "screen", p("bad.edi"), p("flight.edi"), "--config", p("none.yaml")}, store...)...)
	if !strings.Contains(errOut, "could not be read") {
		t.Fatalf("stderr %s", errOut)
	}
	so, _, _ := runCtl(t, bin, nil, append([]string{"paxdata", "screen", p("bad.edi"), "--config", p("none.yaml")}, store...)...)
	if !strings.Contains(so, `ERROR message CLI1, segment`) || !strings.Contains(so, `party qualifier "ZZ"`) {
		t.Fatalf("damage not named:\n%s", so)
	}

	// On a unit (config readable, daemon stopped): kept encrypted for the
	// daemon and audited.
	cfg := writeMinimalConfig(t, p("state"), fmt.Sprintf("watchlist: {key: 'file:%s'}\n", p("kek")))
	ctl(t, bin, 0, "paxdata", "screen", p("flight.edi"), "--config", cfg)
	ps, err := paxstore.Open(filepath.Join(p("state"), "paxdata.db"), seal.FileKey{Path: p("kek")}, paxstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	l, _ := ps.List()
	ps.Close()
	if len(l) != 1 || l[0].Flight != "XX0123" || l[0].Flagged != 2 {
		t.Fatalf("stored %+v", l)
	}
	raw, _ := os.ReadFile(filepath.Join(p("state"), "audit.log"))
	if _, err := audit.Verify(filepath.Join(p("state"), "audit.log")); err != nil || !bytes.Contains(raw, []byte(`"action":"paxdata_screened"`)) ||
		bytes.Contains(raw, []byte("KOWALCZYK")) || bytes.Contains(raw, []byte("L898902C3")) {
		t.Fatalf("audit %v:\n%s", err, raw)
	}
}
