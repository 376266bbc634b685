package lane

import (
	"fmt"
	"slices"
)

// PendingStore keeps the transactions awaiting an officer's verdict (the
// work queue) across restarts of the daemon: a power cut, a crash or an
// upgrade must not take a HIT or REFER off the officer's screen. The lane
// saves a HIT or REFER once it is decided, removes it when an officer's
// verdict is recorded (or when MaxHeld drops it), and loads the queue back
// in New. Implementations encrypt what they store (it names the traveller);
// the lane hands them copies without face images (Storable).
type PendingStore interface {
	// Save stores tx, replacing a transaction with the same ID; it returns
	// once tx is durable.
	Save(tx Transaction) error
	// Remove forgets a transaction; an unknown id is not an error.
	Remove(id string) error
	// Load returns the stored transactions in the order they were saved.
	Load() ([]Transaction, error)
}

// Storable is tx as a PendingStore keeps it: no face images (the live
// capture, the chip's photo, the listed persons' photos), so the page
// shows "no image" for a transaction reloaded after a restart. Embeddings
// are never part of a Transaction's stored fields.
func Storable(tx Transaction) Transaction {
	tx.FaceJPEG, tx.ChipJPEG = nil, nil
	tx.Face.HasImage = false
	if tx.Chip != nil {
		cv := *tx.Chip
		cv.HasPhoto = false
		tx.Chip = &cv
	}
	tx.Hits = slices.Clone(tx.Hits)
	for i := range tx.Hits {
		tx.Hits[i].Photo, tx.Hits[i].HasPhoto = nil, false
	}
	tx.Verdicts = slices.Clone(tx.Verdicts)
	tx.Pending = false // worked out again on every copy
	tx.doc, tx.descriptor = nil, nil
	return tx
}

// loadPending puts the stored work queue back, oldest first, before the
// first scan. A stored transaction that is not one awaiting a verdict, or
// a repeated one, is ErrPendingStore: the store is not what the lane wrote.
func (p *Pipeline) loadPending() error {
	txs, err := p.cfg.Pending.Load()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrPendingStore, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range txs {
		tx := Storable(txs[i])
		if tx.ID == "" || p.byID[tx.ID] != nil || !tx.pendingLocked() {
			return fmt.Errorf("%w: stored transaction %d is not awaiting a verdict", ErrPendingStore, i)
		}
		if tx.Hits == nil {
			tx.Hits = []HitView{}
		}
		p.txs = append(p.txs, &tx)
		p.byID[tx.ID] = &tx
	}
	p.trimLocked(p.cfg.Now())
	return nil
}

// savePending stores a transaction that has just become pending. A
// failure leaves it on the page (memory) and is logged without personal
// data: the decision itself is in the outbox and the audit log.
func (p *Pipeline) savePending(tx Transaction) {
	if p.cfg.Pending == nil {
		return
	}
	if err := p.cfg.Pending.Save(Storable(tx)); err != nil {
		p.cfg.Logger.Error("work queue not saved: this pending transaction will not survive a restart", "tx", tx.ID, "err", err)
	}
}

// removePending forgets transactions that no longer await a verdict.
func (p *Pipeline) removePending(ids ...string) {
	if p.cfg.Pending == nil {
		return
	}
	for _, id := range ids {
		if err := p.cfg.Pending.Remove(id); err != nil {
			p.cfg.Logger.Error("work queue: a settled transaction could not be removed from the store", "tx", id, "err", err)
		}
	}
}

// takeDroppedLocked returns (and forgets) the pending transactions MaxHeld
// dropped since the last call, for removePending outside the lock.
func (p *Pipeline) takeDroppedLocked() []string {
	d := p.dropped
	p.dropped = nil
	return d
}
