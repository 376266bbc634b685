package lane

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkProcessWithHistory: what the shift's memory costs a
// transaction: a lane holding nothing, against one holding a full history
// (DefaultMaxHistory decided travellers) and a queue of pending REFERs
// that trimming must skip over.
//
//	go test -run '^$' -bench ProcessWithHistory -benchmem ./lane
func BenchmarkProcessWithHistory(b *testing.B) {
	for _, tc := range []struct {
		name    string
		held    int
		pending int
	}{
		{"empty", 0, 0},
		{"history-5000", DefaultMaxHistory, 0},
		{"history-5000+pending-200", DefaultMaxHistory, 200},
	} {
		b.Run(tc.name, func(b *testing.B) {
			l := newLane(b, Config{}, nothing)
			doc := testDoc(b)
			scan := func() {
				if _, err := l.p.Process(context.Background(), DocumentEvent{Document: doc, Source: "scanner", At: time.Now()}); err != nil {
					b.Fatal(err)
				}
			}
			l.c.results = []CheckResult{possible}
			for range tc.pending {
				scan()
			}
			l.c.results = []CheckResult{nothing}
			for range tc.held {
				scan()
			}
			l.q.mu.Lock()
			l.q.items = nil
			l.q.mu.Unlock()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				scan()
				l.q.mu.Lock()
				l.q.items = l.q.items[:0]
				l.q.mu.Unlock()
			}
			b.StopTimer()
			if n := len(l.p.Pending()); n != tc.pending {
				b.Fatal(fmt.Sprintf("%d pending", n))
			}
		})
	}
}
