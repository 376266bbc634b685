package hub

import (
	"crypto"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/checkpoint-edge/checkpoint/audit"
)

// AuditState is what the hub keeps about a unit's audit chain: the newest
// head it verified as an extension of the one before, and a sticky flag
// once the unit sent a head that does not extend it.
type AuditState struct {
	// Head is the anchored head (zero: nothing anchored yet).
	Head audit.Head `json:"head"`
	// Time and Sig are the unit's time and signature of Head, when Head is
	// the head the unit signed (not an intermediate point of a proof).
	Time time.Time `json:"time,omitzero"`
	Sig  []byte    `json:"sig,omitempty"`
	// Reset is set by an operator (after investigating a flag): the next
	// signed head is adopted as it is.
	Reset bool `json:"reset,omitempty"`
	// Flag is empty, or the first problem seen: audit.AnchorTruncated,
	// AnchorForked or AnchorInvalid. It stays until an operator resets.
	Flag      string    `json:"flag,omitempty"`
	Detail    string    `json:"detail,omitempty"`
	FlaggedAt time.Time `json:"flagged_at,omitzero"`
	// LastStatus and Checked describe the latest anchor received.
	LastStatus string    `json:"last_status,omitempty"`
	Checked    time.Time `json:"checked,omitzero"`
}

func normalHead(h audit.Head) audit.Head {
	if h.Seq == 0 {
		h.Hash = audit.GenesisHash
	}
	return h
}

func validHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// judgeAnchor decides what an anchor means against the stored state; it is
// pure so that every backend applies the same rules inside its own
// transaction (under the unit's lock). It returns the new state, the answer
// for the unit, and the flag raised by this anchor ("" when none).
//
// The rules (hub/README.md, "Audit anchoring"): the signature must verify
// with the unit's key; a head shorter than the anchored one is a
// truncation; a chain that does not pass through the anchored head is a
// fork; the entries sent must recompute, link, and lead to the signed head.
// A base the hub does not hold gets "resync" with the hub's head, so a unit
// that lost track (or a hub restored from a backup) converges without a
// false alarm.
func judgeAnchor(st AuditState, unit string, a *audit.Anchor, pub crypto.PublicKey, now time.Time) (AuditState, audit.Ack, string) {
	s0 := normalHead(st.Head)
	st.Checked = now
	ack := func(status, detail string) (AuditState, audit.Ack, string) {
		st.LastStatus = status
		return st, audit.Ack{Status: status, Head: normalHead(st.Head), Detail: detail}, ""
	}
	flag := func(reason, detail string) (AuditState, audit.Ack, string) {
		if st.Flag == "" {
			st.Flag, st.Detail, st.FlaggedAt = reason, detail, now
		}
		st.LastStatus = reason
		return st, audit.Ack{Status: reason, Head: s0, Detail: detail}, reason
	}
	if pub == nil || !a.VerifySig(unit, pub) {
		return flag(audit.AnchorInvalid, "the head's signature does not verify with the unit's certificate")
	}
	if !validHash(a.Head.Hash) || (a.Base.Seq > 0 && !validHash(a.Base.Hash)) {
		return flag(audit.AnchorInvalid, "malformed head")
	}
	if len(a.Entries) > audit.MaxAnchorEntries {
		return flag(audit.AnchorInvalid, fmt.Sprintf("%d proof entries (at most %d)", len(a.Entries), audit.MaxAnchorEntries))
	}
	if st.Reset {
		st.Reset, st.Flag, st.Detail, st.FlaggedAt = false, "", "", time.Time{}
		st.Head, st.Time, st.Sig = normalHead(a.Head), a.Time, a.Sig
		return ack(audit.AnchorOK, "anchor reset by an operator: head adopted")
	}
	seg, err := audit.CheckSegment(a.Entries)
	if err != nil {
		return flag(audit.AnchorInvalid, err.Error())
	}
	if len(a.Entries) > 0 && seg.From != a.Base.Seq+1 {
		return flag(audit.AnchorInvalid, "proof entries do not follow the base")
	}
	switch {
	case a.Head.Seq < s0.Seq:
		return flag(audit.AnchorTruncated, fmt.Sprintf("unit reports %d entries; %d were anchored", a.Head.Seq, s0.Seq))
	case a.Head.Seq == s0.Seq:
		if a.Head.Hash != s0.Hash {
			return flag(audit.AnchorForked, fmt.Sprintf("entry %d differs from the anchored one", s0.Seq))
		}
		st.Time, st.Sig = a.Time, a.Sig
		return ack(audit.AnchorOK, "")
	}
	// The unit is ahead: its entries must pass through the anchored head.
	if a.Base.Seq > s0.Seq || len(a.Entries) == 0 {
		return ack(audit.AnchorResync, "send the entries after the head given")
	}
	h, ok := seg.HashAt(s0.Seq)
	if !ok {
		return ack(audit.AnchorResync, "proof does not reach the anchored head")
	}
	if h != s0.Hash {
		return flag(audit.AnchorForked, fmt.Sprintf("the chain sent does not pass through anchored entry %d", s0.Seq))
	}
	end := seg.End()
	if end.Seq > a.Head.Seq || (end.Seq == a.Head.Seq && end.Hash != a.Head.Hash) {
		return flag(audit.AnchorInvalid, "proof does not lead to the signed head")
	}
	st.Head, st.Time, st.Sig = end, time.Time{}, nil
	if end.Seq == a.Head.Seq {
		st.Time, st.Sig = a.Time, a.Sig
	}
	return ack(audit.AnchorOK, "")
}
