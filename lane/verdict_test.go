package lane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/mrz"
)

// scriptChecker answers each check with the next result of its script
// (the last one repeats), optionally waiting for a release first.
type scriptChecker struct {
	mu      sync.Mutex
	results []CheckResult
	hold    chan struct{} // when set, Check waits for a value
	entered chan struct{}
}

func (c *scriptChecker) Check(ctx context.Context, d *mrz.Document, f *FaceCapture) (CheckResult, error) {
	if c.entered != nil {
		c.entered <- struct{}{}
	}
	if c.hold != nil {
		select {
		case <-c.hold:
		case <-ctx.Done():
			return CheckResult{}, ctx.Err()
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.results[0]
	if len(c.results) > 1 {
		c.results = c.results[1:]
	}
	return r, nil
}

var (
	arrestHit   = CheckResult{Hits: []HitView{{Kind: "person", RefID: "P1", Category: "wanted", Action: "arrest", Strength: "strong", Level: LevelHit}}, Sequence: 3}
	discreetHit = CheckResult{Hits: []HitView{{Kind: "person", RefID: "P2", Category: "foreign_terrorist_fighter", Action: "discreet_check", Level: LevelHit}}}
	possible    = CheckResult{Hits: []HitView{
		{Kind: "face", RefID: "P3", Action: "arrest", Strength: "possible", Level: LevelPossible},
		{Kind: "person", RefID: "P4", Action: "refer", Strength: "possible", Level: LevelPossible},
	}}
	nothing = CheckResult{Sequence: 3}
)

type lane struct {
	p *Pipeline
	q *recQueue
	a *recAudit
	c *scriptChecker
}

func newLane(t testing.TB, cfg Config, results ...CheckResult) *lane {
	t.Helper()
	l := &lane{q: &recQueue{}, a: &recAudit{}, c: &scriptChecker{results: results}}
	cfg.Checker, cfg.Queue, cfg.Audit, cfg.Broker = l.c, l.q, l.a, NewBroker()
	cfg.Unit = "u1"
	cfg.Policy = Policy{ReferWithoutFace: true, ReferInvalidMRZ: true}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l.p = p
	return l
}

func (l *lane) scan(t *testing.T) *Transaction {
	t.Helper()
	tx, err := l.p.Process(context.Background(), DocumentEvent{Document: testDoc(t), Source: "scanner", At: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

func (l *lane) verdicts(t *testing.T) []verdictPayload {
	t.Helper()
	l.q.mu.Lock()
	defer l.q.mu.Unlock()
	var out []verdictPayload
	for _, it := range l.q.items {
		if it.Kind == "officer_decision" {
			var v verdictPayload
			if err := json.Unmarshal(it.Payload, &v); err != nil {
				t.Fatal(err)
			}
			out = append(out, v)
		}
	}
	return out
}

// TestVerdictRules: the rules of issue 14 and 17 (finding 7) on the real
// pipeline: no single verdict dismisses a HIT, one verdict per transaction
// unless a later one supersedes it with a reason, and both are kept.
func TestVerdictRules(t *testing.T) {
	ctx := context.Background()
	l := newLane(t, Config{}, arrestHit)
	hit := l.scan(t)
	if hit.Decision != Hit || !hit.Pending {
		t.Fatalf("hit %s pending=%v", hit.Decision, hit.Pending)
	}
	req := func(v VerdictRequest) VerdictRequest { v.TxID, v.Officer = hit.ID, "o1"; return v }
	for _, bad := range []struct {
		name string
		r    VerdictRequest
		want error
	}{
		{"clear a HIT with one key", VerdictRequest{Verdict: VerdictCleared}, ErrReasonRequired},
		{"dismiss a HIT with one key", VerdictRequest{Verdict: VerdictFalsePositive}, ErrReasonRequired},
		{"reason not on the list", VerdictRequest{Verdict: VerdictFalsePositive, Reason: "felt like it"}, ErrBadVerdict},
		{"unknown verdict", VerdictRequest{Verdict: "maybe"}, ErrBadVerdict},
		{"note too long", VerdictRequest{Verdict: VerdictConfirmed, Note: strings.Repeat("é", MaxNoteRunes+1)}, ErrBadVerdict},
		{"note with control characters", VerdictRequest{Verdict: VerdictConfirmed, Note: "a\x1b[2Jb"}, ErrBadVerdict},
		{"supersedes a verdict that is not there", VerdictRequest{Verdict: VerdictConfirmed, Supersedes: hit.ID + "/1", Change: "wrong_key"}, ErrStaleVerdict},
		{"candidate out of range", VerdictRequest{Verdict: VerdictConfirmed, Candidates: []CandidateVerdict{{Hit: 5, Verdict: CandidateSame}}}, ErrBadVerdict},
	} {
		if _, err := l.p.Record(ctx, req(bad.r)); !errors.Is(err, bad.want) {
			t.Errorf("%s: %v, want %v", bad.name, err, bad.want)
		}
	}
	if n := len(l.verdicts(t)); n != 0 {
		t.Fatalf("%d verdicts recorded by refused requests", n)
	}
	first, err := l.p.Record(ctx, req(VerdictRequest{Verdict: VerdictFalsePositive, Reason: "different_person", Note: "older man, other face"}))
	if err != nil {
		t.Fatal(err)
	}
	if first.Pending || first.Officer.ID != hit.ID+"/1" || first.Officer.Reason != "different_person" {
		t.Fatalf("first verdict %+v pending=%v", first.Officer, first.Pending)
	}
	if _, err := l.p.Record(ctx, req(VerdictRequest{Verdict: VerdictConfirmed})); !errors.Is(err, ErrAlreadyDecided) {
		t.Fatalf("second verdict without supersedes: %v", err)
	}
	if _, err := l.p.Record(ctx, req(VerdictRequest{Verdict: VerdictConfirmed, Supersedes: first.Officer.ID})); !errors.Is(err, ErrReasonRequired) {
		t.Fatalf("change without a reason: %v", err)
	}
	second, err := l.p.Record(ctx, req(VerdictRequest{Verdict: VerdictConfirmed, Supersedes: first.Officer.ID, Change: "second_line_result"}))
	if err != nil {
		t.Fatal(err)
	}
	if second.Officer.Verdict != VerdictConfirmed || len(second.Verdicts) != 2 || second.Verdicts[0].Verdict != VerdictFalsePositive {
		t.Fatalf("after the change: %+v, %d verdicts", second.Officer, len(second.Verdicts))
	}
	// A third verdict naming the first (no longer in force) is refused.
	if _, err := l.p.Record(ctx, req(VerdictRequest{Verdict: VerdictReferred, Supersedes: first.Officer.ID, Change: "wrong_key"})); !errors.Is(err, ErrStaleVerdict) {
		t.Fatalf("superseding a superseded verdict: %v", err)
	}

	// Both verdicts are in the outbox, the second saying what it replaces.
	vs := l.verdicts(t)
	if len(vs) != 2 || vs[0].Supersedes != "" || vs[1].Supersedes != first.Officer.ID || vs[1].ChangeReason != "second_line_result" ||
		vs[0].MachineDecision != Hit || vs[0].Note == "" {
		t.Fatalf("outbox verdicts %+v", vs)
	}
	// And in the audit log, without the note's text.
	var audits []string
	for _, e := range l.a.entries {
		if strings.HasPrefix(e, "officer_decision/") {
			audits = append(audits, e)
		}
	}
	if len(audits) != 2 || audits[0] != "officer_decision/o1/false_positive" || audits[1] != "officer_decision/o1/confirmed" {
		t.Fatalf("audit %v", audits)
	}
	if f := l.a.fields[len(l.a.fields)-1]; f["supersedes"] != first.Officer.ID || f["change_reason"] != "second_line_result" {
		t.Fatalf("audit fields of the change %v", f)
	}
	for _, f := range l.a.fields {
		for k, v := range f {
			if strings.Contains(v, "older man") {
				t.Fatalf("audit field %s holds the note", k)
			}
		}
	}
}

// TestVerdictWhileChecking: a verdict for a traveller whose check is still
// running is refused; it is accepted once the result is shown.
func TestVerdictWhileChecking(t *testing.T) {
	l := newLane(t, Config{}, nothing)
	l.c.hold, l.c.entered = make(chan struct{}), make(chan struct{}, 1)
	done := make(chan *Transaction)
	go func() {
		tx, _ := l.p.Process(context.Background(), DocumentEvent{Document: testDoc(t), Source: "scanner"})
		done <- tx
	}()
	<-l.c.entered
	running := l.p.Recent(1)[0]
	if running.State == StateDecided {
		t.Fatal("decided before the check ran")
	}
	if _, err := l.p.Record(context.Background(), VerdictRequest{TxID: running.ID, Officer: "o1", Verdict: VerdictCleared}); !errors.Is(err, ErrNotDecided) {
		t.Fatalf("verdict while checking: %v", err)
	}
	close(l.c.hold)
	tx := <-done
	if _, err := l.p.Record(context.Background(), VerdictRequest{TxID: tx.ID, Officer: "o1", Verdict: VerdictCleared}); err != nil {
		t.Fatal(err)
	}
}

// TestVerdictMovedOn: a CLEAR traveller takes a first verdict only while
// they are the newest; a REFER stays open whatever comes after.
func TestVerdictMovedOn(t *testing.T) {
	l := newLane(t, Config{}, nothing, possible, nothing)
	clear1 := l.scan(t)
	refer := l.scan(t)
	clear2 := l.scan(t)
	if clear1.Decision != Clear || refer.Decision != Refer || clear2.Decision != Clear {
		t.Fatalf("decisions %s %s %s", clear1.Decision, refer.Decision, clear2.Decision)
	}
	ctx := context.Background()
	if _, err := l.p.Record(ctx, VerdictRequest{TxID: clear1.ID, Officer: "o1", Verdict: VerdictReferred}); !errors.Is(err, ErrMovedOn) {
		t.Fatalf("verdict on a clear traveller two scans ago: %v", err)
	}
	if _, err := l.p.Record(ctx, VerdictRequest{TxID: clear2.ID, Officer: "o1", Verdict: VerdictReferred}); err != nil {
		t.Fatalf("verdict on the newest: %v", err)
	}
	// The REFER's candidates: judged one by one, recorded with the verdict.
	got, err := l.p.Record(ctx, VerdictRequest{TxID: refer.ID, Officer: "o1", Verdict: VerdictCleared,
		Candidates: []CandidateVerdict{{Hit: 0, Verdict: CandidateNotSame}, {Hit: 1, Verdict: CandidateNotSame}}})
	if err != nil {
		t.Fatal(err)
	}
	if c := got.Officer.Candidates; len(c) != 2 || c[0].RefID != "P3" || c[0].Kind != "face" || c[1].RefID != "P4" {
		t.Fatalf("candidates %+v", c)
	}
	if _, err := l.p.Record(ctx, VerdictRequest{TxID: "nope", Officer: "o1", Verdict: VerdictCleared}); !errors.Is(err, ErrUnknownTransaction) {
		t.Fatalf("unknown: %v", err)
	}
	if _, err := l.p.Record(ctx, VerdictRequest{TxID: clear2.ID, Officer: "o1", Verdict: VerdictConfirmed, Supersedes: clear2.ID + "/1", Change: "wrong_key"}); !errors.Is(err, ErrBadVerdict) {
		t.Fatalf("confirming a traveller nothing matched: %v", err)
	}
}

// TestVerdictRace: officers (or tabs) racing to record a first verdict on
// one transaction: exactly one wins, the others are told.
func TestVerdictRace(t *testing.T) {
	l := newLane(t, Config{}, arrestHit)
	hit := l.scan(t)
	const n = 20
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := l.p.Record(context.Background(), VerdictRequest{TxID: hit.ID, Officer: fmt.Sprintf("o%d", i), Verdict: VerdictConfirmed})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	ok := 0
	for err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, ErrAlreadyDecided):
			t.Errorf("loser: %v", err)
		}
	}
	if ok != 1 || len(l.verdicts(t)) != 1 {
		t.Fatalf("%d verdicts accepted, %d in the outbox", ok, len(l.verdicts(t)))
	}
}
