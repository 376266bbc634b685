package lane

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Verdicts an officer gives.
const (
	VerdictConfirmed     = "confirmed"      // the hit is this traveller
	VerdictFalsePositive = "false_positive" // the hit is not this traveller
	VerdictReferred      = "referred"       // sent to the second line
	VerdictCleared       = "cleared"        // the traveller may proceed
)

// Candidate judgements of a possible match.
const (
	CandidateSame    = "same_person"
	CandidateNotSame = "not_same"
)

// DismissReasons are why an officer may dismiss or clear a HIT. One must be
// picked from this list: no single key dismisses a HIT.
var DismissReasons = []string{
	"different_person",    // face, age or details clearly differ from the listed person
	"different_document",  // the listed document is another one (issuer, type or number differ)
	"listing_resolved",    // the listing is withdrawn or resolved (checked with its source)
	"second_line_cleared", // the second line checked and cleared the traveller
}

// ChangeReasons are why an officer may change a verdict within the shift.
var ChangeReasons = []string{
	"wrong_key",           // the wrong key was pressed
	"new_information",     // the traveller or a document showed something new
	"second_line_result",  // the second line came back with a result
	"supervisor_decision", // a supervisor decided otherwise
}

// MaxNoteRunes bounds an officer's note.
const MaxNoteRunes = 500

// VerdictRequest is an officer's verdict on one transaction, as the page
// sends it: always for the transaction id the officer was shown.
type VerdictRequest struct {
	TxID       string             `json:"-"`
	Officer    string             `json:"-"`
	Verdict    string             `json:"verdict"`
	Reason     string             `json:"reason,omitempty"`
	Note       string             `json:"note,omitempty"`
	Supersedes string             `json:"supersedes,omitempty"`
	Change     string             `json:"change_reason,omitempty"`
	Candidates []CandidateVerdict `json:"candidates,omitempty"`
}

// verdictPayload is the outbox record of an officer decision.
type verdictPayload struct {
	TxID            string   `json:"tx_id"`
	Unit            string   `json:"unit"`
	MachineDecision Decision `json:"machine_decision"`
	*OfficerDecision
}

func validVerdict(v string) bool {
	switch v {
	case VerdictConfirmed, VerdictFalsePositive, VerdictReferred, VerdictCleared:
		return true
	}
	return false
}

// dismisses reports whether verdict v, given on a HIT, lets the traveller
// go without acting on the hit.
func dismisses(v string) bool { return v == VerdictFalsePositive || v == VerdictCleared }

// checkRequest validates what can be checked without the transaction.
func checkRequest(r *VerdictRequest) error {
	if !validVerdict(r.Verdict) {
		return fmt.Errorf("%w: %q", ErrBadVerdict, r.Verdict)
	}
	if r.Reason != "" && !slices.Contains(DismissReasons, r.Reason) {
		return fmt.Errorf("%w: reason %q is not on the list", ErrBadVerdict, r.Reason)
	}
	if r.Change != "" && !slices.Contains(ChangeReasons, r.Change) {
		return fmt.Errorf("%w: change reason %q is not on the list", ErrBadVerdict, r.Change)
	}
	r.Note = strings.TrimSpace(r.Note)
	if !utf8.ValidString(r.Note) || utf8.RuneCountInString(r.Note) > MaxNoteRunes {
		return fmt.Errorf("%w: note longer than %d characters", ErrBadVerdict, MaxNoteRunes)
	}
	if strings.IndexFunc(r.Note, func(c rune) bool { return unicode.IsControl(c) && c != '\n' }) >= 0 {
		return fmt.Errorf("%w: note holds control characters", ErrBadVerdict)
	}
	if len(r.Supersedes) > 128 {
		return fmt.Errorf("%w: supersedes", ErrBadVerdict)
	}
	return nil
}

// Record records an officer's verdict: the outbox and the audit log first,
// then the page and the gate are told. There is one verdict in force per
// transaction: a second one must name the verdict it supersedes and give a
// reason from ChangeReasons. Dismissing or clearing a HIT needs a reason
// from DismissReasons. A first verdict on a CLEAR traveller after the next
// one came is refused (ErrMovedOn); HITs and REFERs stay open until decided.
func (p *Pipeline) Record(ctx context.Context, r VerdictRequest) (*Transaction, error) {
	if err := checkRequest(&r); err != nil {
		return nil, err
	}
	// One verdict at a time, so two officers (or two tabs) cannot both
	// record a "first" verdict on the same transaction.
	p.decide.Lock()
	defer p.decide.Unlock()

	p.mu.RLock()
	tx := p.byID[r.TxID]
	var (
		state    string
		machine  Decision
		hits     []HitView
		current  *OfficerDecision
		n        int
		isNewest bool
	)
	if tx != nil {
		state, machine, hits, n = tx.State, tx.Decision, tx.Hits, len(tx.Verdicts)
		if tx.Officer != nil {
			c := *tx.Officer
			current = &c
		}
		isNewest = len(p.txs) > 0 && p.txs[len(p.txs)-1] == tx
	}
	p.mu.RUnlock()
	if tx == nil {
		return nil, ErrUnknownTransaction
	}
	if state != StateDecided {
		return nil, ErrNotDecided
	}
	switch {
	case r.Supersedes == "" && current != nil:
		return nil, fmt.Errorf("%w (%s): change it with a reason", ErrAlreadyDecided, current.Verdict)
	case r.Supersedes != "" && (current == nil || current.ID != r.Supersedes):
		return nil, ErrStaleVerdict
	case r.Supersedes != "" && r.Change == "":
		return nil, fmt.Errorf("%w: why is the verdict changed?", ErrReasonRequired)
	case r.Supersedes == "" && machine == Clear && !isNewest:
		return nil, ErrMovedOn
	}
	if machine == Hit && dismisses(r.Verdict) && r.Reason == "" {
		return nil, fmt.Errorf("%w: why is the HIT dismissed?", ErrReasonRequired)
	}
	if (r.Verdict == VerdictConfirmed || r.Verdict == VerdictFalsePositive) && len(hits) == 0 {
		return nil, fmt.Errorf("%w: nothing matched this traveller to confirm or dismiss", ErrBadVerdict)
	}
	seen := map[int]bool{}
	for i, c := range r.Candidates {
		if c.Hit < 0 || c.Hit >= len(hits) || seen[c.Hit] || (c.Verdict != CandidateSame && c.Verdict != CandidateNotSame) {
			return nil, fmt.Errorf("%w: candidate %d", ErrBadVerdict, i)
		}
		seen[c.Hit] = true
		r.Candidates[i].Kind, r.Candidates[i].RefID = hits[c.Hit].Kind, hits[c.Hit].RefID
	}

	od := &OfficerDecision{ID: r.TxID + "/" + strconv.Itoa(n+1), Officer: r.Officer, Verdict: r.Verdict, Reason: r.Reason,
		Note: r.Note, Supersedes: r.Supersedes, ChangeReason: r.Change, Candidates: r.Candidates, At: p.cfg.Now()}
	// Headquarters receives the record only once it is durable here.
	sent := *od
	sent.Recorded = true
	payload, err := json.Marshal(verdictPayload{TxID: r.TxID, Unit: p.cfg.Unit, MachineDecision: machine, OfficerDecision: &sent})
	if err != nil {
		return nil, fmt.Errorf("lane: encode verdict: %w", err)
	}
	hit := machine == Hit
	if err := p.cfg.Queue.Enqueue(ctx, Item{Kind: "officer_decision", Hit: hit, Payload: payload, Created: od.At, TxID: r.TxID, Decision: machine}); err != nil {
		return nil, fmt.Errorf("lane: outbox: %w", err)
	}
	// The audit log holds references only: the note may name the
	// traveller, so it says whether there was one, not what it said.
	fields := map[string]string{"tx": r.TxID, "machine_decision": string(machine), "verdict_id": od.ID}
	if od.Reason != "" {
		fields["reason"] = od.Reason
	}
	if od.Supersedes != "" {
		fields["supersedes"], fields["change_reason"] = od.Supersedes, od.ChangeReason
	}
	if od.Note != "" {
		fields["note"] = "yes"
	}
	if len(od.Candidates) > 0 {
		var cs []string
		for _, c := range od.Candidates {
			cs = append(cs, c.Kind+":"+c.RefID+"="+c.Verdict)
		}
		fields["candidates"] = strings.Join(cs, ",")
	}
	if err := p.cfg.Audit.Append("officer_decision", r.Officer, r.Verdict, fields); err != nil {
		return nil, fmt.Errorf("lane: audit: %w", err)
	}
	od.Recorded = true
	p.mu.Lock()
	wasPending := tx.pendingLocked()
	if wasPending {
		p.settleLocked()
	}
	tx.Officer = od
	tx.Verdicts = append(tx.Verdicts, *od)
	c := tx.copyLocked()
	p.mu.Unlock()
	if wasPending {
		// Durable in the outbox and the audit log: it leaves the stored
		// work queue (p.decide is held, so its save came first).
		p.removePending(r.TxID)
	}
	p.cfg.Broker.Publish(Event{Type: EventOfficerDecision, Transaction: &c})
	return &c, nil
}

// Decide records a first verdict with a note (Record with the short form).
func (p *Pipeline) Decide(ctx context.Context, txID, officer, verdict, note string) (*Transaction, error) {
	return p.Record(ctx, VerdictRequest{TxID: txID, Officer: officer, Verdict: verdict, Note: note})
}
