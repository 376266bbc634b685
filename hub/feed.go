package hub

import (
	"sync"
)

// FeedEvent is one message of the live hit feed (GET /v1/hits/stream): a
// HIT or an officer decision as committed by any replica, with its
// metadata read out for consoles.
type FeedEvent struct {
	Stored
	Decision   string   `json:"decision,omitempty"`
	Verdict    string   `json:"verdict,omitempty"`
	TxID       string   `json:"tx_id,omitempty"`
	Categories []string `json:"categories,omitempty"`
	Entries    []string `json:"entries,omitempty"`
}

// EventName is the SSE event type: "hit" or "officer_decision".
func (e *FeedEvent) EventName() string {
	if e.Kind == "officer_decision" {
		return "officer_decision"
	}
	return "hit"
}

// NewFeedEvent reads a record's metadata out (what the feed and the CLIs show).
func NewFeedEvent(st Stored) FeedEvent {
	m := metaOf(&st.Record)
	return FeedEvent{Stored: st, Decision: m.Decision, Verdict: m.Verdict, TxID: m.TxID, Categories: m.Categories, Entries: m.Entries}
}

// broadcaster fans feed events out to subscribers. A subscriber that falls
// more than its buffer behind is dropped (its stream ends; the console
// reconnects and fills the gap with a query), so one slow client never
// holds the others or the hub's memory.
type broadcaster struct {
	mu   sync.Mutex
	subs map[*subscriber]struct{}
}

type subscriber struct {
	ch      chan FeedEvent
	dropped chan struct{}
	once    sync.Once
}

func newBroadcaster() *broadcaster { return &broadcaster{subs: map[*subscriber]struct{}{}} }

func (b *broadcaster) subscribe(buf int) *subscriber {
	s := &subscriber{ch: make(chan FeedEvent, buf), dropped: make(chan struct{})}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	return s
}

func (b *broadcaster) unsubscribe(s *subscriber) {
	b.mu.Lock()
	delete(b.subs, s)
	b.mu.Unlock()
}

func (b *broadcaster) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}

func (b *broadcaster) publish(recs []Stored) {
	if len(recs) == 0 {
		return
	}
	evs := make([]FeedEvent, len(recs))
	for i, r := range recs {
		evs[i] = NewFeedEvent(r)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
subs:
	for s := range b.subs {
		for _, e := range evs {
			select {
			case s.ch <- e:
			default:
				s.once.Do(func() { close(s.dropped) })
				delete(b.subs, s)
				continue subs
			}
		}
	}
}
