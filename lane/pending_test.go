package lane

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
)

// memPending is a PendingStore double that keeps what a real store would
// keep: JSON, in save order. It fails on demand.
type memPending struct {
	mu      sync.Mutex
	ids     []string
	recs    map[string][]byte
	saved   []Transaction // as handed to Save
	loadErr error
	saveErr error
}

func newMemPending() *memPending { return &memPending{recs: map[string][]byte{}} }

func (m *memPending) Save(tx Transaction) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.saveErr != nil {
		return m.saveErr
	}
	b, err := json.Marshal(tx)
	if err != nil {
		return err
	}
	if _, ok := m.recs[tx.ID]; !ok {
		m.ids = append(m.ids, tx.ID)
	}
	m.recs[tx.ID] = b
	m.saved = append(m.saved, tx)
	return nil
}

func (m *memPending) Remove(id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.recs, id)
	m.ids = slices.DeleteFunc(m.ids, func(s string) bool { return s == id })
	return nil
}

func (m *memPending) Load() ([]Transaction, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.loadErr != nil {
		return nil, m.loadErr
	}
	var out []Transaction
	for _, id := range m.ids {
		var tx Transaction
		if err := json.Unmarshal(m.recs[id], &tx); err != nil {
			return nil, err
		}
		out = append(out, tx)
	}
	return out, nil
}

func (m *memPending) stored() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.ids)
}

// TestPendingStoreRestart: the work queue is saved as HITs and REFERs are
// decided, without images, comes back in order in a new lane on the same
// store, and takes verdicts there as before; each verdict removes it.
func TestPendingStoreRestart(t *testing.T) {
	ctx := context.Background()
	store := newMemPending()
	withPhoto := arrestHit
	withPhoto.Hits = []HitView{arrestHit.Hits[0]}
	withPhoto.Hits[0].Photo, withPhoto.Hits[0].HasPhoto = []byte("\xff\xd8ref"), true
	faces := staticFaces{up: true, fc: FaceCapture{Captured: true, JPEG: []byte("\xff\xd8live"), Descriptor: []float32{0.5, 0.25}}}
	a := newLane(t, Config{Pending: store, Faces: faces}, withPhoto, nothing, possible, nothing, arrestHit)
	hit := a.scan(t)
	a.scan(t) // clear: never stored
	refer := a.scan(t)
	a.scan(t)
	settled := a.scan(t)
	if hit.Decision != Hit || refer.Decision != Refer || settled.Decision != Hit {
		t.Fatalf("decisions %s %s %s", hit.Decision, refer.Decision, settled.Decision)
	}
	if _, err := a.p.Record(ctx, VerdictRequest{TxID: settled.ID, Officer: "o1", Verdict: VerdictConfirmed}); err != nil {
		t.Fatal(err)
	}
	if got, want := store.stored(), []string{hit.ID, refer.ID}; !slices.Equal(got, want) {
		t.Fatalf("stored %v, want %v", got, want)
	}
	for _, tx := range store.saved {
		if tx.FaceJPEG != nil || tx.ChipJPEG != nil || tx.Face.HasImage || tx.descriptor != nil || tx.doc != nil {
			t.Fatalf("saved %s with its face image", tx.ID)
		}
		for _, h := range tx.Hits {
			if h.Photo != nil || h.HasPhoto {
				t.Fatalf("saved %s with a listed person's photo", tx.ID)
			}
		}
		if tx.State != StateDecided || tx.Officer != nil {
			t.Fatalf("saved %s in state %s", tx.ID, tx.State)
		}
	}
	// The first lane still has its images: only the store goes without.
	if got := a.p.Transaction(hit.ID); len(got.FaceJPEG) == 0 || len(got.Hits[0].Photo) == 0 {
		t.Fatal("saving took the images off the page")
	}

	// Restart: a new lane on the same store.
	b := newLane(t, Config{Pending: store, Faces: faces}, nothing)
	pend := b.p.Pending()
	if len(pend) != 2 || pend[0].ID != hit.ID || pend[1].ID != refer.ID {
		t.Fatalf("reloaded queue %v", ids(pend))
	}
	for i, want := range []*Transaction{hit, refer} {
		got := pend[i]
		if !got.Pending || got.State != StateDecided || got.Decision != want.Decision || got.Document.Surname != want.Document.Surname ||
			len(got.Hits) != len(want.Hits) || got.Hits[0].RefID != want.Hits[0].RefID || !got.StartedAt.Equal(want.StartedAt) {
			t.Fatalf("reloaded %d: %+v", i, got)
		}
		if got.Face.HasImage || got.FaceJPEG != nil || got.Hits[0].HasPhoto {
			t.Fatalf("reloaded %d claims an image", i)
		}
	}
	if h := b.p.History(HistoryQuery{}); len(h) != 2 || !h[0].Pending || h[0].ID != refer.ID {
		t.Fatalf("history after the restart %+v", h)
	}
	// A scan after the restart does not push them out, and clear ones are
	// not stored.
	next := b.scan(t)
	if n := len(b.p.Pending()); n != 2 || len(store.stored()) != 2 {
		t.Fatalf("after a scan: %d pending, %d stored", n, len(store.stored()))
	}
	// Verdicts work as before: a REFER's candidates, then the HIT.
	if _, err := b.p.Record(ctx, VerdictRequest{TxID: refer.ID, Officer: "o2", Verdict: VerdictReferred,
		Candidates: []CandidateVerdict{{Hit: 0, Verdict: CandidateNotSame}, {Hit: 1, Verdict: CandidateSame}}}); err != nil {
		t.Fatal(err)
	}
	if got := store.stored(); !slices.Equal(got, []string{hit.ID}) {
		t.Fatalf("stored %v after the REFER's verdict", got)
	}
	if _, err := b.p.Record(ctx, VerdictRequest{TxID: hit.ID, Officer: "o2", Verdict: VerdictCleared}); !errors.Is(err, ErrReasonRequired) {
		t.Fatalf("one-key clear of a reloaded HIT: %v", err)
	}
	if _, err := b.p.Record(ctx, VerdictRequest{TxID: hit.ID, Officer: "o2", Verdict: VerdictConfirmed}); err != nil {
		t.Fatal(err)
	}
	if len(store.stored()) != 0 || len(b.p.Pending()) != 0 {
		t.Fatalf("after both verdicts: %d stored, %d pending", len(store.stored()), len(b.p.Pending()))
	}
	v := b.verdicts(t)
	if len(v) != 2 || v[0].TxID != refer.ID || v[0].MachineDecision != Refer || v[1].TxID != hit.ID || v[1].Verdict != VerdictConfirmed {
		t.Fatalf("outbox verdicts %+v", v)
	}
	if _, err := b.p.Record(ctx, VerdictRequest{TxID: next.ID, Officer: "o2", Verdict: VerdictCleared}); err != nil {
		t.Fatal(err) // the clear traveller after the restart is the newest
	}
	// A third start finds nothing pending.
	if c := newLane(t, Config{Pending: store}, nothing); len(c.p.Pending()) != 0 {
		t.Fatal("decided transactions came back as pending")
	}
}

func ids(txs []Transaction) []string {
	var out []string
	for _, tx := range txs {
		out = append(out, tx.ID)
	}
	return out
}

// TestPendingStoreErrors: a store that cannot be read, or holds what the
// lane never writes, stops New with ErrPendingStore; a failing Save keeps
// the transaction on the page.
func TestPendingStoreErrors(t *testing.T) {
	broken := newMemPending()
	broken.loadErr = errors.New("integrity check failed")
	cfg := Config{Checker: &scriptChecker{results: []CheckResult{nothing}}, Queue: &recQueue{}, Audit: &recAudit{}, Broker: NewBroker()}
	for _, tc := range []struct {
		name  string
		store func() PendingStore
	}{
		{"unreadable", func() PendingStore { return broken }},
		{"decided by an officer", func() PendingStore {
			m := newMemPending()
			m.Save(Transaction{ID: "a", State: StateDecided, Decision: Hit, Officer: &OfficerDecision{ID: "a/1"}})
			return m
		}},
		{"clear", func() PendingStore {
			m := newMemPending()
			m.Save(Transaction{ID: "a", State: StateDecided, Decision: Clear})
			return m
		}},
		{"still running", func() PendingStore {
			m := newMemPending()
			m.Save(Transaction{ID: "a", State: StateStarted, Decision: Hit})
			return m
		}},
		{"no id", func() PendingStore {
			m := newMemPending()
			m.Save(Transaction{State: StateDecided, Decision: Hit})
			return m
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := cfg
			c.Pending = tc.store()
			if _, err := New(c); !errors.Is(err, ErrPendingStore) {
				t.Fatalf("New: %v, want ErrPendingStore", err)
			}
		})
	}

	full := newMemPending()
	full.saveErr = errors.New("no space left on device")
	l := newLane(t, Config{Pending: full}, arrestHit)
	hit := l.scan(t)
	if p := l.p.Pending(); len(p) != 1 || p[0].ID != hit.ID {
		t.Fatal("a HIT whose save failed left the page")
	}
}

// TestPendingStoreOverflow: what MaxHeld drops from the page leaves the
// store too, and a reload keeps within the bound.
func TestPendingStoreOverflow(t *testing.T) {
	store := newMemPending()
	l := newLane(t, Config{Pending: store}, arrestHit, possible)
	l.p.maxHeld = 20
	hit := l.scan(t)
	for range 25 {
		l.scan(t)
	}
	got := store.stored()
	if len(got) != 20 || got[0] != hit.ID || !slices.Equal(got, ids(l.p.Pending())) {
		t.Fatalf("stored %d (first %s), pending %d", len(got), got[0], len(l.p.Pending()))
	}
	r := newLane(t, Config{Pending: store}, nothing)
	if !slices.Equal(ids(r.p.Pending()), got) {
		t.Fatal("the reloaded queue differs from the stored one")
	}
}

// TestPendingStoreVerdictRace: verdicts given as fast as transactions are
// decided never leave a decided transaction in the store.
func TestPendingStoreVerdictRace(t *testing.T) {
	store := newMemPending()
	l := newLane(t, Config{Pending: store}, arrestHit)
	ctx := context.Background()
	ch, cancel := l.p.cfg.Broker.Subscribe(256)
	defer cancel()
	done := make(chan struct{})
	var recErr error
	go func() {
		defer close(done)
		for n := 0; n < 50; {
			// Decide on whatever the page would show, as early as it can.
			for _, tx := range l.p.Pending() {
				if _, err := l.p.Record(ctx, VerdictRequest{TxID: tx.ID, Officer: "o1", Verdict: VerdictConfirmed}); err != nil && !errors.Is(err, ErrAlreadyDecided) {
					recErr = err
					return
				}
				n++
			}
			<-ch
		}
	}()
	for range 50 {
		l.scan(t)
	}
	<-done
	if recErr != nil {
		t.Fatal(recErr)
	}
	if s := store.stored(); len(s) != 0 {
		t.Fatalf("%d decided transactions left in the store", len(s))
	}
}
