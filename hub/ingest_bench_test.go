package hub_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/hub"
	"github.com/checkpoint-edge/checkpoint/hub/hubtest"
	"github.com/checkpoint-edge/checkpoint/hub/pgtest"
	"github.com/checkpoint-edge/checkpoint/sync/outbox"
)

// BenchmarkStoreIngest measures a store's ingestion of batches of 100
// realistic results from many units at once (no HTTP, no TLS), side by
// side for the two backends.
func BenchmarkStoreIngest(b *testing.B) {
	for _, name := range []string{"bolt", "postgres"} {
		b.Run(name, func(b *testing.B) {
			be := boltBackend(b)
			if name == "postgres" {
				be = pgBackend(b)
			}
			st := be.open(b)
			var next atomic.Int64
			payload := bytes.Repeat([]byte("x"), 700)
			b.SetParallelism(8)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					u := next.Add(1)
					unit := fmt.Sprintf("u%d", u%1000)
					recs := make([]outbox.Record, 100)
					for j := range recs {
						recs[j] = outbox.Record{Key: fmt.Sprintf("%s:%d-%d", unit, u, j), Seq: uint64(j + 1), Kind: "result", Priority: outbox.Routine,
							CreatedAt: time.Now().UTC(), Payload: json.RawMessage(`{"tx_id":"t","decision":"CLEAR","document":{"x":"` + string(payload) + `"},"hits":[]}`)}
					}
					if _, err := st.Ingest(context.Background(), hub.IngestRequest{Unit: unit, Records: recs, Source: hub.SourceUpload}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N*100)/time.Since(start).Seconds(), "results/s")
		})
	}
}

// BenchmarkHTTPIngest is POST /v1/results end to end in one process (TLS,
// streaming decode, limits, PostgreSQL), for profiling the hub's share.
func BenchmarkHTTPIngest(b *testing.B) {
	srv := hubtest.Start(b, hubtest.Options{Postgres: pgtest.Shared(b), Limits: hub.Limits{UnitRecordsPerSecond: 1e9, UnitBytesPerSecond: 1e12, UnitRecordsBurst: 1e9, UnitBytesBurst: 1e12, UnitBytesPerDay: 1e15}})
	const units = 64
	clients := make([]*http.Client, units)
	for i := range clients {
		clients[i] = &http.Client{Transport: &http.Transport{TLSClientConfig: srv.Fleet.ClientTLS(b, fmt.Sprintf("u%d", i))}}
	}
	var next atomic.Int64
	payload := strings.Repeat("x", 700)
	b.SetParallelism(units / 2)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := next.Add(1)
			u := int(n) % units
			unit := fmt.Sprintf("u%d", u)
			recs := make([]outbox.Record, 100)
			for j := range recs {
				recs[j] = outbox.Record{Key: fmt.Sprintf("%s:%d-%d", unit, n, j), Seq: uint64(j + 1), Kind: "result", Priority: outbox.Routine,
					CreatedAt: time.Now().UTC(), Payload: json.RawMessage(`{"tx_id":"t","decision":"CLEAR","document":{"x":"` + payload + `"},"hits":[]}`)}
			}
			body, _ := json.Marshal(outbox.Batch{Items: recs})
			resp, err := clients[u].Post(srv.URL+"/v1/results", "application/json", bytes.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
	b.ReportMetric(float64(b.N*100)/time.Since(start).Seconds(), "results/s")
}
