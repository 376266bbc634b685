package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/watchlist"
	"github.com/checkpoint-edge/checkpoint/watchlist/lists"
)

// realListsDir is ../shared/testdata/lists: the real sanctions lists. CI
// must have them.
func realListsDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "testdata", "lists")
	if _, err := os.Stat(filepath.Join(dir, "UN_consolidated.xml")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("real lists missing in CI: %v", err)
		}
		t.Skipf("real lists not available: %v", err)
	}
	abs, _ := filepath.Abs(dir)
	return abs
}

// TestWatchlistFromLists: one command builds a signed bundle from the real
// UN, OFAC and CSL files; it installs; travellers are screened in a batch;
// a new edition of a list gives a delta with only the changed persons.
func TestWatchlistFromLists(t *testing.T) {
	L := realListsDir(t)
	bin := techBinary(t)
	d := t.TempDir()
	p := func(n string) string { return filepath.Join(d, n) }
	ctl(t, bin, 0, "keys", "signing", "new", "--out", p("hq.key"))
	ctl(t, bin, 0, "keys", "signing", "new", "--out", p("r1.key"))
	ctl(t, bin, 0, "keys", "unit", "new", "--out", p("unit.age"))
	ctl(t, bin, 0, "keys", "root", "init", "--root-keys", p("r1.key"), "--threshold", "1", "--sign", p("r1.key"),
		"--signer", p("hq.key.pub"), "--out", p("trust.json"))
	if err := seal.GenerateKeyFile(p("kek")); err != nil {
		t.Fatal(err)
	}
	listFlags := []string{"--from", "un:" + filepath.Join(L, "UN_consolidated.xml"), "--from", "ofac:" + L, "--from", "csl:" + filepath.Join(L, "csl.csv")}

	t0 := time.Now()
	var built headerReport
	jsonLine(t, ctl(t, bin, 0, append([]string{"watchlist", "build", "--seq", "1", "--sign", p("hq.key"), "--to", p("unit.age.pub"),
		"--out", p("b1.cpwl"), "--watchlist-id", "sanctions", "--authority", "HQ", "--report", p("report.json"), "--json"}, listFlags...)...), &built)
	took := time.Since(t0)
	t.Logf("import of UN + OFAC consolidated + CSL and signed bundle in %v", took)
	if took > time.Minute {
		t.Errorf("building the bundle took %v", took) // the budget is 10 s on a quiet machine
	}
	h := *built.Header
	if h.Persons < 800 || h.Documents < 300 || h.RecordFormat != watchlist.RecordFormat || h.Puts != h.Persons+h.Documents {
		t.Fatalf("header %+v", h)
	}
	var rep lists.Report
	b, err := os.ReadFile(p("report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Lists) != 3 || int64(rep.Persons) != h.Persons {
		t.Fatalf("report %+v", rep)
	}
	linked := map[string]string{}
	for _, l := range rep.Links {
		linked[l.A+" "+l.B] = l.Rule
	}
	if linked["UN-QDi.277 CSL-SDN-10727"] != lists.RuleNameAndBirth || linked["OFAC-9696 CSL-PLC-9696"] != lists.RuleOFACNumber {
		t.Fatalf("links %v", linked)
	}
	unmapped := map[string]bool{}
	for _, u := range rep.Unmapped {
		unmapped[u.Value] = true
	}
	if !unmapped["former Soviet Union"] || unmapped["Russian Federation"] {
		t.Fatalf("unmapped countries %v", rep.Unmapped)
	}
	if bytes, _ := os.ReadFile(p("b1.cpwl")); strings.Contains(string(bytes), "HANIYA") {
		t.Fatal("bundle not encrypted")
	}

	store := []string{"--store", p("wl.db"), "--key", "file:" + p("kek")}
	trustFlags := []string{"--trust", p("trust.json"), "--identity", p("unit.age")}
	ctl(t, bin, 0, append(append([]string{"watchlist", "import", p("b1.cpwl"), "--json"}, store...), trustFlags...)...)
	var info infoResult
	jsonLine(t, ctl(t, bin, 0, append([]string{"watchlist", "info", "--json", "--config", p("none.yaml")}, store...)...), &info)
	if info.Meta.Persons != h.Persons || info.Thresholds.HitScore <= info.Thresholds.PossibleScore || info.Thresholds.PossibleScore == 0 {
		t.Fatalf("info %+v", info)
	}
	jsonLine(t, ctl(t, bin, 0, append([]string{"watchlist", "info", "--json", "--config", p("none.yaml"), "--hit-threshold", "0.8"}, store...)...), &info)
	if info.Thresholds.HitScore != 0.8 {
		t.Fatalf("--hit-threshold not reported: %+v", info.Thresholds)
	}

	// A batch: a listed person by an alias-free MRZ name and a year-only
	// listed date; the merged UN/CSL person; a bad line; a traveller who is
	// not listed; a listed person's own passport.
	batch := strings.Join([]string{
		`{"id":"P1","name":"HANIYA<<ISMAIL","birth_date":"1962-05-02","nationality":"PSE","sex":"M"}`,
		`{"id":"P2","surname":"AL MAZIDIH","given_names":["GHAZY","FEZZA"],"birth_date":"1975-03-02"}`,
		`{"id":"P3","name":"X<<Y","birth_date":"yesterday"}`,
		``,
		`{"id":"P4","name":"SMITH<<JOHN","birth_date":"1980-01-01","nationality":"GBR"}`,
		`{"id":"P5","name":"DOE<<JANE","document_number":"AB850901","document_issuer":"TZA","document_type":"P"}`,
	}, "\n") + "\n"
	if err := os.WriteFile(p("batch.jsonl"), []byte(batch), 0o600); err != nil {
		t.Fatal(err)
	}
	so, se, code := runBin(t, bin, "", nil, append([]string{"watchlist", "search", "--batch", p("batch.jsonl"), "--config", p("none.yaml")}, store...)...)
	if code != 0 {
		t.Fatalf("batch: exit %d: %s", code, se)
	}
	lines := strings.Split(strings.TrimSpace(so), "\n")
	if len(lines) != 5 {
		t.Fatalf("%d result lines for 5 travellers:\n%s", len(lines), so)
	}
	res := make([]watchlist.BatchResult, len(lines))
	for i, l := range lines {
		if err := json.Unmarshal([]byte(l), &res[i]); err != nil {
			t.Fatal(err)
		}
	}
	first := func(r watchlist.BatchResult) watchlist.Hit {
		if len(r.Hits) == 0 {
			return watchlist.Hit{}
		}
		return r.Hits[0]
	}
	if h := first(res[0]); res[0].ID != "P1" || h.RefID != "OFAC-9639" || h.LevelOrHit() != watchlist.LevelHit || h.Person == nil || len(h.Person.Lists) == 0 {
		t.Errorf("P1: %+v", res[0])
	}
	if h := first(res[1]); h.RefID != "UN-QDi.277" || h.Person == nil || len(h.Person.Lists) != 2 {
		t.Errorf("P2 (UN and CSL merged): %+v", res[1])
	}
	if res[2].Error == "" || res[2].Line != 3 {
		t.Errorf("P3 should fail: %+v", res[2])
	}
	if len(res[3].Hits) != 0 || res[3].Line != 5 {
		t.Errorf("P4 should be clear: %+v", res[3])
	}
	if h := first(res[4]); h.Kind != watchlist.HitDocument || h.Person == nil || !strings.HasPrefix(h.RefID, "UN-CDi.040") {
		t.Errorf("P5 (listed person's passport): %+v", res[4])
	}
	if !strings.Contains(se, "screened 5 travellers") {
		t.Errorf("summary: %s", se)
	}
	// The same batch on stdin.
	so2, _, code := runBin(t, bin, batch, nil, append([]string{"watchlist", "search", "--batch", "-", "--config", p("none.yaml")}, store...)...)
	if code != 0 || so2 != so {
		t.Fatalf("stdin batch differs (exit %d)", code)
	}

	// A new edition of the UN list: one person's date of birth corrected,
	// one person delisted. The delta carries only those.
	un, err := os.ReadFile(filepath.Join(L, "UN_consolidated.xml"))
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(un), "<DATE>1978-04-28</DATE>", "<DATE>1978-04-29</DATE>", 1)
	start := strings.Index(edited, "<INDIVIDUAL>")
	end := strings.Index(edited, "</INDIVIDUAL>") + len("</INDIVIDUAL>")
	if start < 0 || end < start || !strings.Contains(edited[start:end], "CDi.001") {
		t.Fatal("UN list changed shape")
	}
	edited = edited[:start] + edited[end:]
	if err := os.WriteFile(p("UN_new.xml"), []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	newFlags := []string{"--from", "un:" + p("UN_new.xml"), "--from", "ofac:" + L, "--from", "csl:" + filepath.Join(L, "csl.csv")}
	prevFlags := []string{"--prev", "un:" + filepath.Join(L, "UN_consolidated.xml"), "--prev", "ofac:" + L, "--prev", "csl:" + filepath.Join(L, "csl.csv")}
	jsonLine(t, ctl(t, bin, 0, append(append([]string{"watchlist", "build", "--seq", "2", "--base", "1", "--sign", p("hq.key"),
		"--to", p("unit.age.pub"), "--out", p("d12.cpwl"), "--watchlist-id", "sanctions", "--json"}, newFlags...), prevFlags...)...), &built)
	if built.Header.Puts != 1 || built.Header.Deletes != 1 || built.Header.Persons != h.Persons-1 || built.Header.BaseSequence != 1 {
		t.Fatalf("delta of a new edition: %+v", built.Header)
	}
	ctl(t, bin, 0, append(append([]string{"watchlist", "import", p("d12.cpwl"), "--json"}, store...), trustFlags...)...)
	jsonLine(t, ctl(t, bin, 0, append([]string{"watchlist", "info", "--json", "--config", p("none.yaml")}, store...)...), &info)
	if info.Meta.Sequence != 2 || info.Meta.Persons != h.Persons-1 {
		t.Fatalf("after the delta: %+v", info.Meta)
	}
	so, _, _ = runBin(t, bin, "", nil, append([]string{"watchlist", "search", "--name", "KATANGA<<GERMAIN", "--dob", "1978-04-29", "--json", "--config", p("none.yaml")}, store...)...)
	var out searchOutput
	jsonLine(t, so, &out)
	if len(out.Hits) == 0 || out.Hits[0].RefID != "UN-CDi.006" || out.Hits[0].LevelOrHit() != watchlist.LevelHit {
		t.Fatalf("corrected date not installed: %+v", out.Hits)
	}

	// The evaluation on the same lists, as a technician runs it.
	var ev evaluateReport
	jsonLine(t, ctl(t, bin, 0, append([]string{"watchlist", "evaluate", "--json", "--config", p("none.yaml"), "--check"}, listFlags...)...), &ev)
	if ev.Persons != int(h.Persons) || !ev.BudgetsMet || ev.Result == nil || len(ev.Result.Kinds) != 11 || ev.Result.Recall < 0.99 {
		t.Fatalf("evaluate: %+v", ev)
	}
}
