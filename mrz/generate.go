package mrz

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Spec describes a document for Generate.
type Spec struct {
	Format         Format
	DocumentCode   string // default "P" (TD3), "V" (MRV), "I" (TD1/TD2)
	IssuingState   string
	Surname        string
	GivenNames     []string
	DocumentNumber string
	Nationality    string
	BirthDate      time.Time // zero: unknown ("<<<<<<")
	ExpiryDate     time.Time // zero: unknown ("<<<<<<")
	Sex            string    // "M", "F", "X" or "" (written '<')
	OptionalData   string
}

// Generate returns the MRZ lines for s with every check digit computed.
// Names are transliterated (ICAO 9303 Part 3) and truncated to fit; TD1 and
// TD2 document numbers longer than nine characters continue in the optional
// data as Part 5/6 describe.
func Generate(s Spec) ([]string, error) {
	lay := layoutFor(s.Format)
	if lay == nil {
		return nil, fmt.Errorf("%w: %q", ErrFormat, s.Format)
	}
	code := strings.ToUpper(s.DocumentCode)
	if code == "" {
		switch s.Format {
		case FormatTD3:
			code = "P"
		case FormatMRVA, FormatMRVB:
			code = "V"
		default:
			code = "I"
		}
	}
	if (s.Format == FormatMRVA || s.Format == FormatMRVB) != (code[0] == 'V') {
		return nil, fmt.Errorf("%w: document code %q does not match format %s", ErrInvalidValue, code, s.Format)
	}
	if len(code) > 2 || !onlyChars(code, false) {
		return nil, fmt.Errorf("%w: document code %q", ErrInvalidValue, code)
	}
	state, err := genCode("issuing state", s.IssuingState)
	if err != nil {
		return nil, err
	}
	nat, err := genCode("nationality", s.Nationality)
	if err != nil {
		return nil, err
	}
	num := strings.ToUpper(strings.ReplaceAll(s.DocumentNumber, " ", ""))
	if num == "" || !onlyChars(num, true) || strings.IndexByte(num, '<') >= 0 {
		return nil, fmt.Errorf("%w: document number must be A-Z and 0-9", ErrInvalidValue)
	}
	opt := strings.ToUpper(strings.ReplaceAll(s.OptionalData, " ", "<"))
	if !onlyChars(opt, true) {
		return nil, fmt.Errorf("%w: optional data must be A-Z, 0-9 and <", ErrInvalidValue)
	}
	sex := strings.ToUpper(s.Sex)
	switch sex {
	case "M", "F":
	case "", "X", "<":
		sex = "<"
	default:
		return nil, fmt.Errorf("%w: sex must be M, F or X", ErrInvalidValue)
	}
	birth, expiry := genDate(s.BirthDate), genDate(s.ExpiryDate)

	// Document number field, its check digit, and the optional data that
	// may carry the rest of a long number.
	var numField, numCheck string
	optLen := lay.fields[lay.numberIdx].n
	for _, f := range lay.fields {
		if f.name == FieldOptionalData {
			optLen = f.n
		}
	}
	if len(num) > 9 {
		if !lay.longNumber {
			return nil, fmt.Errorf("%w: document number longer than 9 characters needs TD1 or TD2", ErrFieldTooLong)
		}
		numField, numCheck = num[:9], "<"
		opt = num[9:] + string(CheckDigit(num)) + "<" + opt
	} else {
		numField, numCheck = pad(num, 9), string(CheckDigit(pad(num, 9)))
	}
	if len(trimFiller(opt)) > optLen {
		return nil, fmt.Errorf("%w: optional data (with any long-number continuation) longer than %d", ErrFieldTooLong, optLen)
	}
	opt = pad(trimFiller(opt), optLen)
	dates := birth + string(CheckDigit(birth)) + sex + expiry + string(CheckDigit(expiry))

	var lines []string
	switch s.Format {
	case FormatTD3, FormatMRVA, FormatTD2, FormatMRVB:
		nameLen := lay.width - 5
		name, _ := NameField(s.Surname, s.GivenNames, nameLen)
		l1 := pad(code, 2) + pad(state, 3) + name
		l2 := numField + numCheck + pad(nat, 3) + dates + opt
		if s.Format == FormatTD3 {
			// An unused personal number takes a filler check digit.
			if allFiller(opt) {
				l2 += "<"
			} else {
				l2 += string(CheckDigit(opt))
			}
		}
		lines = []string{l1, l2}
	case FormatTD1:
		name, _ := NameField(s.Surname, s.GivenNames, 30)
		l1 := pad(code, 2) + pad(state, 3) + numField + numCheck + opt
		l2 := dates + pad(nat, 3) + pad("", 11)
		lines = []string{l1, l2, name}
	}
	if len(lay.composite) > 0 {
		l := lines[lay.compLine]
		lines[lay.compLine] = l + string(checkSpans(lines, lay.composite))
	}
	return lines, nil
}

func pad(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return s + strings.Repeat("<", n-len(s))
}

func genCode(what, c string) (string, error) {
	c = strings.ToUpper(trimFiller(c))
	if c == "" || len(c) > 3 || !onlyChars(c, false) {
		return "", fmt.Errorf("%w: %s must be 1-3 letters", ErrInvalidValue, what)
	}
	return c, nil
}

func genDate(t time.Time) string {
	if t.IsZero() {
		return "<<<<<<"
	}
	return t.Format("060102")
}

// Random returns a synthetic Spec of format f for tests, demos and
// technicians' checks: a made-up person from the specimen state Utopia
// (UTO), born 18–80 years before now, with a document valid for several
// more years. Long document numbers are used now and then for TD1/TD2.
func Random(r *rand.Rand, f Format, now time.Time) Spec {
	surnames := []string{"ERIKSSON", "MÜLLER", "O'NEILL", "GARCÍA MÁRQUEZ", "NOVÁK", "ИВАНОВА", "PAPADOPOULOS", "VAN DER BERG", "NGUYEN", "SMITH-JONES"}
	given := []string{"ANNA", "MARIA", "JÜRGEN", "JOSÉ", "ØYVIND", "LUKÁŠ", "JEAN", "PETER", "ZOË", "ALEXANDER"}
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	s := Spec{
		Format:       f,
		IssuingState: "UTO",
		Nationality:  "UTO",
		Surname:      surnames[r.IntN(len(surnames))],
		BirthDate:    now.AddDate(-18-r.IntN(62), -r.IntN(12), -r.IntN(28)),
		ExpiryDate:   now.AddDate(1+r.IntN(8), r.IntN(12), r.IntN(28)),
		Sex:          []string{"F", "M", "X"}[r.IntN(3)],
	}
	for i := 0; i < 1+r.IntN(3); i++ {
		s.GivenNames = append(s.GivenNames, given[r.IntN(len(given))])
	}
	n := 9
	if (f == FormatTD1 || f == FormatTD2) && r.IntN(4) == 0 {
		n = 10 + r.IntN(2)
	}
	b := make([]byte, n)
	b[0] = alnum[r.IntN(26)]
	for i := 1; i < n; i++ {
		b[i] = alnum[r.IntN(len(alnum))]
	}
	s.DocumentNumber = string(b)
	if f == FormatTD3 {
		s.OptionalData = fmt.Sprintf("%08d", r.IntN(100000000))
	}
	return s
}
