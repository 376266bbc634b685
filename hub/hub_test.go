package hub_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/checkpoint-edge/checkpoint/hub"
	"github.com/checkpoint-edge/checkpoint/hub/hubtest"
	"github.com/checkpoint-edge/checkpoint/hub/pgtest"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/sync/outbox"
)

func rec(unit string, seq int, p outbox.Priority) outbox.Record {
	return outbox.Record{
		Key: fmt.Sprintf("%s:%032x", unit, seq), Seq: uint64(seq), Kind: "result", Priority: p,
		CreatedAt: time.Unix(1_800_000_000+int64(seq), 0).UTC(),
		Payload:   json.RawMessage(fmt.Sprintf(`{"surname":"ERIKSSON","n":%d}`, seq)),
	}
}

func client(cfg *tls.Config) *http.Client {
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 10 * time.Second}
}

func do(t *testing.T, c *http.Client, method, url string, body []byte, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, bytes.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestHTTPResultsAndUnits(t *testing.T) {
	srv := hubtest.Start(t, hubtest.Options{})
	desk1 := client(srv.Fleet.ClientTLS(t, "desk-1"))
	desk2 := client(srv.Fleet.ClientTLS(t, "desk-2"))
	ops := client(srv.Fleet.OperatorTLS(t, "ops"))

	batch, _ := json.Marshal(outbox.Batch{Items: []outbox.Record{rec("desk-1", 1, outbox.Hit), rec("desk-1", 2, outbox.Routine)}})
	resp, body := do(t, desk1, "POST", srv.URL+"/v1/results", batch)
	var br outbox.BatchResponse
	json.Unmarshal(body, &br)
	if resp.StatusCode != 200 || br.Unit != "desk-1" || len(br.Acked) != 2 {
		t.Fatalf("POST: %s %s", resp.Status, body)
	}
	// desk-2 cannot file desk-1's records under its name or desk-1's.
	if resp, body := do(t, desk2, "POST", srv.URL+"/v1/results", batch); resp.StatusCode != 400 {
		t.Fatalf("foreign keys: %s %s", resp.Status, body)
	}
	for _, tc := range []struct {
		name string
		body string
	}{
		{"not json", `{"items":`},
		{"empty batch", `{"items":[]}`},
		{"unknown priority", `{"items":[{"key":"desk-1:x","kind":"r","priority":"urgent","payload":{}}]}`},
	} {
		if resp, body := do(t, desk1, "POST", srv.URL+"/v1/results", []byte(tc.body)); resp.StatusCode != 400 {
			t.Errorf("%s: %s %s", tc.name, resp.Status, body)
		}
	}

	if resp, body := do(t, desk1, "GET", srv.URL+"/v1/results", nil); resp.StatusCode != 200 || !strings.Contains(string(body), `"unit_seq":2`) {
		t.Fatalf("own results: %s %s", resp.Status, body)
	}
	if resp, _ := do(t, desk2, "GET", srv.URL+"/v1/results?unit=desk-1", nil); resp.StatusCode != 403 {
		t.Fatalf("desk-2 read desk-1's results: %s", resp.Status)
	}
	if resp, _ := do(t, desk1, "GET", srv.URL+"/v1/units", nil); resp.StatusCode != 403 {
		t.Fatalf("a desk listed units: %s", resp.Status)
	}
	// An operator certificate cannot upload; a unit certificate named
	// "ops" is no operator.
	if resp, body := do(t, ops, "POST", srv.URL+"/v1/results", batch); resp.StatusCode != 403 {
		t.Fatalf("operator uploaded: %s %s", resp.Status, body)
	}
	fakeOps := client(srv.Fleet.ClientTLS(t, "ops"))
	if resp, _ := do(t, fakeOps, "GET", srv.URL+"/v1/units", nil); resp.StatusCode != 403 {
		t.Fatalf("unit certificate named ops listed units: %s", resp.Status)
	}
	resp, body = do(t, ops, "GET", srv.URL+"/v1/results?unit=desk-1&after=1&limit=5", nil)
	var rr struct{ Results []hub.Stored }
	json.Unmarshal(body, &rr)
	if resp.StatusCode != 200 || len(rr.Results) != 1 || rr.Results[0].UnitSeq != 2 {
		t.Fatalf("ops paging: %s %s", resp.Status, body)
	}
	resp, body = do(t, ops, "GET", srv.URL+"/v1/units", nil)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"unit":"desk-1"`) {
		t.Fatalf("units: %s %s", resp.Status, body)
	}
	if resp, _ := do(t, ops, "GET", srv.URL+"/v1/results?unit=ghost", nil); resp.StatusCode != 404 {
		t.Fatalf("unknown unit: %s", resp.Status)
	}
	if resp, body := do(t, desk1, "GET", srv.URL+"/healthz", nil); resp.StatusCode != 200 || string(body) != "ok\n" {
		t.Fatalf("healthz: %s %q", resp.Status, body)
	}
	// Without a client certificate there is no connection at all.
	anon := client(&tls.Config{RootCAs: srv.Fleet.ClientTLS(t, "x").RootCAs, MinVersion: tls.VersionTLS13})
	if _, err := anon.Get(srv.URL + "/healthz"); err == nil {
		t.Fatal("hub accepted a connection without a client certificate")
	}
	if resp, _ := do(t, ops, "GET", srv.URL+"/v1/results?since=yesterday", nil); resp.StatusCode != 400 {
		t.Fatalf("bad time: %s", resp.Status)
	}
	// Imports are off unless the hub has an identity.
	if resp, _ := do(t, desk1, "POST", srv.URL+"/v1/imports", []byte("x")); resp.StatusCode != 400 {
		t.Fatalf("import without identity: %s", resp.Status)
	}
}

func TestHTTPImport(t *testing.T) {
	srv := hubtest.Start(t, hubtest.Options{Import: true})
	kp := seal.FileKey{Path: filepath.Join(t.TempDir(), "k")}
	seal.GenerateKeyFile(kp.Path)
	o, err := outbox.Open(filepath.Join(t.TempDir(), "o.db"), kp, outbox.Options{UnitID: "post-3"})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	for i := range 5 {
		o.Enqueue(context.Background(), outbox.Item{Kind: "result", Priority: outbox.Hit, Payload: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))})
	}
	var buf bytes.Buffer
	if _, err := o.Export(&buf, []age.Recipient{srv.Recipient}, srv.Fleet.Certificate(t, "post-3")); err != nil {
		t.Fatal(err)
	}
	// Carried by a technician whose laptop has the "ops" certificate.
	ops := client(srv.Fleet.OperatorTLS(t, "ops"))
	resp, body := do(t, ops, "POST", srv.URL+"/v1/imports", buf.Bytes())
	var res hub.IngestResult
	json.Unmarshal(body, &res)
	if resp.StatusCode != 200 || res.Unit != "post-3" || res.New != 5 {
		t.Fatalf("import: %s %s", resp.Status, body)
	}
	if resp, _ := do(t, ops, "POST", srv.URL+"/v1/imports", buf.Bytes()[:100]); resp.StatusCode != 400 {
		t.Fatalf("truncated import: %s", resp.Status)
	}
	if got := srv.Results(t, "post-3"); len(got) != 5 || got[0].Source != hub.SourceImport {
		t.Fatalf("stored %+v", got)
	}
}

func TestBundles(t *testing.T) {
	dir := t.TempDir()
	content := bytes.Repeat([]byte("bundle-bytes-"), 1000)
	os.WriteFile(filepath.Join(dir, "full-42.cpb"), content, 0o644)
	os.MkdirAll(filepath.Join(dir, "delta"), 0o755)
	os.WriteFile(filepath.Join(dir, "delta", "41-42.cpb"), []byte("delta"), 0o644)
	os.WriteFile(filepath.Join(dir, ".hidden"), []byte("secret"), 0o644)
	os.WriteFile(filepath.Join(filepath.Dir(dir), "outside"), []byte("outside"), 0o644)
	srv := hubtest.Start(t, hubtest.Options{BundleDir: dir})
	c := client(srv.Fleet.ClientTLS(t, "desk-1"))
	sum := sha256.Sum256(content)
	etag := `"` + hex.EncodeToString(sum[:]) + `"`
	url := srv.URL + "/v1/bundles/full-42.cpb"

	resp, body := do(t, c, "GET", url, nil)
	if resp.StatusCode != 200 || !bytes.Equal(body, content) || resp.Header.Get("ETag") != etag || resp.Header.Get("Accept-Ranges") != "bytes" {
		t.Fatalf("GET: %s etag %q", resp.Status, resp.Header.Get("ETag"))
	}
	for _, tc := range []struct {
		name  string
		hdr   []string
		code  int
		want  []byte
		ctRng string
	}{
		{"if-none-match", []string{"If-None-Match", etag}, 304, nil, ""},
		{"if-none-match stale", []string{"If-None-Match", `"abc"`}, 200, content, ""},
		{"range", []string{"Range", "bytes=100-199"}, 206, content[100:200], fmt.Sprintf("bytes 100-199/%d", len(content))},
		{"resume", []string{"Range", "bytes=12000-", "If-Range", etag}, 206, content[12000:], ""},
		{"resume after change", []string{"Range", "bytes=12000-", "If-Range", `"old"`}, 200, content, ""},
		{"bad range", []string{"Range", "bytes=999999-"}, 416, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, c, "GET", url, nil, tc.hdr...)
			if resp.StatusCode != tc.code || (tc.want != nil && !bytes.Equal(body, tc.want)) {
				t.Fatalf("%s, %d bytes", resp.Status, len(body))
			}
			if tc.ctRng != "" && resp.Header.Get("Content-Range") != tc.ctRng {
				t.Fatalf("Content-Range %q", resp.Header.Get("Content-Range"))
			}
		})
	}
	if resp, body := do(t, c, "GET", srv.URL+"/v1/bundles/delta/41-42.cpb", nil); resp.StatusCode != 200 || string(body) != "delta" {
		t.Fatalf("subdirectory: %s", resp.Status)
	}
	if resp, _ := do(t, c, "HEAD", url, nil); resp.StatusCode != 200 || resp.Header.Get("ETag") != etag {
		t.Fatalf("HEAD: %s", resp.Status)
	}
	for _, p := range []string{"/v1/bundles/.hidden", "/v1/bundles/../outside", "/v1/bundles/%2e%2e/outside", "/v1/bundles/delta", "/v1/bundles/nope", "/v1/bundles/"} {
		if resp, body := do(t, c, "GET", srv.URL+p, nil); resp.StatusCode == 200 {
			t.Errorf("%s served: %q", p, body)
		}
	}
	// A republished file gets a new ETag (cache keyed by size and mtime).
	newer := append(bytes.Clone(content), '!')
	os.WriteFile(filepath.Join(dir, "full-42.cpb"), newer, 0o644)
	resp, _ = do(t, c, "GET", url, nil, "If-None-Match", etag)
	if resp.StatusCode != 200 || resp.Header.Get("ETag") == etag {
		t.Fatalf("after republish: %s etag %s", resp.Status, resp.Header.Get("ETag"))
	}
}

// TestHitStream: an operator's stream receives every HIT and officer
// decision, from any replica (two hubs over one PostgreSQL), in under a
// second; unit certificates are refused; clear results are not sent.
func TestHitStream(t *testing.T) {
	for _, backend := range []string{"bolt", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			o := hubtest.Options{}
			if backend == "postgres" {
				o.Postgres = pgtest.Shared(t)
			}
			a := hubtest.Start(t, o)
			b := a // the replica the unit uploads to
			if backend == "postgres" {
				b = a.Replica(t)
			}
			if resp, _ := do(t, client(a.Fleet.ClientTLS(t, "desk-1")), "GET", a.URL+"/v1/hits/stream", nil); resp.StatusCode != 403 {
				t.Fatalf("unit read the feed: %s", resp.Status)
			}
			cl, err := hub.NewClient([]string{a.URL}, a.Fleet.OperatorTLS(t, "ops"))
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			events := make(chan hub.FeedEvent, 10)
			go cl.Stream(ctx, func(e hub.FeedEvent) { events <- e })
			deadline := time.Now().Add(20 * time.Second)
			for a.Hub().FeedSubscribers() == 0 {
				if time.Now().After(deadline) {
					t.Fatal("stream not connected")
				}
				time.Sleep(10 * time.Millisecond)
			}
			time.Sleep(300 * time.Millisecond) // LISTEN of the replica's watcher in place
			desk := client(b.Fleet.ClientTLS(t, "desk-1"))
			now := time.Now().UTC()
			body, _ := json.Marshal(outbox.Batch{Items: []outbox.Record{
				laneResult("desk-1", 1, "CLEAR", now),
				laneResult("desk-1", 2, "HIT", now, "foreign_terrorist_fighter@person:P-17"),
				officerDecision("desk-1", 3, "tx-desk-1-2", "confirmed", now),
			}})
			start := time.Now()
			if resp, body := do(t, desk, "POST", b.URL+"/v1/results", body); resp.StatusCode != 200 {
				t.Fatalf("upload: %s %s", resp.Status, body)
			}
			var got []hub.FeedEvent
			for len(got) < 2 {
				select {
				case e := <-events:
					got = append(got, e)
				case <-time.After(10 * time.Second):
					t.Fatalf("feed after 10 s: %+v", got)
				}
			}
			lat := time.Since(start)
			t.Logf("%s: hit and decision on the feed %v after the upload was sent", backend, lat)
			if lat > time.Second {
				t.Errorf("feed latency %v > 1 s", lat)
			}
			if got[0].EventName() != "hit" || got[0].Decision != "HIT" || got[0].Categories[0] != "foreign_terrorist_fighter" ||
				got[1].EventName() != "officer_decision" || got[1].Verdict != "confirmed" || got[1].TxID != "tx-desk-1-2" {
				t.Fatalf("events %+v", got)
			}
			select {
			case e := <-events:
				t.Fatalf("unexpected event %+v", e)
			case <-time.After(200 * time.Millisecond):
			}
		})
	}
}
