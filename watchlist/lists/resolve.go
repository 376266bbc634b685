package lists

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/checkpoint-edge/checkpoint/watchlist"
	"github.com/checkpoint-edge/checkpoint/watchlist/match"
)

// Entity resolution: the same person on several lists becomes one record
// carrying every list reference.
//
// Two entries of different lists are linked by one of three rules:
//
//  1. ofac_entity_number: both carry the same OFAC entity number (an OFAC
//     list and a Treasury list inside the CSL). The publisher says it is
//     one listing.
//  2. identity_document: they list the same passport or identity number
//     (at least 6 characters once normalised) from compatible issuing
//     states (equal, or one unknown), and a strong name of each agrees
//     (similarity ≥ 0.8).
//  3. name_and_birth: a strong name of each agrees closely (similarity ≥
//     0.9 carrying evidence ≥ 1.0, so two common tokens are not enough)
//     and a listed date of birth of each agrees: the same full date or
//     year and month; or the same year or overlapping spans when a
//     nationality is also shared or the agreeing name carries evidence ≥
//     2.5 (several rare names: "AL MAZIDIH, Ghazy Fezza Hishan", listed
//     with years only and no nationality on both lists).
//
// Safeguards, because a false link merges two people and makes one of them
// invisible under the other's dates:
//   - never on names alone: rules 2 and 3 need an independent identifier
//     (a document, a date of birth);
//   - weak aliases (nicknames) are never used to link;
//   - any conflict vetoes: sex differs, every pair of dates conflicts, or
//     both list nationalities and share none;
//   - never within one list: a publisher's two entries are two listings;
//   - a link must be unique: an entry that qualifies for two entries of
//     the same list links to neither (reported as ambiguous), and a group
//     that would hold two entries of one list is not merged;
//   - every link is reported with its rule (Report.Links), so analysts can
//     review them; ids, never names.
type Link struct {
	A      string `json:"a"`
	B      string `json:"b"`
	Rule   string `json:"rule"`
	Detail string `json:"detail"`
}

// Ambiguous is an entry that qualified for links to several entries of
// one list and was linked to none.
type Ambiguous struct {
	ID         string   `json:"id"`
	Candidates []string `json:"candidates"`
	Reason     string   `json:"reason"`
}

// Link rules.
const (
	RuleOFACNumber   = "ofac_entity_number"
	RuleDocument     = "identity_document"
	RuleNameAndBirth = "name_and_birth"
)

// listRank orders lists for the merged record's id and primary name: the
// UN first, then OFAC's SDN and Consolidated lists, then the CSL.
func listRank(list string) int {
	switch {
	case list == "UN":
		return 0
	case list == "OFAC-SDN":
		return 1
	case strings.HasPrefix(list, "OFAC"):
		return 2
	}
	return 3
}

type rEntry struct {
	*Entry
	list   string
	idx    int
	names  []match.FullName // strong names only
	births []match.BirthSpec
	nats   []string
	docs   map[string]string // number -> issuing state
}

// Resolve merges the entries of several parsed lists into one record per
// person (see the rules above) and returns the records sorted by id with
// the links made and the ambiguities left unlinked.
func Resolve(parsed []*Parsed) ([]watchlist.PersonAlert, []Link, []Ambiguous) {
	var all []*rEntry
	for _, p := range parsed {
		for _, e := range p.Entries {
			re := &rEntry{Entry: e, list: p.List, idx: len(all), docs: map[string]string{}}
			pa := &e.Person
			for _, n := range append([]watchlist.Name{pa.Name}, pa.Aliases...) {
				if n.Quality == watchlist.QualityWeak {
					continue
				}
				re.names = append(re.names, match.FullName{Surname: n.Surname, GivenNames: strings.Fields(n.GivenNames)})
				for _, m := range n.MRZ {
					re.names = append(re.names, match.ParseMRZName(m))
				}
			}
			for _, b := range pa.BirthDates() {
				if bd, err := watchlist.ParseBirthDate(b.String()); err == nil {
					re.births = append(re.births, bd.Spec())
				}
			}
			re.nats = pa.AllNationalities()
			for _, d := range pa.Documents {
				if n := watchlist.NormalizeNumber(d.Number); len(n) >= 6 {
					re.docs[n] = d.IssuingState
				}
			}
			all = append(all, re)
		}
	}

	type cand struct {
		a, b   int
		rule   string
		detail string
	}
	var cands []cand
	for _, pr := range candidatePairs(all) {
		a, b := all[pr[0]], all[pr[1]]
		if rule, detail := linkRule(a, b); rule != "" {
			cands = append(cands, cand{a.idx, b.idx, rule, detail})
		}
	}

	// Uniqueness: an entry may link by rules 2 and 3 to one entry per
	// other list.
	var amb []Ambiguous
	perList := map[[2]string][]int{} // (entry id, other list) -> candidate indexes
	for i, c := range cands {
		if c.rule == RuleOFACNumber {
			continue
		}
		perList[[2]string{all[c.a].Person.ID, all[c.b].list}] = append(perList[[2]string{all[c.a].Person.ID, all[c.b].list}], i)
		perList[[2]string{all[c.b].Person.ID, all[c.a].list}] = append(perList[[2]string{all[c.b].Person.ID, all[c.a].list}], i)
	}
	drop := map[int]bool{}
	keys := make([][2]string, 0, len(perList))
	for k := range perList {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i][0]+keys[i][1] < keys[j][0]+keys[j][1] })
	for _, k := range keys {
		idxs := perList[k]
		if len(idxs) < 2 {
			continue
		}
		var ids []string
		for _, i := range idxs {
			drop[i] = true
			other := all[cands[i].a].Person.ID
			if other == k[0] {
				other = all[cands[i].b].Person.ID
			}
			ids = append(ids, other)
		}
		slices.Sort(ids)
		amb = append(amb, Ambiguous{ID: k[0], Candidates: slices.Compact(ids), Reason: "qualifies for links to several entries of " + k[1]})
	}

	// Union-find; a group may not hold two entries of one list.
	parent := make([]int, len(all))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(x int) int {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	members := make([][]int, len(all))
	for i := range members {
		members[i] = []int{i}
	}
	// Publisher links first, then the others in a stable order.
	order := make([]int, 0, len(cands))
	for i := range cands {
		if !drop[i] {
			order = append(order, i)
		}
	}
	sort.SliceStable(order, func(x, y int) bool {
		return cands[order[x]].rule == RuleOFACNumber && cands[order[y]].rule != RuleOFACNumber
	})
	var links []Link
	for _, i := range order {
		c := cands[i]
		ra, rb := find(c.a), find(c.b)
		if ra == rb {
			continue
		}
		clash := false
		for _, x := range members[ra] {
			for _, y := range members[rb] {
				clash = clash || all[x].list == all[y].list
			}
		}
		if clash {
			amb = append(amb, Ambiguous{ID: all[c.a].Person.ID, Candidates: []string{all[c.b].Person.ID}, Reason: "the link would merge two entries of one list"})
			continue
		}
		parent[rb] = ra
		members[ra] = append(members[ra], members[rb]...)
		members[rb] = nil
		links = append(links, Link{A: all[c.a].Person.ID, B: all[c.b].Person.ID, Rule: c.rule, Detail: c.detail})
	}

	var out []watchlist.PersonAlert
	for i := range all {
		if find(i) != i {
			continue
		}
		group := members[i]
		sort.Slice(group, func(x, y int) bool {
			a, b := all[group[x]], all[group[y]]
			if listRank(a.list) != listRank(b.list) {
				return listRank(a.list) < listRank(b.list)
			}
			return a.Person.ID < b.Person.ID
		})
		p := clonePerson(&all[group[0]].Person)
		for _, j := range group[1:] {
			other := &all[j].Person
			mergeInto(&p, other)
			if !slices.Contains(p.CrossRefs, other.ID) {
				p.CrossRefs = append(p.CrossRefs, other.ID)
			}
			for _, x := range other.CrossRefs {
				if x != p.ID && !slices.Contains(p.CrossRefs, x) {
					p.CrossRefs = append(p.CrossRefs, x)
				}
			}
			p.Source = joinSources(p.Source, other.Source)
		}
		slices.Sort(p.CrossRefs)
		watchlist.FillMRZ(&p)
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	sort.Slice(links, func(i, j int) bool { return links[i].A+links[i].B < links[j].A+links[j].B })
	sort.Slice(amb, func(i, j int) bool { return amb[i].ID < amb[j].ID })
	return out, links, amb
}

func joinSources(a, b string) string {
	parts := strings.Split(a, "+")
	if !slices.Contains(parts, b) {
		parts = append(parts, b)
	}
	return strings.Join(parts, "+")
}

// clonePerson deep-copies the slices a merge appends to.
func clonePerson(p *watchlist.PersonAlert) watchlist.PersonAlert {
	c := *p
	c.Aliases = slices.Clone(p.Aliases)
	c.Births = slices.Clone(p.Births)
	c.Nationalities = slices.Clone(p.Nationalities)
	c.BirthPlaces = slices.Clone(p.BirthPlaces)
	c.Documents = slices.Clone(p.Documents)
	c.Lists = slices.Clone(p.Lists)
	c.CrossRefs = slices.Clone(p.CrossRefs)
	return c
}

// candidatePairs blocks the comparison: entries of different lists that
// share an OFAC number, a document number or a name token of at least 4
// letters.
func candidatePairs(all []*rEntry) [][2]int {
	index := map[string][]int{}
	for _, e := range all {
		seen := map[string]bool{}
		add := func(k string) {
			if !seen[k] {
				seen[k] = true
				index[k] = append(index[k], e.idx)
			}
		}
		if e.OFAC != "" {
			add("ofac:" + e.OFAC)
		}
		for n := range e.docs {
			add("doc:" + n)
		}
		for _, n := range e.names {
			for _, t := range append(match.NameTokens(n.Surname), tokensOf(n.GivenNames)...) {
				if len(t) >= 4 {
					add("tok:" + t)
				}
			}
		}
	}
	pairs := map[[2]int]bool{}
	for _, ids := range index {
		if len(ids) > 200 {
			continue // a token on hundreds of entries (MOHAMMAD) blocks nothing
		}
		for x := 0; x < len(ids); x++ {
			for y := x + 1; y < len(ids); y++ {
				a, b := ids[x], ids[y]
				if all[a].list == all[b].list {
					continue
				}
				if a > b {
					a, b = b, a
				}
				pairs[[2]int{a, b}] = true
			}
		}
	}
	out := make([][2]int, 0, len(pairs))
	for p := range pairs {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i][0] != out[j][0] {
			return out[i][0] < out[j][0]
		}
		return out[i][1] < out[j][1]
	})
	return out
}

func tokensOf(given []string) []string {
	var out []string
	for _, g := range given {
		out = append(out, match.NameTokens(g)...)
	}
	return out
}

// linkRule decides whether two entries of different lists are one person.
func linkRule(a, b *rEntry) (rule, detail string) {
	if a.OFAC != "" && a.OFAC == b.OFAC {
		return RuleOFACNumber, "OFAC entity number " + a.OFAC
	}
	// Vetoes.
	if a.Person.Sex != "" && b.Person.Sex != "" && a.Person.Sex != b.Person.Sex {
		return "", ""
	}
	agree, allConflict := match.DatesAgree(a.births, b.births)
	if allConflict {
		return "", ""
	}
	natShared, bothNats := false, len(a.nats) > 0 && len(b.nats) > 0
	for _, n := range a.nats {
		natShared = natShared || slices.Contains(b.nats, n)
	}
	nameScore, nameEv := bestNames(a, b)
	for n, st := range a.docs {
		if st2, ok := b.docs[n]; ok && (st == st2 || st == "" || st2 == "") && nameScore >= 0.8 {
			return RuleDocument, fmt.Sprintf("shared identity document, name similarity %.2f", nameScore)
		}
	}
	if bothNats && !natShared {
		return "", ""
	}
	if nameScore < 0.9 || nameEv < 1.0 {
		return "", ""
	}
	switch agree {
	case match.AgreeExact, match.AgreeYearMonth:
		return RuleNameAndBirth, fmt.Sprintf("name similarity %.2f, date of birth agrees (%s)", nameScore, agree)
	case match.AgreeYear, match.AgreeRange, match.AgreeApproximate:
		switch {
		case natShared:
			return RuleNameAndBirth, fmt.Sprintf("name similarity %.2f, birth year agrees (%s) and nationality shared", nameScore, agree)
		case nameEv >= 2.5:
			return RuleNameAndBirth, fmt.Sprintf("name similarity %.2f with evidence %.1f (several rare names), birth year agrees (%s)", nameScore, nameEv, agree)
		}
	}
	return "", ""
}

// bestNames is the best name agreement between two entries' strong names.
func bestNames(a, b *rEntry) (score, evidence float64) {
	cfg := match.DefaultConfig()
	for _, x := range a.names {
		for _, y := range b.names {
			s, e := match.NameSimilarity(x, y, cfg)
			if s > score || (s == score && e > evidence) {
				score, evidence = s, e
			}
		}
	}
	return score, evidence
}
