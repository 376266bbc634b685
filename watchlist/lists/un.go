package lists

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// The UN Security Council Consolidated List (XML, https://scsanctions.un.org):
// CONSOLIDATED_LIST/INDIVIDUALS/INDIVIDUAL elements; entities are skipped.

type unValues struct {
	Values []string `xml:"VALUE"`
}

type unIndividual struct {
	DataID     string   `xml:"DATAID"`
	First      string   `xml:"FIRST_NAME"`
	Second     string   `xml:"SECOND_NAME"`
	Third      string   `xml:"THIRD_NAME"`
	Fourth     string   `xml:"FOURTH_NAME"`
	ListType   string   `xml:"UN_LIST_TYPE"`
	Reference  string   `xml:"REFERENCE_NUMBER"`
	ListedOn   string   `xml:"LISTED_ON"`
	Gender     string   `xml:"GENDER"`
	Original   string   `xml:"NAME_ORIGINAL_SCRIPT"`
	Nationals  unValues `xml:"NATIONALITY"`
	LastUpdate unValues `xml:"LAST_DAY_UPDATED"`
	Aliases    []struct {
		Quality string `xml:"QUALITY"`
		Name    string `xml:"ALIAS_NAME"`
	} `xml:"INDIVIDUAL_ALIAS"`
	Births []struct {
		Type string `xml:"TYPE_OF_DATE"`
		Date string `xml:"DATE"`
		Year string `xml:"YEAR"`
		From string `xml:"FROM_YEAR"`
		To   string `xml:"TO_YEAR"`
		Note string `xml:"NOTE"`
	} `xml:"INDIVIDUAL_DATE_OF_BIRTH"`
	Places []struct {
		City    string `xml:"CITY"`
		State   string `xml:"STATE_PROVINCE"`
		Country string `xml:"COUNTRY"`
	} `xml:"INDIVIDUAL_PLACE_OF_BIRTH"`
	Documents []struct {
		Type     string `xml:"TYPE_OF_DOCUMENT"`
		Type2    string `xml:"TYPE_OF_DOCUMENT2"`
		Number   string `xml:"NUMBER"`
		Issuing  string `xml:"ISSUING_COUNTRY"`
		IssuedIn string `xml:"COUNTRY_OF_ISSUE"`
		Note     string `xml:"NOTE"`
	} `xml:"INDIVIDUAL_DOCUMENT"`
}

// ParseUN reads the UN Consolidated List. Entities are counted in
// Skipped; each individual becomes an Entry with id "UN-" + reference.
func ParseUN(r io.Reader, opts Options) (*Parsed, error) {
	opts = opts.withDefaults()
	out := newParsed("UN")
	lr := &limitReader{r: r, n: opts.MaxBytes}
	d := xml.NewDecoder(lr)
	d.Strict = true
	seenRoot := false
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if lr.exceeded {
				return nil, fmt.Errorf("%w: UN list larger than %d bytes", ErrBadList, opts.MaxBytes)
			}
			return nil, fmt.Errorf("%w: UN list: %v", ErrBadList, err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch se.Name.Local {
		case "CONSOLIDATED_LIST":
			seenRoot = true
			for _, a := range se.Attr {
				if a.Name.Local == "dateGenerated" && len(a.Value) >= 10 {
					out.Version = a.Value[:10]
				}
			}
		case "ENTITY":
			out.Skipped++
			if err := d.Skip(); err != nil {
				return nil, fmt.Errorf("%w: UN list: %v", ErrBadList, err)
			}
		case "INDIVIDUAL":
			var ind unIndividual
			if err := d.DecodeElement(&ind, &se); err != nil {
				return nil, fmt.Errorf("%w: UN list: individual %d: %v", ErrBadList, len(out.Entries)+1, err)
			}
			if e := unEntry(&ind, out, opts); e != nil {
				e.Order = len(out.Entries)
				out.Entries = append(out.Entries, e)
			}
		}
	}
	if !seenRoot {
		return nil, fmt.Errorf("%w: not a UN consolidated list (no CONSOLIDATED_LIST element)", ErrBadList)
	}
	return out, nil
}

var reHijri = regexp.MustCompile(`(?i)(\d{3,4})\s*\(hijri`)

var unMonthYear = regexp.MustCompile(`(?i)\b([a-z]{3,9})\.?\s+(\d{4})\b`)

func unEntry(ind *unIndividual, out *Parsed, opts Options) *Entry {
	ref := strings.TrimSpace(ind.Reference)
	if ref == "" {
		out.drop("UN individual without a reference number")
		return nil
	}
	parts := []string{}
	for _, s := range []string{ind.First, ind.Second, ind.Third, ind.Fourth} {
		if s = cleanName(s); s != "" {
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 {
		out.drop("UN individual without a name")
		return nil
	}
	var name watchlist.Name
	switch {
	case len(parts) == 1:
		name.Surname = parts[0]
	case strings.EqualFold(strings.TrimSpace(ind.ListType), "DPRK") || strings.HasPrefix(ref, "KPi"):
		// Korean names are listed family name first.
		name.Surname, name.GivenNames = parts[0], strings.Join(parts[1:], " ")
	default:
		name.Surname, name.GivenNames = parts[len(parts)-1], strings.Join(parts[:len(parts)-1], " ")
	}
	p := watchlist.PersonAlert{ID: "UN-" + ref, Name: name, Category: opts.Category, Action: opts.Action, Source: "UN"}
	for _, a := range ind.Aliases {
		n := splitNatural(a.Name)
		if n.Surname == "" {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(a.Quality)) {
		case "low":
			n.Quality = watchlist.QualityWeak
		default:
			n.Quality = watchlist.QualityStrong
		}
		addName(&p, n)
	}
	if o := strings.TrimSpace(ind.Original); o != "" {
		addName(&p, originalName(o))
	}
	switch strings.ToLower(strings.TrimSpace(ind.Gender)) {
	case "male":
		p.Sex = "M"
	case "female":
		p.Sex = "F"
	}
	for _, n := range ind.Nationals.Values {
		if c, ok := out.country("nationality", n); ok {
			addNationality(&p, c)
		}
	}
	for _, b := range ind.Births {
		bd, ok := unBirth(b.Type, b.Date, b.Year, b.From, b.To, b.Note, opts.ApproxYears)
		switch {
		case ok:
			addBirth(&p, bd)
		case strings.TrimSpace(b.Date+b.Year+b.From+b.To+b.Note) != "":
			out.drop("UN date of birth not understood")
		}
	}
	for _, pl := range ind.Places {
		place := watchlist.Place{City: strings.TrimSpace(pl.City), Region: strings.TrimSpace(pl.State)}
		if c, ok := out.country("place_of_birth", pl.Country); ok {
			place.Country = c
		} else if strings.TrimSpace(pl.Country) != "" {
			place.Text = strings.TrimSpace(pl.Country)
		}
		if place != (watchlist.Place{}) {
			p.BirthPlaces = append(p.BirthPlaces, place)
		}
	}
	for _, d := range ind.Documents {
		num := strings.TrimSpace(d.Number)
		if num == "" || watchlist.NormalizeNumber(num) == "" {
			continue
		}
		typ, ok := docType(d.Type + " " + d.Type2)
		if !ok {
			out.drop("UN document of another kind")
			continue
		}
		doc := watchlist.IdentityDocument{Type: typ, Number: num, Note: oneLine(d.Note)}
		for _, c := range []string{d.Issuing, d.IssuedIn} {
			if code, ok := out.country("document_issuer", c); ok {
				doc.IssuingState = code
				break
			}
		}
		p.Documents = append(p.Documents, doc)
	}
	inferIssuer(&p)
	p.Lists = []watchlist.ListReference{{List: "UN", Programme: strings.TrimSpace(ind.ListType), Reference: ref,
		ListedOn: latestDate(ind.ListedOn), Updated: latestDate(append(ind.LastUpdate.Values, ind.ListedOn)...)}}
	watchlist.FillMRZ(&p)
	return &Entry{Person: p}
}

// unBirth reads one INDIVIDUAL_DATE_OF_BIRTH.
func unBirth(typ, date, year, from, to, note string, approx int) (watchlist.BirthDate, bool) {
	typ = strings.ToUpper(strings.TrimSpace(typ))
	date, year, note = strings.TrimSpace(date), strings.TrimSpace(year), strings.TrimSpace(note)
	switch {
	case typ == "BETWEEN" && from != "" && to != "":
		return parseListedDate(strings.TrimSpace(from)+" to "+strings.TrimSpace(to), approx)
	case typ == "APPROXIMATELY" && year != "":
		return parseListedDate("circa "+year, approx)
	case date != "":
		// "2001-01-01T00:00:00" forms are cut to the date.
		if len(date) > 10 {
			date = date[:10]
		}
		return parseListedDate(date, approx)
	case year != "":
		if m := unMonthYear.FindStringSubmatch(note + " " + year); m != nil {
			if b, ok := parseListedDate(m[1]+" "+m[2], approx); ok {
				return b, true // "Sep." with YEAR 1958: September 1958
			}
		}
		if _, err := strconv.Atoi(year); err == nil && typ == "APPROXIMATELY" {
			return parseListedDate("circa "+year, approx)
		}
		return parseListedDate(year, approx)
	case note != "" && reHijri.MatchString(note):
		// "24/06/1402 (Hijri Calendar)": the Hijri year is about 0.97
		// solar years long and began in 622; the conversion is good to a
		// year, so the date becomes an approximate year.
		m := reHijri.FindStringSubmatch(note)
		hy, _ := strconv.Atoi(m[1])
		gy := 622 + int(float64(hy)*0.970229+0.5)
		return parseListedDate("circa "+strconv.Itoa(gy), 1)
	case note != "":
		// Dates written only in the note: "Nov. 1973", "Between Aug. and
		// Sep. 1977" (the year is what is certain).
		if b, ok := parseListedDate(note, approx); ok {
			return b, true
		}
		if m := unMonthYear.FindStringSubmatch(note); m != nil {
			if _, known := months[strings.ToLower(m[1])]; known && !strings.Contains(strings.ToLower(note), "between") {
				return parseListedDate(m[1]+" "+m[2], approx)
			}
			return parseListedDate(m[2], approx)
		}
	}
	return watchlist.BirthDate{}, false
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// limitReader reads at most n bytes and remembers whether there was more.
type limitReader struct {
	r        io.Reader
	n        int64
	exceeded bool
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		var one [1]byte
		if k, _ := l.r.Read(one[:]); k > 0 {
			l.exceeded = true
			return 0, errTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	k, err := l.r.Read(p)
	l.n -= int64(k)
	return k, err
}

var errTooLarge = errors.New("input too large")

// originalName splits a name in its original script like the list's Latin
// name: Arabic names end with the family name, Russian names (family
// name, given name, patronymic) begin with it.
func originalName(o string) watchlist.Name {
	n := watchlist.Name{Quality: watchlist.QualityStrong, Script: scriptOf(o)}
	w := strings.Fields(o)
	switch {
	case len(w) < 2:
		n.Surname = o
	case n.Script == "Cyrl":
		n.Surname, n.GivenNames = w[0], strings.Join(w[1:], " ")
	default:
		i := len(w) - 1
		// "عبد الله" and article-led tribal names stay whole.
		n.Surname, n.GivenNames = w[i], strings.Join(w[:i], " ")
	}
	return n
}
