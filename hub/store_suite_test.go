package hub_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/checkpoint-edge/checkpoint/hub"
	"github.com/checkpoint-edge/checkpoint/hub/hubtest"
	"github.com/checkpoint-edge/checkpoint/hub/pgtest"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/sync/outbox"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// backend is one Store implementation under test. open returns a new
// handle on the same storage each time it is called: for bbolt after the
// previous one is closed (one process), for PostgreSQL concurrently (a
// second replica).
type backend struct {
	name string
	// openKP opens the storage with kp (the store is closed at cleanup).
	openKP func(t testing.TB, kp seal.KeyProvider) (hub.Store, error)
	// raw returns everything the storage holds at rest, to check that no
	// personal data is in clear.
	raw func(t testing.TB) []byte
	// replicas reports whether several handles may be open at once.
	replicas bool
	kp       seal.KeyProvider
}

func newKP(t testing.TB) seal.KeyProvider {
	kp := seal.FileKey{Path: filepath.Join(t.TempDir(), "hub.kek")}
	if err := seal.GenerateKeyFile(kp.Path); err != nil {
		t.Fatal(err)
	}
	return kp
}

// open opens the storage with its key.
func (b backend) open(t testing.TB) hub.Store {
	t.Helper()
	st, err := b.openKP(t, b.kp)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func reopen(t testing.TB, b backend, kp seal.KeyProvider) (hub.Store, error) { return b.openKP(t, kp) }

func boltBackend(t testing.TB) backend {
	path := filepath.Join(t.TempDir(), "hub.db")
	kp := newKP(t)
	return backend{
		name: "bolt", kp: kp,
		openKP: func(t testing.TB, kp seal.KeyProvider) (hub.Store, error) {
			st, err := hub.OpenBolt(path, kp, hub.BoltOptions{Timeout: time.Second})
			if err == nil {
				t.Cleanup(func() { st.Close() })
			}
			return st, err
		},
		raw: func(t testing.TB) []byte {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			return b
		},
	}
}

func pgBackend(t testing.TB) backend {
	url := pgtest.Shared(t).DB(t)
	kp := newKP(t)
	return backend{
		name: "postgres", kp: kp, replicas: true,
		openKP: func(t testing.TB, kp seal.KeyProvider) (hub.Store, error) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			st, err := hub.OpenPostgres(ctx, url, kp, hub.PGOptions{Migrate: true})
			if err == nil {
				t.Cleanup(func() { st.Close() })
			}
			return st, err
		},
		raw: func(t testing.TB) []byte {
			conn, err := pgx.Connect(context.Background(), url)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(context.Background())
			var b bytes.Buffer
			for _, table := range []string{"results", "units", "hub_meta"} {
				rows, err := conn.Query(context.Background(), "SELECT t::text FROM "+table+" t")
				if err != nil {
					t.Fatal(err)
				}
				for rows.Next() {
					var s string
					rows.Scan(&s)
					b.WriteString(s)
				}
				rows.Close()
			}
			return b.Bytes()
		},
	}
}

// eachBackend runs f against both implementations: one suite, two stores.
func eachBackend(t *testing.T, f func(t *testing.T, b backend)) {
	for _, mk := range []func(testing.TB) backend{boltBackend, pgBackend} {
		b := mk(t)
		t.Run(b.name, func(t *testing.T) { f(t, b) })
	}
}

func upload(unit string, recs ...outbox.Record) hub.IngestRequest {
	return hub.IngestRequest{Unit: unit, Records: recs, Source: hub.SourceUpload}
}

func seqsOf(rs []hub.Stored) []uint64 {
	var out []uint64
	for _, r := range rs {
		out = append(out, r.Seq)
	}
	return out
}

func TestStoreIngestDedupOrder(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		st := b.open(t)
		res, err := st.Ingest(ctx, upload("u1", rec("u1", 1, outbox.Hit), rec("u1", 2, outbox.Routine), rec("u1", 3, outbox.Routine)))
		if err != nil || res.New != 3 || res.Duplicates != 0 || len(res.Acked) != 3 {
			t.Fatalf("first batch: %+v, %v", res, err)
		}
		// A resend overlapping the first (lost response) plus a new record,
		// and a key repeated inside one batch.
		res, err = st.Ingest(ctx, upload("u1", rec("u1", 2, outbox.Routine), rec("u1", 3, outbox.Routine), rec("u1", 4, outbox.Hit), rec("u1", 4, outbox.Hit)))
		if err != nil || res.New != 1 || res.Duplicates != 3 || len(res.Acked) != 4 {
			t.Fatalf("second batch: %+v, %v", res, err)
		}
		if _, err := st.Ingest(ctx, upload("u2", rec("u2", 1, outbox.Hit))); err != nil {
			t.Fatal(err)
		}
		st.Close()
		if err := st.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		if _, err := st.Ingest(ctx, upload("u1", rec("u1", 9, outbox.Hit))); err == nil {
			t.Fatal("Ingest after Close succeeded")
		}
		if raw := b.raw(t); bytes.Contains(raw, []byte("ERIKSSON")) || len(raw) == 0 {
			t.Fatalf("storage holds payloads in clear (%d bytes)", len(raw))
		}

		st = b.open(t)
		got, err := hubtest.AllResults(ctx, st, "u1")
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range got {
			if r.UnitSeq != uint64(i+1) || r.Unit != "u1" || r.Source != hub.SourceUpload || r.ReceivedAt.IsZero() {
				t.Fatalf("record %d: %+v", i, r)
			}
		}
		if fmt.Sprint(seqsOf(got)) != "[1 2 3 4]" {
			t.Fatalf("arrival order %v", seqsOf(got))
		}
		if !strings.Contains(string(got[0].Payload), `"surname":"ERIKSSON"`) {
			t.Fatalf("payload %s", got[0].Payload)
		}
		page, err := st.Results(ctx, hub.Query{Unit: "u1", After: 2, Limit: 1})
		if err != nil || len(page.Results) != 1 || page.Results[0].UnitSeq != 3 || page.Next == "" {
			t.Fatalf("paging: %+v %v", page, err)
		}
		page, err = st.Results(ctx, hub.Query{Unit: "u1", Cursor: page.Next, Limit: 1})
		if err != nil || len(page.Results) != 1 || page.Results[0].UnitSeq != 4 {
			t.Fatalf("next page: %+v %v", page, err)
		}
		if _, err := st.Results(ctx, hub.Query{Unit: "nobody"}); !errors.Is(err, hub.ErrUnknownUnit) {
			t.Fatalf("unknown unit: %v", err)
		}
		units, err := st.Units(ctx)
		if err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(units, func(a, b hub.UnitInfo) int { return strings.Compare(a.Unit, b.Unit) })
		if len(units) != 2 || units[0].Unit != "u1" || units[0].Records != 4 || units[0].Duplicates != 3 || units[0].LastContact.IsZero() {
			t.Fatalf("units %+v", units)
		}
		// Another key-encryption key opens nothing.
		st.Close()
		if _, err := reopen(t, b, newKP(t)); !errors.Is(err, seal.ErrWrongKey) {
			t.Fatalf("another key: %v, want seal.ErrWrongKey", err)
		}
	})
}

func TestStoreRefusesBadRecords(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		st := b.open(t)
		bad := func(f func(*outbox.Record)) []outbox.Record {
			r := rec("u1", 1, outbox.Hit)
			f(&r)
			return []outbox.Record{rec("u1", 2, outbox.Hit), r}
		}
		for _, tc := range []struct {
			name string
			unit string
			recs []outbox.Record
		}{
			{"other unit's key", "u1", bad(func(r *outbox.Record) { r.Key = "u2:" + strings.Repeat("0", 32) })},
			{"prefix trick", "u1", bad(func(r *outbox.Record) { r.Key = "u10:" + strings.Repeat("0", 32) })},
			{"no key", "u1", bad(func(r *outbox.Record) { r.Key = "" })},
			{"no kind", "u1", bad(func(r *outbox.Record) { r.Kind = "" })},
			{"no priority", "u1", bad(func(r *outbox.Record) { r.Priority = 0 })},
			{"payload not json", "u1", bad(func(r *outbox.Record) { r.Payload = json.RawMessage(`{`) })},
			{"bad unit", "u 1", []outbox.Record{rec("u 1", 1, outbox.Hit)}},
			{"empty", "u1", nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if _, err := st.Ingest(context.Background(), upload(tc.unit, tc.recs...)); !errors.Is(err, hub.ErrBadBatch) {
					t.Fatalf("err = %v, want ErrBadBatch", err)
				}
			})
		}
		// All or nothing: the good record in each bad batch was not stored.
		if _, err := st.Results(context.Background(), hub.Query{Unit: "u1"}); !errors.Is(err, hub.ErrUnknownUnit) {
			t.Fatalf("something was stored: %v", err)
		}
	})
}

// TestStoreConcurrentIngest races batches of one unit against each other:
// on PostgreSQL through two Store handles (two replicas), with a resend of
// every batch racing the original, as when a unit times out on one
// replica and retries on another. Every key is stored exactly once,
// unit_seq has no gap, and each batch's records keep their order.
func TestStoreConcurrentIngest(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		stores := []hub.Store{b.open(t)}
		if b.replicas {
			stores = append(stores, b.open(t))
		}
		const batches, per = 40, 25
		var wg sync.WaitGroup
		errs := make(chan error, 4*batches)
		for i := range batches {
			recs := make([]outbox.Record, per)
			for j := range per {
				recs[j] = rec("u1", i*per+j+1, outbox.Routine)
			}
			for k := range 2 { // the original and its resend, on two replicas
				wg.Add(1)
				go func(st hub.Store) {
					defer wg.Done()
					res, err := st.Ingest(ctx, upload("u1", recs...))
					if err == nil && len(res.Acked) != per {
						err = fmt.Errorf("acked %d of %d", len(res.Acked), per)
					}
					errs <- err
				}(stores[k%len(stores)])
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		got, err := hubtest.AllResults(ctx, stores[0], "u1")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != batches*per {
			t.Fatalf("stored %d records, want %d", len(got), batches*per)
		}
		pos := map[uint64]int{}
		for i, r := range got {
			if r.UnitSeq != uint64(i+1) {
				t.Fatalf("record %d has unit_seq %d: a gap or a repeat", i, r.UnitSeq)
			}
			if _, dup := pos[r.Seq]; dup {
				t.Fatalf("record %d stored twice", r.Seq)
			}
			pos[r.Seq] = i
		}
		for i := range batches {
			for j := 1; j < per; j++ {
				if pos[uint64(i*per+j+1)] != pos[uint64(i*per+j)]+1 {
					t.Fatalf("batch %d not stored contiguously in order", i)
				}
			}
		}
		units, _ := stores[0].Units(ctx)
		if len(units) != 1 || units[0].Records != batches*per || units[0].Duplicates != batches*per {
			t.Fatalf("unit counts %+v", units)
		}
	})
}

// lane-shaped payloads, as the unit's lane writes them.
func laneResult(unit string, n int, decision string, at time.Time, hits ...string) outbox.Record {
	var hv []string
	for _, h := range hits {
		cat, entry, _ := strings.Cut(h, "@")
		kind, ref, _ := strings.Cut(entry, ":")
		hv = append(hv, fmt.Sprintf(`{"kind":%q,"ref_id":%q,"category":%q,"action":"arrest","score":0.9}`, kind, ref, cat))
	}
	p := outbox.Hit
	if decision != "HIT" {
		p = outbox.Routine
	}
	return outbox.Record{
		Key: fmt.Sprintf("%s:%032x", unit, n), Seq: uint64(n), Kind: "result", Priority: p, CreatedAt: at,
		Payload: json.RawMessage(fmt.Sprintf(`{"tx_id":"tx-%s-%d","unit":%q,"decision":%q,"document":{"surname":"NGUYENSECRET"},"hits":[%s]}`,
			unit, n, unit, decision, strings.Join(hv, ","))),
	}
}

func officerDecision(unit string, n int, tx, verdict string, at time.Time) outbox.Record {
	return outbox.Record{
		Key: fmt.Sprintf("%s:d%031x", unit, n), Seq: uint64(n), Kind: "officer_decision", Priority: outbox.Hit, CreatedAt: at,
		Payload: json.RawMessage(fmt.Sprintf(`{"tx_id":%q,"unit":%q,"officer":"4711","verdict":%q,"at":%q}`, tx, unit, verdict, at.Format(time.RFC3339Nano))),
	}
}

func TestStoreQueries(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		st := b.open(t)
		t0 := time.Date(2030, 5, 1, 12, 0, 0, 123456789, time.UTC)
		// Three units, 30 results each a minute apart, every 5th a HIT.
		want := map[string][]string{}
		for _, u := range []string{"desk-a", "desk-b", "gate-c"} {
			var recs []outbox.Record
			for i := range 30 {
				at := t0.Add(time.Duration(i) * time.Minute)
				r := laneResult(u, i+1, "CLEAR", at)
				switch {
				case i%5 == 0 && u != "gate-c":
					r = laneResult(u, i+1, "HIT", at, "foreign_terrorist_fighter@person:P-17")
				case i%5 == 0:
					r = laneResult(u, i+1, "HIT", at, "stolen@document:D-9", "wanted@person:P-17")
				case i%7 == 0:
					r = laneResult(u, i+1, "REFER", at)
				}
				recs = append(recs, r)
				if !r.CreatedAt.Before(t0.Add(10*time.Minute)) && r.CreatedAt.Before(t0.Add(20*time.Minute)) {
					want["window"] = append(want["window"], r.Key)
				}
			}
			if _, err := st.Ingest(ctx, upload(u, recs...)); err != nil {
				t.Fatal(err)
			}
		}
		collect := func(q hub.Query) []hub.Stored {
			t.Helper()
			var all []hub.Stored
			for pages := 0; ; pages++ {
				p, err := st.Results(ctx, q)
				if err != nil {
					t.Fatalf("%+v: %v", q, err)
				}
				all = append(all, p.Results...)
				if p.Next == "" {
					return all
				}
				if pages > 1000 {
					t.Fatal("pagination does not end")
				}
				q.Cursor = p.Next
			}
		}
		// Time range across the fleet, paged 7 at a time: the window's
		// records, each once, in (created_at, unit, unit_seq) order.
		got := collect(hub.Query{Since: t0.Add(10 * time.Minute), Until: t0.Add(20 * time.Minute), Limit: 7})
		var keys []string
		for i, r := range got {
			keys = append(keys, r.Key)
			if i > 0 {
				p := got[i-1]
				if r.CreatedAt.Before(p.CreatedAt) || (r.CreatedAt.Equal(p.CreatedAt) && r.Unit < p.Unit) {
					t.Fatalf("out of order at %d: %v %s after %v %s", i, r.CreatedAt, r.Unit, p.CreatedAt, p.Unit)
				}
			}
		}
		slices.Sort(keys)
		slices.Sort(want["window"])
		if !slices.Equal(keys, want["window"]) {
			t.Fatalf("window: got %d records, want %d", len(keys), len(want["window"]))
		}
		// One unit, last 24 h style.
		if got := collect(hub.Query{Unit: "desk-b", Since: t0.Add(25 * time.Minute), Limit: 2}); len(got) != 5 || got[0].Unit != "desk-b" {
			t.Fatalf("desk-b since +25m: %d records", len(got))
		}
		for _, tc := range []struct {
			q    hub.Query
			want int
		}{
			{hub.Query{Decision: "HIT"}, 18},
			{hub.Query{Decision: "HIT", Unit: "gate-c"}, 6},
			{hub.Query{Decision: "REFER"}, 12},
			{hub.Query{Category: "foreign_terrorist_fighter"}, 12},
			{hub.Query{Category: "stolen", Since: t0.Add(time.Minute)}, 5},
			{hub.Query{Entry: "person:P-17"}, 18},
			{hub.Query{Entry: "document:D-9", Unit: "gate-c"}, 6},
			{hub.Query{Kind: "officer_decision"}, 0},
			{hub.Query{Unit: "desk-a", Order: hub.OrderTime, Limit: 4}, 30},
		} {
			if got := collect(tc.q); len(got) != tc.want {
				t.Errorf("%+v: %d results, want %d", tc.q, len(got), tc.want)
			}
		}
		for _, q := range []hub.Query{
			{Decision: "MAYBE"}, {Order: "random"}, {Order: hub.OrderArrival}, {Unit: "bad unit"},
			{Cursor: "t.x.y"}, {Unit: "desk-a", Cursor: "t.1.1.desk-a"}, {After: 3},
		} {
			if _, err := st.Results(ctx, q); !errors.Is(err, hub.ErrBadQuery) {
				t.Errorf("%+v: %v, want ErrBadQuery", q, err)
			}
		}
		sums, err := st.EntryHits(ctx, hub.EntryQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if len(sums) != 2 || sums[0].Entry != "person:P-17" || sums[0].Hits != 18 || len(sums[0].Units) != 3 ||
			sums[1].Entry != "document:D-9" || sums[1].Hits != 6 || !slices.Equal(sums[1].Units, []string{"gate-c"}) ||
			!sums[0].FirstSeen.Equal(t0.Truncate(time.Microsecond)) || !sums[0].LastSeen.Equal(t0.Add(25*time.Minute).Truncate(time.Microsecond)) {
			t.Fatalf("entry hits %+v", sums)
		}
		one, err := st.EntryHits(ctx, hub.EntryQuery{Entry: "document:D-9", Since: t0.Add(time.Minute)})
		if err != nil || len(one) != 1 || one[0].Hits != 5 {
			t.Fatalf("one entry: %+v %v", one, err)
		}
	})
}

// TestStoreWatch: hits and officer decisions committed through one handle
// reach a watcher (on PostgreSQL, on another replica) within a second;
// clear results do not.
func TestStoreWatch(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		writer := b.open(t)
		watcher := writer
		if b.replicas {
			watcher = b.open(t)
		}
		got := make(chan hub.Stored, 100)
		go watcher.Watch(ctx, func(recs []hub.Stored) {
			for _, r := range recs {
				got <- r
			}
		})
		time.Sleep(300 * time.Millisecond) // LISTEN in place
		now := time.Now().UTC()
		start := time.Now()
		_, err := writer.Ingest(ctx, upload("desk-w",
			laneResult("desk-w", 1, "CLEAR", now),
			laneResult("desk-w", 2, "HIT", now, "wanted@person:P-1"),
			officerDecision("desk-w", 3, "tx-desk-w-2", "confirmed", now)))
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for len(kinds) < 2 {
			select {
			case r := <-got:
				kinds = append(kinds, r.Kind)
				if r.Unit != "desk-w" || r.UnitSeq == 0 || len(r.Payload) == 0 {
					t.Fatalf("feed record %+v", r)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("feed: %v after 10 s", kinds)
			}
		}
		lat := time.Since(start)
		t.Logf("%s: hit on the feed %v after the upload was committed", b.name, lat)
		if lat > time.Second {
			t.Errorf("feed latency %v > 1 s", lat)
		}
		if !slices.Equal(kinds, []string{"result", "officer_decision"}) {
			t.Fatalf("feed kinds %v", kinds)
		}
		select {
		case r := <-got:
			t.Fatalf("unexpected feed record %+v", r)
		case <-time.After(200 * time.Millisecond):
		}
	})
}

func TestStoreRotateKEK(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		st := b.open(t)
		if _, err := st.Ingest(ctx, upload("u1", rec("u1", 1, outbox.Hit))); err != nil {
			t.Fatal(err)
		}
		newKP := newKP(t)
		if err := st.RotateKEK(ctx, newKP); err != nil {
			t.Fatal(err)
		}
		st.Close()
		if _, err := reopen(t, b, b.kp); !errors.Is(err, seal.ErrWrongKey) {
			t.Fatalf("old key after rotation: %v, want ErrWrongKey", err)
		}
		st2, err := reopen(t, b, newKP)
		if err != nil {
			t.Fatal(err)
		}
		res, err := st2.Ingest(ctx, upload("u1", rec("u1", 1, outbox.Hit)))
		if err != nil || res.Duplicates != 1 {
			t.Fatalf("after rotation: %+v %v", res, err)
		}
		if got, _ := hubtest.AllResults(ctx, st2, "u1"); len(got) != 1 || got[0].Seq != 1 {
			t.Fatalf("results after rotation: %+v", got)
		}
	})
}
