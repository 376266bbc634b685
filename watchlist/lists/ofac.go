package lists

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"

	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// OFAC publishes the SDN list as sdn.csv, alt.csv, add.csv and
// sdn_comments.csv, and the Consolidated (non-SDN) list in the same layout
// as cons_prim.csv, cons_alt.csv, cons_add.csv and cons_comments.csv. No
// header; "-0-" means empty; the files may be Windows-1252 and end with a
// DOS end-of-file byte.
//
//	prim:     ent_num, name, type, programs, title, call_sign, vess_type,
//	          tonnage, GRT, vess_flag, vess_owner, remarks
//	alt:      ent_num, alt_num, alt_type (aka, fka, nka), alt_name, remarks
//	comments: ent_num, continuation of the remarks (they are cut at a
//	          field length and continue here)

// OFACFiles names the files of one OFAC list.
type OFACFiles struct {
	List     string // OFAC-SDN or OFAC-CONS
	Prim     io.Reader
	Alt      io.Reader // optional
	Comments io.Reader // optional
}

// OpenOFACDir finds an OFAC list in dir: the SDN files or the
// Consolidated files (the SDN list when both are there). The returned
// closer closes the files.
func OpenOFACDir(dir string) (OFACFiles, io.Closer, error) {
	sets := []struct{ list, prim, alt, comments string }{
		{"OFAC-SDN", "sdn.csv", "alt.csv", "sdn_comments.csv"},
		{"OFAC-CONS", "cons_prim.csv", "cons_alt.csv", "cons_comments.csv"},
	}
	for _, s := range sets {
		pf, err := os.Open(filepath.Join(dir, s.prim))
		if err != nil {
			continue
		}
		files := closers{pf}
		f := OFACFiles{List: s.list, Prim: pf}
		if af, err := os.Open(filepath.Join(dir, s.alt)); err == nil {
			files, f.Alt = append(files, af), af
		}
		if cf, err := os.Open(filepath.Join(dir, s.comments)); err == nil {
			files, f.Comments = append(files, cf), cf
		}
		return f, files, nil
	}
	return OFACFiles{}, nil, fmt.Errorf("%w: %s holds neither sdn.csv nor cons_prim.csv", ErrBadSpec, dir)
}

type closers []io.Closer

func (c closers) Close() error {
	var errs []error
	for _, x := range c {
		errs = append(errs, x.Close())
	}
	return errors.Join(errs...)
}

// ParseOFAC reads one OFAC list. Individuals become entries with id
// "OFAC-" + entity number; other types are counted in Skipped.
func ParseOFAC(f OFACFiles, opts Options) (*Parsed, error) {
	opts = opts.withDefaults()
	if f.List == "" {
		f.List = "OFAC-SDN"
	}
	out := newParsed(f.List)
	prim, err := readOFACCSV(f.Prim, opts.MaxBytes, 12, "primary")
	if err != nil {
		return nil, err
	}
	comments := map[string]string{}
	if f.Comments != nil {
		rows, err := readOFACCSV(f.Comments, opts.MaxBytes, 2, "comments")
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			comments[r[0]] += r[1]
		}
	}
	aliases := map[string][][]string{}
	if f.Alt != nil {
		rows, err := readOFACCSV(f.Alt, opts.MaxBytes, 4, "alt")
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			aliases[r[0]] = append(aliases[r[0]], r)
		}
	}
	for _, r := range prim {
		ent, typ := r[0], strings.ToLower(r[2])
		if typ != "individual" {
			out.Skipped++
			continue
		}
		name := splitComma(r[1])
		if name.Surname == "" {
			out.drop("OFAC individual without a name")
			continue
		}
		p := watchlist.PersonAlert{ID: "OFAC-" + ent, Name: name, Category: opts.Category, Action: opts.Action, Source: "OFAC"}
		for _, a := range aliases[ent] {
			n := splitComma(a[3])
			n.Quality = watchlist.QualityStrong
			addName(&p, n)
		}
		parseRemarks(&p, r[11]+comments[ent], out, opts)
		inferIssuer(&p)
		p.Lists = []watchlist.ListReference{{List: f.List, Programme: strings.Join(programs(r[3]), "; "), Reference: ent}}
		watchlist.FillMRZ(&p)
		out.Entries = append(out.Entries, &Entry{Person: p, OFAC: ent, Order: len(out.Entries)})
	}
	return out, nil
}

// programs splits OFAC's "SDGT] [NS-PLC" into its programmes.
func programs(s string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == '[' || r == ']' }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// readOFACCSV reads an OFAC CSV: at least minFields fields per record,
// "-0-" as empty, Windows-1252 decoded, the DOS EOF byte ignored. Records
// whose first field is not an entity number are an error.
func readOFACCSV(r io.Reader, maxBytes int64, minFields int, what string) ([][]string, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: OFAC %s file: %v", ErrBadList, what, err)
	}
	if int64(len(b)) > maxBytes {
		return nil, fmt.Errorf("%w: OFAC %s file larger than %d bytes", ErrBadList, what, maxBytes)
	}
	b = bytes.TrimRight(b, "\x1a\r\n\t ")
	cr := csv.NewReader(bytes.NewReader(b))
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = false
	var out [][]string
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return nil, fmt.Errorf("%w: OFAC %s file line %d: %v", ErrBadList, what, line, err)
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if len(rec) < minFields {
			return nil, fmt.Errorf("%w: OFAC %s file line %d: %d fields, want at least %d", ErrBadList, what, line, len(rec), minFields)
		}
		for i := range rec {
			rec[i] = decodeText(rec[i])
			if strings.TrimSpace(rec[i]) == "-0-" {
				rec[i] = ""
			}
		}
		if !isEntNum(rec[0]) {
			return nil, fmt.Errorf("%w: OFAC %s file line %d: %q is not an entity number", ErrBadList, what, line, rec[0])
		}
		out = append(out, rec)
	}
	return out, nil
}

func isEntNum(s string) bool {
	if s == "" || len(s) > 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// decodeText returns s as UTF-8: as is when valid, else read as
// Windows-1252 (OFAC's and the CSL's stray bytes).
func decodeText(s string) string {
	if utf8.ValidString(s) {
		return strings.TrimSpace(s)
	}
	d, err := charmap.Windows1252.NewDecoder().String(s)
	if err != nil {
		return strings.TrimSpace(strings.ToValidUTF8(s, " "))
	}
	return strings.TrimSpace(d)
}

// The remarks are "; "-separated clauses. The ones read:
//
//	DOB 12 Feb 1961 | alt. DOB 1959 | DOB circa 1971 | DOB 1958 to 1963
//	POB Port-au-Prince, Haiti | alt. POB …
//	nationality Haiti | alt. nationality … | citizen … | alt. citizen …
//	Gender Male | Gender Female
//	Passport A123456 (Iran) [expires …] | alt. Passport … | Diplomatic Passport …
//	National ID No. 0032768386 (Haiti) | Identification Number … | Cedula No. …
//	a.k.a. 'Sweet Micky' | f.k.a. '…'   (weak aliases: OFAC quotes them)
var (
	reClauseKey = regexp.MustCompile(`^(?:alt\.\s+)?(DOB|POB|nationality|citizen|Gender)\s+(.+)$`)
	reIDClause  = regexp.MustCompile(`^(?:alt\.\s+)?((?:Diplomatic |Official |Service )?Passport|National ID No\.|National Identification Number|Identification Number|Cedula No\.|Personal ID Card|Identity Card|ID Card|National ID Card)\s*(?:No\.?|Number)?\s*([A-Za-z0-9][A-Za-z0-9 ./-]*?)\s*(?:\(([^)]*)\))?(?:\s+(?:expires|issued|valid).*)?$`)
	reAKA       = regexp.MustCompile(`(?i)^(?:a\.k\.a\.|f\.k\.a\.|n\.k\.a\.)\s*[‘'"](.+?)[’'"]?$`)
)

func parseRemarks(p *watchlist.PersonAlert, remarks string, out *Parsed, opts Options) {
	remarks = strings.TrimSpace(remarks)
	remarks = strings.TrimSuffix(remarks, ".")
	for _, clause := range splitClauses(remarks) {
		c := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(clause), "."))
		if c == "" {
			continue
		}
		if m := reAKA.FindStringSubmatch(c); m != nil {
			n := splitComma(m[1])
			n.Quality = watchlist.QualityWeak
			addName(p, n)
			continue
		}
		if m := reIDClause.FindStringSubmatch(c); m != nil {
			typ, _ := docType(m[1])
			doc := watchlist.IdentityDocument{Type: typ, Number: strings.TrimSpace(m[2])}
			if m[3] != "" {
				if code, ok := out.country("document_issuer", m[3]); ok {
					doc.IssuingState = code
				}
			}
			if watchlist.NormalizeNumber(doc.Number) != "" {
				p.Documents = append(p.Documents, doc)
			}
			continue
		}
		m := reClauseKey.FindStringSubmatch(c)
		if m == nil {
			continue
		}
		val := strings.TrimSpace(m[2])
		switch m[1] {
		case "DOB":
			if b, ok := parseListedDate(val, opts.ApproxYears); ok {
				addBirth(p, b)
			} else {
				out.drop("OFAC date of birth not understood")
			}
		case "POB":
			// Free text, often a town without a country ("Khan Younis"):
			// a country is taken when the last part names one, and nothing
			// is reported when it does not.
			pl := watchlist.Place{Text: val}
			if code, ok := countryIn(val); ok {
				pl.Country = code
			}
			p.BirthPlaces = append(p.BirthPlaces, pl)
		case "nationality", "citizen":
			if code, ok := out.country("nationality", val); ok {
				addNationality(p, code)
			}
		case "Gender":
			switch strings.ToLower(val) {
			case "male":
				p.Sex = "M"
			case "female":
				p.Sex = "F"
			}
		}
	}
}

// splitClauses splits remarks at ';' outside parentheses.
func splitClauses(s string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			if depth > 0 {
				depth--
			}
		case ';':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}
