package lane

import (
	"slices"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"
)

// The lane's memory of the shift. Every transaction is held until it is
// both decided by an officer (or needs no verdict) and old: a HIT or REFER
// awaiting its verdict is never dropped because later travellers came, so
// the officer's work queue survives any number of scans and any page
// reload. Decided transactions are kept for the shift's history, bounded by
// count and age, and let go of their images early. All of it is memory,
// never logged; only the work queue (the transactions awaiting a verdict,
// without images) is also kept in Config.Pending, when there is one, so it
// survives a restart (pending.go).
const (
	// DefaultMaxHistory is how many decided transactions the lane keeps.
	DefaultMaxHistory = 5000
	// DefaultHistoryAge is how long it keeps them (a shift and some).
	DefaultHistoryAge = 24 * time.Hour
	// MaxHeld bounds everything held, pending transactions included: past
	// it the oldest pending REFERs go first, then the oldest HITs.
	MaxHeld = 20000
	// keepImages is how many of the newest transactions keep their face
	// images; keepPendingImages how many of the newest pending ones do.
	keepImages        = 50
	keepPendingImages = 200
)

// pendingLocked reports whether tx awaits the officer's verdict.
func (tx *Transaction) pendingLocked() bool {
	return tx.State == StateDecided && (tx.Decision == Hit || tx.Decision == Refer) && tx.Officer == nil
}

func (tx *Transaction) copyLocked() Transaction {
	c := *tx
	c.Hits = slices.Clone(tx.Hits)
	c.Verdicts = slices.Clone(tx.Verdicts)
	if tx.Chip != nil {
		cv := *tx.Chip
		c.Chip = &cv
	}
	if tx.Officer != nil {
		od := *tx.Officer
		c.Officer = &od
	}
	c.Pending = tx.pendingLocked()
	return c
}

// remember adds a new transaction and applies the bounds.
func (p *Pipeline) remember(tx *Transaction) {
	p.mu.Lock()
	p.txs = append(p.txs, tx)
	p.byID[tx.ID] = tx
	p.adds++
	p.trimLocked(p.cfg.Now())
	dropped := p.takeDroppedLocked()
	p.mu.Unlock()
	if len(dropped) > 0 {
		p.decide.Lock()
		p.removePending(dropped...)
		p.decide.Unlock()
	}
}

// settleLocked counts a transaction that needs no verdict (any more).
func (p *Pipeline) settleLocked() { p.settled++ }

// sweepEvery is how often (in transactions) trimLocked re-checks every
// held transaction's images rather than only the one that just aged.
const sweepEvery = 32

// trimLocked drops the oldest decided transactions beyond MaxHistory or
// HistoryAge (never one awaiting a verdict, never one still running),
// applies MaxHeld, and releases the images of all but the newest. It is
// O(1) per transaction in the common case (a few pending ones at the
// front), with a full sweep every sweepEvery transactions.
func (p *Pipeline) trimLocked(now time.Time) {
	cut := now.Add(-p.cfg.HistoryAge)
	for p.settled > 0 {
		i := slices.IndexFunc(p.txs, func(tx *Transaction) bool { return tx.State == StateDecided && !tx.pendingLocked() })
		if i < 0 || (p.settled <= p.cfg.MaxHistory && !p.txs[i].StartedAt.Before(cut)) {
			break
		}
		p.removeLocked(i)
		p.settled--
	}
	for len(p.txs) > p.maxHeld {
		// Only transactions awaiting a verdict are left beyond the bound:
		// the oldest REFERs go first, then the oldest HITs. The outbox and
		// headquarters still hold them.
		i := slices.IndexFunc(p.txs, func(tx *Transaction) bool { return tx.pendingLocked() && tx.Decision == Refer })
		if i < 0 {
			i = slices.IndexFunc(p.txs, func(tx *Transaction) bool { return tx.State == StateDecided })
		}
		if i < 0 {
			break
		}
		p.cfg.Logger.Warn("officer work queue overflow: oldest pending transaction dropped from the page", "decision", p.txs[i].Decision, "held", len(p.txs))
		if !p.txs[i].pendingLocked() {
			p.settled--
		} else if p.cfg.Pending != nil {
			p.dropped = append(p.dropped, p.txs[i].ID)
		}
		p.removeLocked(i)
	}
	if i := len(p.txs) - 1 - keepImages; i >= 0 && p.txs[i].State == StateDecided && !p.txs[i].pendingLocked() {
		releaseImagesLocked(p.txs[i])
	}
	if p.adds%sweepEvery != 0 {
		return
	}
	// The newest keepImages transactions, and the newest
	// keepPendingImages awaiting a verdict, keep their images.
	n, pend := 0, 0
	for i := len(p.txs) - 1; i >= 0; i-- {
		tx := p.txs[i]
		n++
		keep := n <= keepImages || tx.State != StateDecided
		if tx.pendingLocked() {
			pend++
			keep = keep || pend <= keepPendingImages
		}
		if !keep {
			releaseImagesLocked(tx)
		}
	}
}

func (p *Pipeline) removeLocked(i int) {
	delete(p.byID, p.txs[i].ID)
	copy(p.txs[i:], p.txs[i+1:])
	p.txs[len(p.txs)-1] = nil
	p.txs = p.txs[:len(p.txs)-1]
}

// releaseImagesLocked lets go of a transaction's face and reference photos.
// Hits are replaced, not changed in place: copies handed out share the old
// slice.
func releaseImagesLocked(tx *Transaction) {
	if tx.FaceJPEG == nil && tx.ChipJPEG == nil && !slices.ContainsFunc(tx.Hits, func(h HitView) bool { return h.Photo != nil }) {
		return
	}
	tx.FaceJPEG, tx.ChipJPEG = nil, nil
	tx.Face.HasImage = false
	if tx.Chip != nil {
		cv := *tx.Chip // copies handed out share the old view
		cv.HasPhoto = false
		tx.Chip = &cv
	}
	hits := slices.Clone(tx.Hits)
	for i := range hits {
		hits[i].Photo, hits[i].HasPhoto = nil, false
	}
	tx.Hits = hits
}

// Transaction returns a copy of a held transaction, or nil.
func (p *Pipeline) Transaction(id string) *Transaction {
	p.mu.RLock()
	defer p.mu.RUnlock()
	tx := p.byID[id]
	if tx == nil {
		return nil
	}
	c := tx.copyLocked()
	return &c
}

// Recent returns copies of the newest transactions, newest first.
func (p *Pipeline) Recent(n int) []Transaction {
	p.mu.RLock()
	defer p.mu.RUnlock()
	var out []Transaction
	for i := len(p.txs) - 1; i >= 0 && len(out) < n; i-- {
		out = append(out, p.txs[i].copyLocked())
	}
	return out
}

// Pending returns copies of the transactions awaiting a verdict (every HIT
// and REFER not yet decided by an officer), oldest first.
func (p *Pipeline) Pending() []Transaction {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := []Transaction{}
	for _, tx := range p.txs {
		if tx.pendingLocked() {
			out = append(out, tx.copyLocked())
		}
	}
	return out
}

// Summary is one line of the shift's history.
type Summary struct {
	ID             string    `json:"id"`
	StartedAt      time.Time `json:"started_at"`
	State          string    `json:"state"`
	Decision       Decision  `json:"decision,omitempty"`
	Discreet       bool      `json:"discreet,omitempty"`
	Surname        string    `json:"surname"`
	GivenNames     string    `json:"given_names"`
	DocumentCode   string    `json:"document_code"`
	DocumentNumber string    `json:"document_number"`
	Nationality    string    `json:"nationality"`
	NationalityISO string    `json:"nationality_iso2,omitempty"`
	HitKinds       []string  `json:"hit_kinds,omitempty"`
	Verdict        string    `json:"verdict,omitempty"`
	Officer        string    `json:"officer,omitempty"`
	Changed        bool      `json:"changed,omitempty"` // the verdict was changed
	Pending        bool      `json:"pending"`
}

// HistoryQuery selects the shift's history.
type HistoryQuery struct {
	Since time.Time // transactions started at or after
	// Text matches the traveller's names or document number, ignoring
	// case, accents, spaces and MRZ fillers.
	Text  string
	Limit int // 0: 200
}

// MaxHistoryAnswer bounds one History answer.
const MaxHistoryAnswer = 500

// History returns the transactions of the shift that match q, newest
// first.
func (p *Pipeline) History(q HistoryQuery) []Summary {
	limit := q.Limit
	if limit <= 0 {
		limit = 200
	}
	limit = min(limit, MaxHistoryAnswer)
	want := fold(q.Text)
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := []Summary{}
	for i := len(p.txs) - 1; i >= 0 && len(out) < limit; i-- {
		tx := p.txs[i]
		if tx.StartedAt.Before(q.Since) {
			continue
		}
		d := &tx.Document
		if want != "" {
			names := fold(d.Surname + " " + d.GivenNames)
			rev := fold(d.GivenNames + " " + d.Surname)
			if !strings.Contains(names, want) && !strings.Contains(rev, want) && !strings.Contains(fold(d.DocumentNumber), want) {
				continue
			}
		}
		s := Summary{ID: tx.ID, StartedAt: tx.StartedAt, State: tx.State, Decision: tx.Decision, Discreet: tx.Discreet,
			Surname: d.Surname, GivenNames: d.GivenNames, DocumentCode: d.DocumentCode, DocumentNumber: d.DocumentNumber,
			Nationality: d.Nationality, NationalityISO: d.NationalityISO, Pending: tx.pendingLocked(), Changed: len(tx.Verdicts) > 1}
		for _, h := range tx.Hits {
			if !slices.Contains(s.HitKinds, h.Kind) {
				s.HitKinds = append(s.HitKinds, h.Kind)
			}
		}
		if tx.Officer != nil {
			s.Verdict, s.Officer = tx.Officer.Verdict, tx.Officer.Officer
		}
		out = append(out, s)
	}
	return out
}

// fold is s for searching: upper case, accents, spaces, fillers and
// punctuation removed ("Novák-Svobodová" and "NOVAK<SVOBODOVA" fold the
// same). Bounded, so a pasted essay costs nothing.
func fold(s string) string {
	if len(s) > 256 {
		s = s[:256]
	}
	s = strings.ToValidUTF8(s, "")
	// Decompose, drop marks and punctuation, upper-case; upper-casing can
	// make a letter that decomposes again (ǆ → Ǆ), so once more.
	for range 2 {
		var b strings.Builder
		for _, r := range norm.NFD.String(s) {
			switch {
			case unicode.Is(unicode.Mn, r):
			case unicode.IsLetter(r) || unicode.IsDigit(r):
				b.WriteRune(unicode.ToUpper(r))
			}
		}
		s = b.String()
	}
	return s
}

// ISO2 is an ICAO country code as ISO 3166 alpha-2 ("KOR" → "KR", "D" →
// "DE"), or "" for codes that are not countries (organisations, XXA…).
func ISO2(code string) string {
	code = strings.Trim(strings.ToUpper(strings.TrimSpace(code)), "<")
	if code == "D" {
		code = "DEU"
	}
	if len(code) != 3 {
		return ""
	}
	r, err := language.ParseRegion(code)
	if err != nil || !r.IsCountry() {
		return ""
	}
	return r.String()
}
