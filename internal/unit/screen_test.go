package unit_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/checkpoint-edge/checkpoint/internal/unit"
	"github.com/checkpoint-edge/checkpoint/internal/unit/unittest"
	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// TestAdminBatchScreening: the admin socket screens a batch of travellers
// against the daemon's store (the path of `watchlist search --batch
// --daemon`), one result per line and in order, a bad line answered with
// its error; status reports the thresholds applied.
func TestAdminBatchScreening(t *testing.T) {
	f := unittest.New(t, unittest.Options{})
	running(t, f)
	ac := unixClient(filepath.Join(f.Config.StateDir, unit.AdminSocket))

	var in strings.Builder
	in.WriteString(`{"id":"listed","name":"PARK<<JIMIN","birth_date":"1995-10-13","nationality":"KOR","sex":"M"}` + "\n")
	in.WriteString(`{"id":"bad","name":"PARK<<JIMIN","birth":"1995"}` + "\n")
	in.WriteString("\n# a comment\n")
	for i := range 300 {
		fmt.Fprintf(&in, `{"id":"c%d","name":"SMITH<<JOHN<%c","birth_date":"1980-01-02","nationality":"NZL"}`+"\n", i, 'A'+i%26)
	}
	in.WriteString(`{"id":"stolen","name":"ERIKSSON<<ANNA","document_number":"X0000042","document_issuer":"UTO"}` + "\n")
	resp, err := ac.Post("http://unix/v1/watchlist/screen", "application/x-ndjson", strings.NewReader(in.String()))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("status %d %s: %v", resp.StatusCode, resp.Header, err)
	}
	if e := resp.Trailer.Get("X-Screen-Error"); e != "" {
		t.Fatalf("trailer error %q", e)
	}
	lines := bytes.Split(bytes.TrimSpace(body), []byte("\n"))
	if len(lines) != 303 {
		t.Fatalf("%d results for 303 travellers", len(lines))
	}
	var res []watchlist.BatchResult
	for _, l := range lines {
		var r watchlist.BatchResult
		if err := json.Unmarshal(l, &r); err != nil {
			t.Fatal(err)
		}
		res = append(res, r)
	}
	if res[0].ID != "listed" || len(res[0].Hits) == 0 || res[0].Hits[0].RefID != "WANTED-1" || res[0].Hits[0].LevelOrHit() != watchlist.LevelHit {
		t.Fatalf("listed traveller: %+v", res[0])
	}
	if res[1].ID != "" || !strings.Contains(res[1].Error, "birth") {
		t.Fatalf("bad line: %+v", res[1])
	}
	for i, r := range res[2:302] {
		if r.ID != fmt.Sprintf("c%d", i) || len(r.Hits) != 0 || r.Error != "" {
			t.Fatalf("clear traveller %d: %+v", i, r)
		}
	}
	if last := res[302]; last.ID != "stolen" || len(last.Hits) == 0 || last.Hits[0].Kind != watchlist.HitDocument {
		t.Fatalf("stolen document: %+v", last)
	}
	// Only POST is served there.
	if r, err := ac.Get("http://unix/v1/watchlist/screen"); err != nil || r.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET: %v %v", r.StatusCode, err)
	}

	r, err := ac.Get("http://unix/v1/status")
	if err != nil {
		t.Fatal(err)
	}
	var st unit.Status
	json.NewDecoder(r.Body).Decode(&st)
	r.Body.Close()
	if th := st.Watchlist.Thresholds; th.HitScore == 0 || th.PossibleScore == 0 || th.PossibleScore > th.HitScore {
		t.Fatalf("thresholds in status: %+v", th)
	}
}
