package watchlist

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	bolt "go.etcd.io/bbolt"

	"github.com/checkpoint-edge/checkpoint/watchlist/match"
)

// Person candidates come from the blind name index: every query key (from
// match.QueryKeys) is HMACed and its postings read by prefix scan. A
// counter per key (bucket "c") says how long a posting list is before it is
// read, so rare keys are read first and keys too common to be useful (a
// phonetic code shared by 5% of the list) are skipped. Token and variant
// keys are also read combined with the traveller's birth year (persons are
// indexed under every listed year, of dates and of spans of up to 12
// years), which ranks the right one of thousands of namesakes first.
// Candidates are ranked by the rarity of the keys they share with the query
// (sum of log(N/count)) and the best MaxCandidates are decrypted, compiled
// (match.Compile) and scored by one match.Scorer; decoded candidates are
// kept in a bounded per-version cache (Options.PersonCache).

// nameKeySize is the truncated blind key of a name index entry: a collision
// only adds a candidate that scoring then rejects.
const nameKeySize = 8

var subKeyCount = []byte("c") // blind(index key) → uint32 postings

func init() { subBuckets = append(subBuckets, subKeyCount) }

// Birth-date composites: a name's primary keys (match.PrimaryKeys: its
// tokens as written, their variant classes, adjacent pairs joined; not the
// deletions, phonetic and prefix keys) are also indexed combined with each
// listed birth year ("t:MOHAMMED|y:1975") and each full listed date
// ("t:MOHAMMED|d:19750312"). Among thousands of namesakes the year picks
// those listed in the traveller's year and the date the one listed on the
// traveller's day, so they rank first; the commonest keys (MOHAMMED, LI,
// KIM) are read only so.

func yearComposite(k string, year int) string { return fmt.Sprintf("%s|y:%04d", k, year) }

func dateComposite(k string, d match.Date) string {
	return fmt.Sprintf("%s|d:%04d%02d%02d", k, d.Year, d.Month, d.Day)
}

// personIndexTerms returns the plaintext name index keys (with birth-year
// and birth-date composites) and the distinct name tokens of a person,
// each once.
func personIndexTerms(p *PersonAlert) (keys, tokens []string) {
	specs := birthSpecs(p)
	years := match.BirthYears(specs)
	var dates []match.Date
	for _, b := range specs {
		if d := b.Date; d.Year != 0 && d.Month != 0 && d.Day != 0 {
			dates = append(dates, d)
		}
	}
	for _, n := range personNames(p) {
		keys = append(keys, match.IndexKeys(n)...)
		for _, k := range match.PrimaryKeys(n) {
			for _, y := range years {
				keys = append(keys, yearComposite(k, y))
			}
			for _, d := range dates {
				keys = append(keys, dateComposite(k, d))
			}
		}
		tokens = append(tokens, match.NameTokens(n.Surname)...)
		for _, g := range n.GivenNames {
			tokens = append(tokens, match.NameTokens(g)...)
		}
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	slices.Sort(tokens)
	tokens = slices.Compact(tokens)
	return keys, tokens
}

func (b *blinder) nameKey(k string) [nameKeySize]byte {
	full := b.name(k)
	var out [nameKeySize]byte
	copy(out[:], full[:])
	return out
}

// PersonHit is a listed person scored against a query.
type PersonHit struct {
	// Alert is the listed person; face templates carry no vectors.
	Alert PersonAlert       `json:"alert"`
	Score match.PersonScore `json:"score"`
}

// personRecord is the form match scores.
func personRecord(p *PersonAlert) match.PersonRecord {
	r := match.PersonRecord{Names: personNames(p), Births: birthSpecs(p), Nationality: p.Nationality,
		Nationalities: p.Nationalities, Sex: p.Sex}
	for _, d := range p.Documents {
		if n := NormalizeNumber(d.Number); n != "" {
			r.Documents = append(r.Documents, n)
		}
	}
	return r
}

// birthSpecs are the person's listed dates of birth as match compares
// them; dates that do not parse (a format-1 record written by hand) are
// left out, as an unknown date.
func birthSpecs(p *PersonAlert) []match.BirthSpec {
	var out []match.BirthSpec
	for _, b := range p.BirthDates() {
		if b.validate() == nil {
			out = append(out, b.Spec())
		}
	}
	return out
}

// SearchPerson returns listed persons similar to q, best first, at most
// limit (0 = 20): those at the HIT and POSSIBLE levels (Score.Level) and
// near misses (Strength "weak"); the caller decides what to show (Check and
// ScreenPerson keep the two levels). Records that fail authentication are
// skipped and returned as an error with the hits.
func (s *Store) SearchPerson(q match.PersonQuery, limit int) ([]PersonHit, error) {
	if len(match.NameTokens(q.Surname)) == 0 && len(q.GivenNames) == 0 {
		return nil, fmt.Errorf("%w: person search needs a name", ErrBadQuery)
	}
	sn, tx, err := s.acquire()
	if err != nil {
		return nil, err
	}
	defer s.done(sn, tx)
	return s.searchPerson(tx, sn, q, limit)
}

type candidate struct {
	key  blindKey
	rank float64
}

func (s *Store) searchPerson(tx *bolt.Tx, sn *snapshot, q match.PersonQuery, limit int) ([]PersonHit, error) {
	if limit <= 0 {
		limit = 20
	}
	g := tx.Bucket(genName(sn.gen))
	if g == nil || sn.meta.Persons == 0 {
		return nil, nil
	}
	counts, idx, persons := g.Bucket(subKeyCount), g.Bucket(subNameIdx), g.Bucket(subPersons)
	if counts == nil || idx == nil || persons == nil {
		return nil, fmt.Errorf("%w: person buckets missing", ErrCorrupt)
	}
	total := float64(max(sn.meta.Persons, 1))
	maxCand := s.opts.MaxCandidates
	// A key listing more persons than this says little about any of them.
	commonLimit := max(8*maxCand, int(total/200))

	type qkey struct {
		bk    [nameKeySize]byte
		count int
	}
	var keys []qkey
	countOf := func(k string) qkey {
		bk := s.blind.nameKey(k)
		qk := qkey{bk: bk}
		if v := counts.Get(bk[:]); len(v) == 4 {
			qk.count = int(binary.BigEndian.Uint32(v))
		}
		return qk
	}
	for _, k := range match.QueryKeys(q) {
		if qk := countOf(k); qk.count > 0 && qk.count <= commonLimit {
			keys = append(keys, qk)
		}
	}
	// The primary keys combined with the traveller's birth year and date
	// (see personIndexTerms): a key too common to read alone is read so.
	if q.Birth.Year != 0 {
		full := q.Birth.Month != 0 && q.Birth.Day != 0
		for _, k := range match.QueryPrimaryKeys(q) {
			if ck := countOf(yearComposite(k, q.Birth.Year)); ck.count > 0 && ck.count <= commonLimit {
				keys = append(keys, ck)
			}
			if full {
				if ck := countOf(dateComposite(k, q.Birth)); ck.count > 0 && ck.count <= commonLimit {
					keys = append(keys, ck)
				}
			}
		}
	}
	slices.SortFunc(keys, func(a, b qkey) int { return a.count - b.count })

	ranks := make(map[blindKey]float64)
	scanned, budget := 0, 96*maxCand
	c := idx.Cursor()
	for _, qk := range keys {
		if scanned+qk.count > budget && len(ranks) > 0 {
			break
		}
		w := math.Log(1 + total/float64(qk.count))
		for k, _ := c.Seek(qk.bk[:]); k != nil && bytes.HasPrefix(k, qk.bk[:]); k, _ = c.Next() {
			var pk blindKey
			copy(pk[:], k[nameKeySize:])
			ranks[pk] += w
			scanned++
		}
	}
	cands := make([]candidate, 0, len(ranks))
	for k, r := range ranks {
		cands = append(cands, candidate{k, r})
	}
	slices.SortFunc(cands, func(a, b candidate) int {
		if a.rank != b.rank {
			if a.rank > b.rank {
				return -1
			}
			return 1
		}
		return bytes.Compare(a.key[:], b.key[:])
	})
	if len(cands) > maxCand {
		cands = cands[:maxCand]
	}

	scorer := match.NewScorer(q, s.matchConfig(g, total)).Brief()
	var hits []PersonHit
	var errs []error
	for _, cd := range cands {
		cp := sn.persons.get(cd.key)
		if cp == nil {
			v := persons.Get(cd.key[:])
			if v == nil {
				continue
			}
			p, err := s.openPerson(g, cd.key, v, false)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			cp = &cachedPerson{alert: p, rec: match.Compile(personRecord(p))}
			sn.persons.put(cd.key, cp)
		}
		sc := scorer.Score(cp.rec)
		if sc.Strength == match.StrengthNone {
			continue
		}
		hits = append(hits, PersonHit{Alert: *cp.alert, Score: sc})
	}
	slices.SortStableFunc(hits, func(a, b PersonHit) int {
		switch {
		case a.Score.Score > b.Score.Score:
			return -1
		case a.Score.Score < b.Score.Score:
			return 1
		}
		return strings.Compare(a.Alert.ID, b.Alert.ID)
	})
	if len(hits) > limit {
		hits = hits[:limit]
	}
	return hits, errors.Join(errs...)
}

// matchConfig is the configured scoring with token frequencies estimated
// from the installed version's counters.
//
// The estimate is (count - 1) / (persons + frequencyPrior): the person who
// bears a token says nothing about how common it is (a name listed once is
// as rare as the list can show), and a small list is treated as a sample
// of at least frequencyPrior people. Without both, a token listed once on
// a list of 700 would count as one person in 700 and no two-token name
// could reach the evidence bar on a small list: the bar would depend on
// the list's size.
func (s *Store) matchConfig(g *bolt.Bucket, total float64) match.Config {
	cfg := match.DefaultConfig()
	if s.opts.MatchConfig != nil {
		cfg = *s.opts.MatchConfig
	}
	if cfg.TokenFrequency != nil {
		return cfg
	}
	tf := g.Bucket(subTokenFrq)
	if tf == nil {
		return cfg
	}
	cache := make(map[string]float64)
	cfg.TokenFrequency = func(tok string) float64 {
		if f, ok := cache[tok]; ok {
			return f
		}
		bk := s.blind.token(tok)
		var f float64
		if v := tf.Get(bk[:]); len(v) == 4 {
			if n := binary.BigEndian.Uint32(v); n > 1 {
				f = float64(n-1) / (total + frequencyPrior)
			}
		}
		cache[tok] = f
		return f
	}
	return cfg
}

// frequencyPrior is the smallest population a list's token counts are
// taken to describe (see matchConfig).
const frequencyPrior = 20000

// cachedPerson is a decrypted, decoded person and the form match scores,
// kept for the searches that meet it again: batch screening and a flight's
// passengers meet the same common-name candidates over and over.
type cachedPerson struct {
	alert *PersonAlert // shared: never modified
	rec   match.PersonRecord
}

// personCache holds the cachedPersons of one installed version. It lives
// with its snapshot (a new version starts empty, a retired one is
// cleared), is bounded (Options.PersonCache entries; an arbitrary entry
// makes room), and holds decrypted records in the daemon's memory only, as
// the face index does with templates.
type personCache struct {
	mu  sync.RWMutex
	m   map[blindKey]*cachedPerson
	max int
}

func newPersonCache(max int) *personCache {
	if max <= 0 {
		return nil
	}
	return &personCache{m: make(map[blindKey]*cachedPerson, min(max, 1024)), max: max}
}

func (c *personCache) get(k blindKey) *cachedPerson {
	if c == nil {
		return nil
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.m[k]
}

func (c *personCache) put(k blindKey, p *cachedPerson) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		return // cleared: the version is retired
	}
	if len(c.m) >= c.max {
		for old := range c.m {
			delete(c.m, old)
			break
		}
	}
	c.m[k] = p
}

func (c *personCache) clear() {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.m = nil
	c.mu.Unlock()
}
