package lists

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/checkpoint-edge/checkpoint/watchlist"
	"github.com/checkpoint-edge/checkpoint/watchlist/match"
)

// The US Consolidated Screening List (https://www.trade.gov/consolidated-
// screening-list) in its CSV form: a header row, one row per entry, several
// lists in one file (column "source"). Treasury's lists (SDN, SSI, PLC,
// CAPTA…) carry OFAC's entity number and "SURNAME, Given" names; the
// Commerce and State lists (DPL, Entity List, Unverified List, ITAR
// debarred, nonproliferation) write names in natural order and do not say
// whether an entry is a person, so persons are told from entities by the
// name (see looksLikePerson).

var cslRequired = []string{"source", "name"}

// ParseCSL reads the CSL. Persons become entries with id "CSL-" + the
// list's abbreviation + "-" + the entity number (Treasury lists) or a
// hash of the name (others); entries of one list repeated for several
// addresses are one person.
func ParseCSL(r io.Reader, opts Options) (*Parsed, error) {
	opts = opts.withDefaults()
	out := newParsed("CSL")
	b, err := io.ReadAll(io.LimitReader(r, opts.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: CSL: %v", ErrBadList, err)
	}
	if int64(len(b)) > opts.MaxBytes {
		return nil, fmt.Errorf("%w: CSL larger than %d bytes", ErrBadList, opts.MaxBytes)
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	cr := csv.NewReader(bytes.NewReader(b))
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%w: CSL header: %v", ErrBadList, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	for _, req := range cslRequired {
		if _, ok := col[req]; !ok {
			return nil, fmt.Errorf("%w: CSL header lacks column %q", ErrBadList, req)
		}
	}
	byID := map[string]*Entry{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return nil, fmt.Errorf("%w: CSL line %d: %v", ErrBadList, line, err)
		}
		get := func(c string) string {
			if i, ok := col[c]; ok && i < len(rec) {
				return decodeText(rec[i])
			}
			return ""
		}
		source, typ, rawName := get("source"), strings.ToLower(get("type")), get("name")
		treasury := strings.Contains(source, "Treasury")
		switch {
		case typ == "individual":
		case typ == "" && !treasury && looksLikePerson(rawName):
		default:
			out.Skipped++
			continue
		}
		split := splitNatural
		if treasury {
			split = splitComma
		}
		name := split(rawName)
		if name.Surname == "" {
			out.drop("CSL person without a name")
			continue
		}
		abbr := cslAbbrev(source)
		ent := strings.TrimSpace(get("entity_number"))
		var id string
		if treasury && isEntNum(ent) {
			id = "CSL-" + abbr + "-" + ent
		} else {
			h := sha256.Sum256([]byte(source + "\x00" + nameKey(name)))
			id = "CSL-" + abbr + "-" + hex.EncodeToString(h[:5])
		}
		p := watchlist.PersonAlert{ID: id, Name: name, Category: opts.Category, Action: opts.Action, Source: "CSL"}
		for _, a := range splitList(get("alt_names")) {
			// The CSL does not grade its alternative names: they stay
			// ungraded (matched as strong) and never upgrade a name another
			// list graded weak.
			addName(&p, split(a))
		}
		for _, d := range splitList(get("dates_of_birth")) {
			if bd, ok := parseListedDate(d, opts.ApproxYears); ok {
				addBirth(&p, bd)
			} else {
				out.drop("CSL date of birth not understood")
			}
		}
		for _, c := range append(splitList(get("nationalities")), splitList(get("citizenships"))...) {
			if code, ok := out.country("nationality", c); ok {
				addNationality(&p, code)
			}
		}
		for _, pl := range splitList(get("places_of_birth")) {
			place := watchlist.Place{Text: pl}
			if code, ok := countryIn(pl); ok {
				place.Country = code
			}
			p.BirthPlaces = append(p.BirthPlaces, place)
		}
		for _, id := range splitList(get("ids")) {
			if doc, ok := cslDocument(id, out); ok {
				p.Documents = append(p.Documents, doc)
			}
		}
		inferIssuer(&p)
		ref := watchlist.ListReference{List: "CSL-" + abbr, Programme: strings.Join(splitList(get("programs")), "; "),
			Reference: ent, ListedOn: latestDate(get("start_date"))}
		if ref.Reference == "" {
			ref.Reference = strings.TrimPrefix(id, "CSL-"+abbr+"-")
		}
		p.Lists = []watchlist.ListReference{ref}
		if prev, dup := byID[id]; dup {
			// The same listing repeated for another address: keep one
			// person with everything both rows say.
			mergeInto(&prev.Person, &p)
			continue
		}
		e := &Entry{Person: p, Order: len(out.Entries)}
		if treasury && isEntNum(ent) {
			e.OFAC = ent
			e.Person.CrossRefs = []string{"OFAC-" + ent}
		}
		byID[id] = e
		out.Entries = append(out.Entries, e)
	}
	for _, e := range out.Entries {
		watchlist.FillMRZ(&e.Person)
	}
	return out, nil
}

// splitList splits a CSL multi-value field ("1974; 1975").
func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ";") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

var reAbbrev = regexp.MustCompile(`\(([A-Z]{2,6})\)`)

// cslAbbrev is the list's abbreviation from the source column
// ("Denied Persons List (DPL) - Bureau of Industry and Security" → DPL).
func cslAbbrev(source string) string {
	if m := reAbbrev.FindStringSubmatch(source); m != nil {
		return m[1]
	}
	var b strings.Builder
	for _, w := range strings.Fields(source) {
		if c := w[0]; c >= 'A' && c <= 'Z' && b.Len() < 6 {
			b.WriteByte(c)
		}
	}
	if b.Len() == 0 {
		return "X"
	}
	return b.String()
}

// cslDocument reads one "ids" value: "NUMBER, TYPE" or "CC, NUMBER,
// TYPE"; only passports and identity documents are kept.
func cslDocument(v string, out *Parsed) (watchlist.IdentityDocument, bool) {
	parts := strings.Split(v, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	var country string
	if len(parts) >= 3 && len(parts[0]) == 2 {
		country, parts = parts[0], parts[1:]
	}
	if len(parts) < 2 {
		return watchlist.IdentityDocument{}, false
	}
	typ, ok := docType(parts[1])
	if !ok || watchlist.NormalizeNumber(parts[0]) == "" {
		return watchlist.IdentityDocument{}, false
	}
	doc := watchlist.IdentityDocument{Type: typ, Number: parts[0]}
	if country != "" {
		if code, ok := out.country("document_issuer", country); ok {
			doc.IssuingState = code
		}
	}
	return doc, true
}

// entityWords mark a CSL name as an organisation.
var entityWords = map[string]bool{
	"LTD": true, "LIMITED": true, "INC": true, "LLC": true, "CO": true, "CORP": true, "CORPORATION": true, "COMPANY": true,
	"GMBH": true, "AG": true, "SA": true, "SRL": true, "BV": true, "NV": true, "PLC": true, "LLP": true, "JSC": true,
	"OOO": true, "OAO": true, "ZAO": true, "PAO": true, "GROUP": true, "INSTITUTE": true, "UNIVERSITY": true,
	"AIRLINES": true, "AIRWAYS": true, "AVIATION": true, "AEROSPACE": true, "TRADING": true, "TRADE": true,
	"INTERNATIONAL": true, "LOGISTICS": true, "TECHNIK": true, "TECHNOLOGY": true, "TECHNOLOGIES": true,
	"ENGINEERING": true, "SHIPPING": true, "CARGO": true, "CONSULTING": true, "FINANCE": true, "INDUSTRIAL": true,
	"INDUSTRIES": true, "INDUSTRY": true, "ELECTRONICS": true, "SERVICES": true, "SYSTEMS": true, "CENTER": true,
	"CENTRE": true, "BANK": true, "ENTERPRISE": true, "ENTERPRISES": true, "HOLDING": true, "HOLDINGS": true,
	"REGIMENT": true, "MINISTRY": true, "DEPARTMENT": true, "AGENCY": true, "BUREAU": true, "ACADEMY": true,
	"LABORATORY": true, "FACTORY": true, "PLANT": true, "SHIP": true, "VESSEL": true, "BRIGADE": true, "ARMY": true,
	"CONTRACTING": true, "PROFILES": true, "SPEDITION": true, "SOLUTIONS": true, "AND": true, "OF": true, "THE": true,
	"FOR": true, "DISTRICT": true, "INVESTMENT": true, "DEVELOPMENT": true, "RESEARCH": true, "SCIENTIFIC": true,
	"EXPORT": true, "IMPORT": true, "MARINE": true, "MARITIME": true, "PETROLEUM": true, "ENERGY": true, "OIL": true,
}

// looksLikePerson tells a person's name from an organisation's in the
// CSL's untyped lists: two to five words, no digits, no '&', none of the
// words organisations use.
func looksLikePerson(name string) bool {
	if strings.ContainsAny(name, "0123456789&@/") {
		return false
	}
	n := splitNatural(name)
	toks := match.NameTokens(n.Surname + " " + n.GivenNames)
	if len(toks) < 2 || len(toks) > 6 {
		return false
	}
	for _, w := range strings.FieldsFunc(strings.ToUpper(name), func(r rune) bool { return r == ' ' || r == ',' || r == '.' || r == '(' || r == ')' }) {
		if entityWords[w] {
			return false
		}
	}
	return true
}

// mergeInto adds what src says to dst (names, dates, nationalities,
// places, documents, references), without duplicates.
func mergeInto(dst, src *watchlist.PersonAlert) {
	addName(dst, src.Name)
	for _, a := range src.Aliases {
		addName(dst, a)
	}
	for _, b := range src.BirthDates() {
		addBirth(dst, b)
	}
	for _, n := range src.AllNationalities() {
		addNationality(dst, n)
	}
	for _, pl := range src.BirthPlaces {
		if !containsPlace(dst.BirthPlaces, pl) {
			dst.BirthPlaces = append(dst.BirthPlaces, pl)
		}
	}
	for _, d := range src.Documents {
		if !containsDoc(dst.Documents, d) {
			dst.Documents = append(dst.Documents, d)
		}
	}
	for _, l := range src.Lists {
		if !containsRef(dst.Lists, l) {
			dst.Lists = append(dst.Lists, l)
		}
	}
	if dst.Sex == "" {
		dst.Sex = src.Sex
	}
}

func containsPlace(ps []watchlist.Place, p watchlist.Place) bool {
	for _, x := range ps {
		if x == p {
			return true
		}
	}
	return false
}

func containsDoc(ds []watchlist.IdentityDocument, d watchlist.IdentityDocument) bool {
	for _, x := range ds {
		if watchlist.NormalizeNumber(x.Number) == watchlist.NormalizeNumber(d.Number) && (x.IssuingState == d.IssuingState || x.IssuingState == "" || d.IssuingState == "") {
			return true
		}
	}
	return false
}

func containsRef(rs []watchlist.ListReference, r watchlist.ListReference) bool {
	for _, x := range rs {
		if x.List == r.List && x.Reference == r.Reference {
			return true
		}
	}
	return false
}
