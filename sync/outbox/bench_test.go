package outbox_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/hub/hubtest"
	"github.com/checkpoint-edge/checkpoint/sync/outbox"
)

// resultPayload is about the size of a routine result: decision, scores,
// the document data HQ needs.
var resultPayload = json.RawMessage(fmt.Sprintf(`{"decision":"CLEAR","doc":{"type":"P","issuer":"UTO","number":"L898902C3","surname":"ERIKSSON","given":"ANNA MARIA","dob":"1974-08-12","sex":"F","nationality":"UTO","expiry":"2032-04-15"},"scores":{"document":0,"person":0.12,"face":0.31},"officer":"o-17","notes":%q}`, strings.Repeat("x", 200)))

// BenchmarkEnqueue measures durable enqueue (bbolt commit with fsync),
// reporting per-call p50 and p99 latency. The nosync variant is a reference
// only (it voids durability): the difference is the disk's share.
func BenchmarkEnqueue(b *testing.B) {
	b.Run("durable", func(b *testing.B) { benchEnqueue(b, false) })
	b.Run("nosync-reference", func(b *testing.B) { benchEnqueue(b, true) })
}

func benchEnqueue(b *testing.B, noSync bool) {
	o, err := outbox.Open(filepath.Join(b.TempDir(), "outbox.db"), newKey(b), outbox.Options{UnitID: "desk-1", NoSync: noSync})
	if err != nil {
		b.Fatal(err)
	}
	defer o.Close()
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.SetBytes(int64(len(resultPayload)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := outbox.Routine
		if i%10 == 0 {
			p = outbox.Hit
		}
		t0 := time.Now()
		if _, err := o.Enqueue(ctx, outbox.Item{Kind: "result", Priority: p, Payload: resultPayload}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkDrain measures how fast a backlog reaches a real hub over
// mutual TLS on loopback; both ends fsync every batch.
func BenchmarkDrain(b *testing.B) {
	const backlog = 5000
	srv := hubtest.Start(b, hubtest.Options{})
	tlsCfg := srv.Fleet.ClientTLS(b, "desk-1")
	ctx := context.Background()
	var total time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := b.TempDir()
		kp := newKey(b)
		// Fill without fsync (setup only), then reopen durable for the drain.
		fill, err := outbox.Open(filepath.Join(dir, "outbox.db"), kp, outbox.Options{UnitID: "desk-1", NoSync: true})
		if err != nil {
			b.Fatal(err)
		}
		for j := range backlog {
			p := outbox.Routine
			if j%10 == 0 {
				p = outbox.Hit
			}
			if _, err := fill.Enqueue(ctx, outbox.Item{Kind: "result", Priority: p, Payload: resultPayload}); err != nil {
				b.Fatal(err)
			}
		}
		fill.Close()
		o, err := outbox.Open(filepath.Join(dir, "outbox.db"), kp, outbox.Options{UnitID: "desk-1"})
		if err != nil {
			b.Fatal(err)
		}
		up, err := outbox.NewUploader(o, outbox.UploaderOptions{HubURL: srv.URL, TLS: tlsCfg})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t0 := time.Now()
		n, err := up.Drain(ctx, nil)
		total += time.Since(t0)
		b.StopTimer()
		if err != nil || n != backlog {
			b.Fatalf("Drain = %d, %v", n, err)
		}
		up.Close()
		o.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(backlog*b.N)/total.Seconds(), "results/s")
}

// BenchmarkFsyncBaseline is the floor under BenchmarkEnqueue: one 4 KiB
// write plus fdatasync on the same file system. An enqueue costs two of
// them (bbolt syncs data pages, then the meta page), so read Enqueue's p99
// against this one's.
func BenchmarkFsyncBaseline(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "fsync"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if _, err := f.WriteAt(buf, int64(i%16)*4096); err != nil {
			b.Fatal(err)
		}
		if err := syscall.Fdatasync(int(f.Fd())); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
