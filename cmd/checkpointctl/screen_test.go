package main

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// TestBatchSearchDaemon: --batch --daemon streams the batch to the admin
// socket and the results back, line for line; a daemon that stops the
// batch is an error; no daemon is exit 3.
func TestBatchSearchDaemon(t *testing.T) {
	dir := shortTempDir(t)
	kp := seal.FileKey{Path: filepath.Join(dir, "kek")}
	if err := seal.GenerateKeyFile(kp.Path); err != nil {
		t.Fatal(err)
	}
	s, err := watchlist.Open(filepath.Join(dir, "wl.db"), kp, watchlist.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p := watchlist.PersonAlert{ID: "P1", Name: watchlist.Name{Surname: "KOWALCZYK", GivenNames: "Zbigniew"},
		Births: []watchlist.BirthDate{{Date: "1962"}}, Category: "wanted", Action: watchlist.ActionArrest, Source: "national"}
	watchlist.FillMRZ(&p)
	if err := s.ReplaceAll(context.Background(), watchlist.Meta{WatchlistID: "t", Sequence: 1, IssuedAt: time.Now()},
		&watchlist.SliceSource{Changes: []watchlist.Change{{Op: watchlist.OpPut, Kind: watchlist.KindPerson, ID: "P1", Person: &p}}}); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/watchlist/screen", func(w http.ResponseWriter, r *http.Request) {
		http.NewResponseController(w).EnableFullDuplex()
		w.Header().Set("Trailer", "X-Screen-Error")
		w.Header().Set("Content-Type", "application/x-ndjson")
		if _, err := s.ScreenBatch(r.Context(), r.Body, w, watchlist.BatchOptions{MaxQueries: 3}); err != nil {
			w.Header().Set("X-Screen-Error", err.Error())
		}
	})
	sock := serveStatus(t, dir, mux)

	in := `{"id":"a","name":"KOWALCZYK<<ZBIGNIEW","birth_date":"1962-11-23"}` + "\n" + `{"id":"b","name":"NOWAK<<ANNA"}` + "\n"
	out, errOut, code := runTech(t, in, nil, "watchlist", "search", "--batch", "-", "--daemon", "--socket", sock)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("results:\n%s", out)
	}
	var r watchlist.BatchResult
	if err := json.Unmarshal([]byte(lines[0]), &r); err != nil || r.ID != "a" || len(r.Hits) != 1 || r.Hits[0].RefID != "P1" {
		t.Fatalf("first result %+v %v", r, err)
	}
	// The daemon's limit stops the batch: what was screened is written,
	// and the command fails with the daemon's reason.
	in = strings.Repeat(`{"name":"NOWAK<<ANNA"}`+"\n", 5)
	out, errOut, code = runTech(t, in, nil, "watchlist", "search", "--batch", "-", "--daemon", "--socket", sock)
	if code != 2 || strings.Count(out, "\n") != 3 || !strings.Contains(errOut, "more than 3 queries") {
		t.Fatalf("limit: exit %d, %d lines, %s", code, strings.Count(out, "\n"), errOut)
	}
	if _, errOut, code := runTech(t, in, nil, "watchlist", "search", "--batch", "-", "--daemon", "--socket", filepath.Join(dir, "none.sock")); code != exitStatusNotRunning {
		t.Fatalf("no daemon: exit %d %s", code, errOut)
	}
	if _, errOut, code := runTech(t, in, nil, "watchlist", "search", "--batch", "-", "--daemon", "--socket", sock, "--hit-threshold", "0.9"); code != 2 {
		t.Fatalf("thresholds with --daemon: exit %d %s", code, errOut)
	}
}
