package lists

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// Spec names one list file to import: "un:FILE" (UN XML), "ofac:DIR" (a
// directory with OFAC's SDN or Consolidated CSV files) or "csl:FILE" (the
// Consolidated Screening List CSV).
type Spec struct {
	Kind string // un, ofac, csl
	Path string
}

// ParseSpec reads "KIND:PATH".
func ParseSpec(s string) (Spec, error) {
	kind, path, ok := strings.Cut(s, ":")
	kind = strings.ToLower(strings.TrimSpace(kind))
	if !ok || path == "" {
		return Spec{}, fmt.Errorf("%w: %q: want un:FILE, ofac:DIR or csl:FILE", ErrBadSpec, s)
	}
	switch kind {
	case "un", "ofac", "csl":
		return Spec{Kind: kind, Path: path}, nil
	}
	return Spec{}, fmt.Errorf("%w: %q: unknown list %q (want un, ofac or csl)", ErrBadSpec, s, kind)
}

// IsSpec reports whether s looks like a list spec rather than a plain
// watchlist file.
func IsSpec(s string) bool {
	kind, _, ok := strings.Cut(s, ":")
	switch strings.ToLower(kind) {
	case "un", "ofac", "csl":
		return ok
	}
	return false
}

// Parse imports one list.
func Parse(sp Spec, opts Options) (*Parsed, error) {
	switch sp.Kind {
	case "ofac":
		dir := sp.Path
		if st, err := os.Stat(dir); err == nil && !st.IsDir() {
			dir = filepath.Dir(dir)
		}
		files, c, err := OpenOFACDir(dir)
		if err != nil {
			return nil, err
		}
		defer c.Close()
		p, err := ParseOFAC(files, opts)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sp.Path, err)
		}
		return p, nil
	case "un", "csl":
		f, err := os.Open(sp.Path)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadSpec, err)
		}
		defer f.Close()
		var p *Parsed
		if sp.Kind == "un" {
			p, err = ParseUN(f, opts)
		} else {
			p, err = ParseCSL(f, opts)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sp.Path, err)
		}
		return p, nil
	}
	return nil, fmt.Errorf("%w: unknown list %q", ErrBadSpec, sp.Kind)
}

// ListReport is what one list gave.
type ListReport struct {
	List    string         `json:"list"`
	Source  string         `json:"source"`
	Version string         `json:"version,omitempty"`
	Persons int            `json:"persons"`
	Skipped int            `json:"skipped_non_persons"`
	Dropped map[string]int `json:"dropped,omitempty"`
}

// Report is the import report: per list, the persons after entity
// resolution, the links made and refused, and the country spellings that
// did not map. It holds list references and counts, no names.
type Report struct {
	Lists     []ListReport `json:"lists"`
	Persons   int          `json:"persons"`
	Documents int          `json:"document_alerts"`
	Links     []Link       `json:"links"`
	Ambiguous []Ambiguous  `json:"ambiguous,omitempty"`
	Unmapped  []Unmapped   `json:"unmapped_countries"`
}

// Snapshot is a built watchlist: persons after entity resolution and the
// document alerts of their own documents.
type Snapshot struct {
	Persons   []watchlist.PersonAlert
	Documents []watchlist.DocumentAlert
	Report    Report
}

// Build imports every list, resolves entities and builds the snapshot.
func Build(specs []Spec, opts Options) (*Snapshot, error) {
	if len(specs) == 0 {
		return nil, fmt.Errorf("%w: no list to import", ErrBadSpec)
	}
	var parsed []*Parsed
	var rep Report
	unmapped := unmappedSet{}
	for _, sp := range specs {
		p, err := Parse(sp, opts)
		if err != nil {
			return nil, err
		}
		for _, q := range parsed {
			if q.List == p.List {
				return nil, fmt.Errorf("%w: %s given twice", ErrBadSpec, p.List)
			}
		}
		parsed = append(parsed, p)
		rep.Lists = append(rep.Lists, ListReport{List: p.List, Source: sp.Kind + ":" + sp.Path, Version: p.Version,
			Persons: len(p.Entries), Skipped: p.Skipped, Dropped: p.Dropped})
		for k, n := range p.unmapped {
			unmapped[k] += n
		}
	}
	persons, links, amb := Resolve(parsed)
	s := &Snapshot{Persons: persons}
	for i := range s.Persons {
		s.Documents = append(s.Documents, watchlist.DocumentAlertsOf(&s.Persons[i])...)
	}
	sort.Slice(s.Documents, func(i, j int) bool { return s.Documents[i].ID < s.Documents[j].ID })
	rep.Persons, rep.Documents, rep.Links, rep.Ambiguous, rep.Unmapped = len(s.Persons), len(s.Documents), links, amb, unmapped.sorted()
	if rep.Links == nil {
		rep.Links = []Link{}
	}
	s.Report = rep
	return s, nil
}

// Changes is the snapshot as watchlist changes (persons, then documents),
// for ReplaceAll, a bundle or a delta.
func (s *Snapshot) Changes() *watchlist.SliceSource {
	cs := make([]watchlist.Change, 0, len(s.Persons)+len(s.Documents))
	for i := range s.Persons {
		p := &s.Persons[i]
		cs = append(cs, watchlist.Change{Op: watchlist.OpPut, Kind: watchlist.KindPerson, ID: p.ID, Person: p})
	}
	for i := range s.Documents {
		d := &s.Documents[i]
		cs = append(cs, watchlist.Change{Op: watchlist.OpPut, Kind: watchlist.KindDocument, ID: d.ID, Document: d})
	}
	return &watchlist.SliceSource{Changes: cs}
}

// WriteSummary prints the report for a technician (no names).
func (r *Report) WriteSummary(w io.Writer) {
	for _, l := range r.Lists {
		fmt.Fprintf(w, "%-10s %4d persons, %4d entities/vessels skipped", l.List, l.Persons, l.Skipped)
		if l.Version != "" {
			fmt.Fprintf(w, " (list of %s)", l.Version)
		}
		fmt.Fprintln(w)
		keys := make([]string, 0, len(l.Dropped))
		for k := range l.Dropped {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "           %d × %s\n", l.Dropped[k], k)
		}
	}
	fmt.Fprintf(w, "after entity resolution: %d persons, %d document alerts, %d links", r.Persons, r.Documents, len(r.Links))
	byRule := map[string]int{}
	for _, l := range r.Links {
		byRule[l.Rule]++
	}
	if len(byRule) > 0 {
		var parts []string
		for _, k := range []string{RuleOFACNumber, RuleDocument, RuleNameAndBirth} {
			if byRule[k] > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", byRule[k], k))
			}
		}
		fmt.Fprintf(w, " (%s)", strings.Join(parts, ", "))
	}
	fmt.Fprintln(w)
	for _, a := range r.Ambiguous {
		fmt.Fprintf(w, "not linked: %s with %s: %s\n", a.ID, strings.Join(a.Candidates, ", "), a.Reason)
	}
	if len(r.Unmapped) > 0 {
		fmt.Fprintf(w, "country spellings without an ICAO code (%d):\n", len(r.Unmapped))
		for _, u := range r.Unmapped {
			fmt.Fprintf(w, "  %-10s %-16s %q × %d\n", u.List, u.Field, u.Value, u.Count)
		}
	}
}
