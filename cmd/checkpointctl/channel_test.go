package main

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/audit"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/paxdata"
	"github.com/checkpoint-edge/checkpoint/sync/bundle"
	"github.com/checkpoint-edge/checkpoint/sync/channel"
	"github.com/checkpoint-edge/checkpoint/sync/pki"
)

// writeFlightRecords writes the JSON Lines of a prearrival channel: one
// flight to port with one alert.
func writeFlightRecords(t *testing.T, path, port string, flights ...string) {
	t.Helper()
	var b bytes.Buffer
	arr := time.Now().Add(3 * time.Hour).Truncate(time.Minute)
	for _, fl := range flights {
		f := &paxdata.FlightAlerts{Flight: fl, Departure: "JFK", Arrival: port, ArrivalAt: arr, ScreenedAt: time.Now().Truncate(time.Minute),
			ScreenedBy: "HQ", Message: "PAXLST", Counts: paxdata.Counts{Passengers: 200, Screened: 200, Hits: 1},
			Alerts: []paxdata.Alert{{Level: paxdata.LevelHit, Traveller: paxdata.Traveller{Role: paxdata.RolePassenger,
				Surname: "DOE", GivenNames: "JANE", BirthDate: "1980-03-12", DocumentNumber: "X1234567", IssuingState: "UTO"},
				Matches: []paxdata.Match{{Kind: "document", RefID: "D1", Action: "refer", Level: "hit", Score: 1, Explanation: "stolen"}}}}}
		rec, err := f.Record(arr.Add(4 * time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		json.NewEncoder(&b).Encode(rec)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestBundleChannelCLI builds, verifies, sideloads, lists and pulls a
// prearrival channel bundle with checkpointctl, and checks the refusals.
func TestBundleChannelCLI(t *testing.T) {
	bin := techBinary(t)
	d := t.TempDir()
	p := func(n string) string { return filepath.Join(d, n) }
	ctl(t, bin, 0, "keys", "signing", "new", "--out", p("hq.key"))
	ctl(t, bin, 0, "keys", "signing", "new", "--out", p("r1.key"))
	var unit keyInfo
	jsonLine(t, ctl(t, bin, 0, "keys", "unit", "new", "--out", p("unit.age"), "--json"), &unit)
	ctl(t, bin, 0, "keys", "root", "init", "--root-keys", p("r1.key"), "--threshold", "1", "--sign", p("r1.key"),
		"--signer", p("hq.key.pub"), "--name", "hq", "--out", p("trust.json"))
	if err := seal.GenerateKeyFile(p("kek")); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(p("unit"), 0o700)
	unitCfg := writeMinimalConfig(t, p("unit"), "")
	common := []string{"--trust", p("trust.json"), "--identity", p("unit.age"), "--channels", p("unit/channels.db"),
		"--channels-key", "file:" + p("kek"), "--store", p("unit/watchlist.db"), "--key", "file:" + p("kek"), "--config", unitCfg}
	build := func(out, from string, seq string, extra ...string) headerReport {
		var h headerReport
		jsonLine(t, ctl(t, bin, 0, append([]string{"bundle", "build", "--kind", "prearrival", "--channel", "LHR", "--from", from,
			"--seq", seq, "--sign", p("hq.key"), "--to", unit.Recipient, "--out", out, "--expires", "12h", "--json"}, extra...)...), &h)
		return h
	}

	writeFlightRecords(t, p("lhr1.jsonl"), "LHR", "BA0123", "AA0100")
	h := build(p("pre1.cpwl"), p("lhr1.jsonl"), "5")
	if h.Header.Kind != "prearrival" || h.Header.Channel != "LHR" || h.Header.Puts != 2 || h.Header.Sequence != 5 {
		t.Fatalf("built %+v", h.Header)
	}
	if b, _ := os.ReadFile(p("pre1.cpwl")); bytes.Contains(b, []byte("X1234567")) || bytes.Contains(b, []byte("DOE")) {
		t.Fatal("channel bundle not encrypted")
	}
	if out := ctl(t, bin, 0, append([]string{"bundle", "verify", p("pre1.cpwl")}, common...)...); !strings.Contains(out, "prearrival/LHR") ||
		!strings.Contains(out, "records     2 (consumer: accepts the records)") {
		t.Fatalf("verify: %s", out)
	}

	// Sideload, then the refusals, each leaving the store as it was.
	var rep channelReport
	jsonLine(t, ctl(t, bin, 0, append([]string{"bundle", "import", p("pre1.cpwl"), "--json"}, common...)...), &rep)
	if !rep.Installed || rep.State.Sequence != 5 || rep.State.Records != 2 || rep.Signer != "hq" {
		t.Fatalf("import: %+v", rep)
	}
	if msg := ctl(t, bin, exitRefused, append([]string{"bundle", "import", p("pre1.cpwl")}, common...)...); !strings.Contains(msg, "rollback") {
		t.Fatalf("replay: %s", msg)
	}
	// A flight for another port inside the LHR channel: the consumer refuses.
	writeFlightRecords(t, p("cdg.jsonl"), "CDG", "AF0001")
	build(p("bad.cpwl"), p("cdg.jsonl"), "6")
	if msg := ctl(t, bin, exitRefused, append([]string{"bundle", "import", p("bad.cpwl")}, common...)...); !strings.Contains(msg, "rejected") {
		t.Fatalf("records for another port: %s", msg)
	}
	// A kind this build has no consumer for.
	os.WriteFile(p("x.jsonl"), []byte(`{"id":"a","data":{}}`+"\n"), 0o600)
	ctl(t, bin, 0, "bundle", "build", "--kind", "nosuchkind", "--channel", "c", "--from", p("x.jsonl"), "--sign", p("hq.key"),
		"--to", unit.Recipient, "--out", p("x.cpwl"))
	if msg := ctl(t, bin, exitRefused, append([]string{"bundle", "import", p("x.cpwl")}, common...)...); !strings.Contains(msg, "no consumer") {
		t.Fatalf("unknown kind: %s", msg)
	}
	b, _ := os.ReadFile(p("pre1.cpwl"))
	os.WriteFile(p("cut.cpwl"), b[:len(b)-30], 0o600)
	ctl(t, bin, exitRefused, append([]string{"bundle", "import", p("cut.cpwl")}, common...)...)
	// A channel bundle is not a watchlist.
	if msg := ctl(t, bin, exitRefused, "watchlist", "import", p("pre1.cpwl"), "--store", p("unit/watchlist.db"),
		"--key", "file:"+p("kek"), "--trust", p("trust.json"), "--identity", p("unit.age")); !strings.Contains(msg, "wrong kind") {
		t.Fatalf("channel bundle as a watchlist: %s", msg)
	}
	// And a watchlist bundle goes through 'bundle import' to the watchlist.
	writeSnapshot(t, p("v1.jsonl"), 20, "stolen")
	ctl(t, bin, 0, "bundle", "build", "--from", p("v1.jsonl"), "--seq", "1", "--sign", p("hq.key"), "--to", unit.Recipient, "--out", p("w1.cpwl"))
	var wrep installReport
	jsonLine(t, ctl(t, bin, 0, append([]string{"bundle", "import", p("w1.cpwl"), "--json"}, common...)...), &wrep)
	if !wrep.Installed || wrep.WatchlistID != "national" || wrep.Puts != 20 {
		t.Fatalf("watchlist through bundle import: %+v", wrep)
	}

	var st channel.State
	out := ctl(t, bin, 0, append([]string{"bundle", "list", "--json"}, common...)...)
	jsonLine(t, out, &st)
	if st.Kind != "prearrival" || st.Channel != "LHR" || st.Sequence != 5 || st.Records != 2 {
		t.Fatalf("list: %s", out)
	}
	raw, _ := os.ReadFile(filepath.Join(p("unit"), "audit.log"))
	if rep, err := audit.Verify(filepath.Join(p("unit"), "audit.log")); err != nil || rep.Entries != 1 ||
		!bytes.Contains(raw, []byte(`"action":"channel_sideloaded"`)) || !bytes.Contains(raw, []byte(`"channel":"LHR"`)) {
		t.Fatalf("audit: %+v %v\n%s", rep, err, raw)
	}

	// Publish and pull over mutual TLS into a second unit.
	writeFlightRecords(t, p("lhr2.jsonl"), "LHR", "BA0123")
	build(p("pre2.cpwl"), p("lhr2.jsonl"), "7")
	ctl(t, bin, 0, "bundle", "publish", "--dir", p("pub"), p("pre1.cpwl"))
	ctl(t, bin, 0, "bundle", "publish", "--dir", p("pub"), p("pre2.cpwl"), "--keep-full", "1")
	if _, err := os.Stat(p("pub/prearrival/LHR/index.json")); err != nil {
		t.Fatal(err)
	}
	ca, _ := pki.NewCA("cli test CA", 0)
	srvCert, _ := ca.IssueServer(nil, 0)
	unitCert, _ := ca.IssueUnit("unit-7", 0)
	os.WriteFile(p("ca.crt"), ca.CertPEM(), 0o644)
	unitCert.WriteFiles(p("unit.crt"), p("unit.key"))
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	sc, _ := srvCert.TLSCertificate()
	srv := httptest.NewUnstartedServer(http.StripPrefix("/v1/bundles/", http.FileServer(http.Dir(p("pub")))))
	srv.TLS = pki.NewServerConfig(sc, pool)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	os.MkdirAll(p("unit2"), 0o700)
	pullArgs := []string{"bundle", "pull", "--kind", "prearrival", "--channel", "LHR", "--url", srv.URL + "/v1/bundles/",
		"--cert", p("unit.crt"), "--tls-key", p("unit.key"), "--ca", p("ca.crt"), "--trust", p("trust.json"), "--identity", p("unit.age"),
		"--channels", p("unit2/channels.db"), "--channels-key", "file:" + p("kek")}
	if out := ctl(t, bin, 0, pullArgs...); !strings.Contains(out, "prearrival/LHR: installed sequence 7") {
		t.Fatalf("pull: %s", out)
	}
	if out := ctl(t, bin, 0, pullArgs...); !strings.Contains(out, "up to date at sequence 7") {
		t.Fatalf("second pull: %s", out)
	}
	// The other unit holds what was pulled: one flight, encrypted at rest.
	s, err := channel.Open(p("unit2/channels.db"), seal.FileKey{Path: p("kek")}, channel.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	recs, _, err := s.Records(bundle.KindPrearrival, "LHR", time.Now())
	if err != nil || len(recs) != 1 || !strings.HasPrefix(recs[0].ID, "BA0123/") {
		t.Fatalf("pulled records %v %v", recs, err)
	}
	if raw, _ := os.ReadFile(p("unit2/channels.db")); bytes.Contains(raw, []byte("X1234567")) {
		t.Fatal("channel store not encrypted")
	}
}
