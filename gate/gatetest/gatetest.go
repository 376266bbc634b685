// Package gatetest serves the e-gate API for tests of gate clients: the
// real handler in front of a real lane pipeline, whose watchlist is one
// stolen passport (Stolen) and whose outbox and audit log are in memory.
package gatetest

import (
	"context"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/checkpoint-edge/checkpoint/gate"
	"github.com/checkpoint-edge/checkpoint/lane"
	"github.com/checkpoint-edge/checkpoint/mrz"
)

// Stolen is a passport the test watchlist lists as stolen (action refer).
var Stolen = []string{"P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10"}

// Token is the bearer token of servers made by NewServer.
const Token = "0123456789abcdef-gate-token"

// listChecker is a watchlist of one stolen document number.
type listChecker struct{}

func (listChecker) Check(_ context.Context, doc *mrz.Document, _ *lane.FaceCapture) (lane.CheckResult, error) {
	res := lane.CheckResult{Sequence: 7}
	if doc != nil && doc.DocumentNumber == "L898902C3" {
		res.Hits = []lane.HitView{{Kind: "document", Category: "stolen", Action: "refer", Score: 1, Level: lane.LevelHit}}
	}
	return res, nil
}

// Queue is an in-memory outbox.
type Queue struct {
	mu    sync.Mutex
	Items []lane.Item
}

// Enqueue keeps the item.
func (q *Queue) Enqueue(_ context.Context, it lane.Item) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.Items = append(q.Items, it)
	return nil
}

type nopAudit struct{}

func (nopAudit) Append(kind, actor, action string, fields map[string]string) error { return nil }

// Backend is a real lane pipeline behind the gate API. While Failing is
// set, Process fails the way a stopping daemon does.
type Backend struct {
	Pipeline *lane.Pipeline
	Broker   *lane.Broker
	Queue    *Queue
	Failing  atomic.Bool
}

var _ gate.Backend = (*Backend)(nil)

// NewBackend returns an e-gate lane with no devices.
func NewBackend(t testing.TB) *Backend {
	t.Helper()
	b := &Backend{Broker: lane.NewBroker(), Queue: &Queue{}}
	p, err := lane.New(lane.Config{Unit: "gate-01", Mode: "egate", Checker: listChecker{}, Queue: b.Queue,
		Audit: nopAudit{}, Broker: b.Broker, Policy: lane.Policy{ReferInvalidMRZ: true}})
	if err != nil {
		t.Fatal(err)
	}
	b.Pipeline = p
	return b
}

// Process runs a transaction.
func (b *Backend) Process(ctx context.Context, ev lane.DocumentEvent) (*lane.Transaction, error) {
	if b.Failing.Load() {
		return nil, context.Canceled
	}
	return b.Pipeline.Process(ctx, ev)
}

// Transaction returns a recent transaction.
func (b *Backend) Transaction(id string) *lane.Transaction { return b.Pipeline.Transaction(id) }

// Health is a device-less e-gate lane.
func (b *Backend) Health() lane.Health {
	return lane.Health{Unit: "gate-01", Mode: "egate", Scanner: "disabled", Camera: "disabled", WatchlistSeq: 7}
}

// Subscribe follows the lane's events.
func (b *Backend) Subscribe(n int) (<-chan lane.Event, func()) { return b.Broker.Subscribe(n) }

// NewServer serves the gate API over TCP with Token required, until the
// test ends.
func NewServer(t testing.TB) (*httptest.Server, *Backend) {
	t.Helper()
	b := NewBackend(t)
	srv := httptest.NewServer(gate.Handler(b, gate.Options{Token: Token}))
	t.Cleanup(srv.Close)
	return srv, b
}
