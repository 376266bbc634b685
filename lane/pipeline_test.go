package lane

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/mrz"
)

type recQueue struct {
	mu    sync.Mutex
	items []Item
	err   error
	b     *Broker
	sawEv bool // an event for the item's tx was published before Enqueue
	sub   <-chan Event
}

func (q *recQueue) Enqueue(ctx context.Context, it Item) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.sub != nil {
	drain:
		for {
			select {
			case ev := <-q.sub:
				if ev.Type == EventDecision {
					q.sawEv = true
				}
			default:
				break drain
			}
		}
	}
	if q.err != nil {
		return q.err
	}
	q.items = append(q.items, it)
	return nil
}

type recAudit struct {
	mu      sync.Mutex
	entries []string
	fields  []map[string]string
}

func (a *recAudit) Append(kind, actor, action string, fields map[string]string) error {
	a.mu.Lock()
	a.entries = append(a.entries, kind+"/"+actor+"/"+action)
	a.fields = append(a.fields, fields)
	a.mu.Unlock()
	return nil
}

type staticChecker struct{ res CheckResult }

func (c staticChecker) Check(ctx context.Context, d *mrz.Document, f *FaceCapture) (CheckResult, error) {
	return c.res, nil
}

type staticFaces struct {
	up bool
	fc FaceCapture
}

func (s staticFaces) Capture(ctx context.Context, w time.Duration) (FaceCapture, error) {
	return s.fc, nil
}
func (s staticFaces) Up() bool { return s.up }

func testDoc(t testing.TB) *mrz.Document {
	lines, err := mrz.Generate(mrz.Spec{Format: mrz.FormatTD3, DocumentCode: "P", IssuingState: "UTO", Surname: "ERIKSSON",
		GivenNames: []string{"ANNA", "MARIA"}, DocumentNumber: "L898902C3", Nationality: "UTO",
		BirthDate: time.Date(1974, 8, 12, 0, 0, 0, 0, time.UTC), ExpiryDate: time.Date(2032, 4, 15, 0, 0, 0, 0, time.UTC), Sex: "F"})
	if err != nil {
		t.Fatal(err)
	}
	d := mrz.Parse(lines, mrz.Options{})
	if !d.Valid {
		t.Fatalf("generated MRZ invalid: %+v", d.Problems)
	}
	return d
}

func TestProcessPersistsBeforePublishing(t *testing.T) {
	b := NewBroker()
	sub, cancel := b.Subscribe(16)
	defer cancel()
	q := &recQueue{sub: sub}
	a := &recAudit{}
	p, err := New(Config{Unit: "u1", Mode: "desk", Policy: Policy{ReferWithoutFace: true, ReferInvalidMRZ: true},
		Faces:   staticFaces{up: true, fc: FaceCapture{Captured: true, Quality: .9, JPEG: []byte("jpg")}},
		Checker: staticChecker{CheckResult{Hits: []HitView{{Kind: "person", RefID: "P1", Action: "arrest"}}, Sequence: 7}},
		Queue:   q, Audit: a, Broker: b, FaceImages: "hits"})
	if err != nil {
		t.Fatal(err)
	}
	tx, err := p.Process(context.Background(), DocumentEvent{Document: testDoc(t), Source: "scanner", At: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if tx.Decision != Hit || tx.Sequence != 7 || tx.Document.Surname != "ERIKSSON" {
		t.Fatalf("tx = %+v", tx)
	}
	if q.sawEv {
		t.Fatal("decision published before it was durable")
	}
	if len(q.items) != 1 || !q.items[0].Hit || q.items[0].Kind != "result" {
		t.Fatalf("outbox items %+v", q.items)
	}
	// The queue drained the events published before Enqueue (started,
	// face captured); the decision event follows it.
	var types []string
	for len(sub) > 0 {
		types = append(types, (<-sub).Type)
	}
	if len(types) != 1 || types[0] != EventDecision {
		t.Fatalf("events after Enqueue %v, want [decision]", types)
	}
	// Officer verdict: outbox + audit, then published.
	if _, err := p.Decide(context.Background(), tx.ID, "o1", "confirmed", ""); err != nil {
		t.Fatal(err)
	}
	if len(q.items) != 2 || q.items[1].Kind != "officer_decision" || !q.items[1].Hit {
		t.Fatalf("verdict not queued: %+v", q.items)
	}
	if got := a.entries[len(a.entries)-1]; got != "officer_decision/o1/confirmed" {
		t.Fatalf("audit %v", a.entries)
	}
	if _, err := p.Decide(context.Background(), "nope", "o1", "confirmed", ""); !errors.Is(err, ErrUnknownTransaction) {
		t.Fatalf("unknown tx: %v", err)
	}
	if _, err := p.Decide(context.Background(), tx.ID, "o1", "whatever", ""); !errors.Is(err, ErrBadVerdict) {
		t.Fatalf("bad verdict: %v", err)
	}
}

func TestOutboxFailureRefers(t *testing.T) {
	q := &recQueue{err: errors.New("disk full")}
	p, _ := New(Config{Checker: staticChecker{}, Queue: q, Audit: &recAudit{}, Broker: NewBroker()})
	tx, err := p.Process(context.Background(), DocumentEvent{Document: testDoc(t), Source: "scanner"})
	if err == nil {
		t.Fatal("want the persist error")
	}
	if tx.Decision != Refer || tx.Reasons[len(tx.Reasons)-1] != ReasonDeviceFault {
		t.Fatalf("tx %s %v", tx.Decision, tx.Reasons)
	}
}

func TestCameraDownRefers(t *testing.T) {
	q := &recQueue{}
	p, _ := New(Config{Policy: Policy{ReferWithoutFace: true}, Faces: staticFaces{up: false},
		Checker: staticChecker{}, Queue: q, Audit: &recAudit{}, Broker: NewBroker()})
	tx, _ := p.Process(context.Background(), DocumentEvent{Document: testDoc(t), Source: "scanner"})
	if tx.Decision != Refer || tx.Reasons[0] != ReasonCameraDown {
		t.Fatalf("tx %s %v", tx.Decision, tx.Reasons)
	}
	if got := p.Recent(5); len(got) != 1 || got[0].ID != tx.ID {
		t.Fatalf("recent %v", got)
	}
}
