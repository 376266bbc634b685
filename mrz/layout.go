package mrz

// kind is what characters a field may hold; it drives validation and
// which OCR repairs are allowed.
type kind uint8

const (
	kindDocCode kind = iota // letters and '<'
	kindCode                // letters and '<' (country codes)
	kindName                // letters and '<'
	kindAlnum               // letters, digits and '<'
	kindDate                // digits, with '<' or 'X' for unknown parts
	kindSex                 // M, F, X, '<'
	kindDigit               // a lone check digit (composite)
)

// fieldSpec places one field: its characters and, if any, its check digit.
type fieldSpec struct {
	name      string
	role      role // name as a small integer, for a cheap switch in the parser
	kind      kind
	line, col int
	n         int
	ckLine    int
	ckCol     int // -1: no check digit
}

type layout struct {
	format    Format
	lines     int
	width     int
	fields    []fieldSpec
	composite []span // empty: no composite check digit
	compLine  int
	compCol   int
	// longNumber: the document number may continue in the optional data
	// field whose index in fields is longOpt.
	longNumber bool
	numberIdx  int
	longOpt    int
}

func twoLineFields(nameLen, optLen int, optCheck bool) []fieldSpec {
	opt := fieldSpec{name: FieldOptionalData, kind: kindAlnum, line: 1, col: 28, n: optLen, ckCol: -1}
	if optCheck {
		opt.ckLine, opt.ckCol = 1, 28+optLen
	}
	return []fieldSpec{
		{name: FieldDocumentCode, kind: kindDocCode, line: 0, col: 0, n: 2, ckCol: -1},
		{name: FieldIssuingState, kind: kindCode, line: 0, col: 2, n: 3, ckCol: -1},
		{name: FieldName, kind: kindName, line: 0, col: 5, n: nameLen, ckCol: -1},
		{name: FieldDocumentNumber, kind: kindAlnum, line: 1, col: 0, n: 9, ckLine: 1, ckCol: 9},
		{name: FieldNationality, kind: kindCode, line: 1, col: 10, n: 3, ckCol: -1},
		{name: FieldBirthDate, kind: kindDate, line: 1, col: 13, n: 6, ckLine: 1, ckCol: 19},
		{name: FieldSex, kind: kindSex, line: 1, col: 20, n: 1, ckCol: -1},
		{name: FieldExpiryDate, kind: kindDate, line: 1, col: 21, n: 6, ckLine: 1, ckCol: 27},
		opt,
	}
}

var (
	layoutTD3 = &layout{
		format: FormatTD3, lines: 2, width: 44,
		fields: append(twoLineFields(39, 14, true),
			fieldSpec{name: FieldComposite, kind: kindDigit, line: 1, col: 43, n: 1, ckCol: -1}),
		composite: []span{{1, 0, 10}, {1, 13, 7}, {1, 21, 22}},
		compLine:  1, compCol: 43,
		numberIdx: 3,
	}
	layoutMRVA = &layout{
		format: FormatMRVA, lines: 2, width: 44,
		fields:    twoLineFields(39, 16, false),
		compCol:   -1,
		numberIdx: 3,
	}
	layoutTD2 = &layout{
		format: FormatTD2, lines: 2, width: 36,
		fields: append(twoLineFields(31, 7, false),
			fieldSpec{name: FieldComposite, kind: kindDigit, line: 1, col: 35, n: 1, ckCol: -1}),
		composite: []span{{1, 0, 10}, {1, 13, 7}, {1, 21, 14}},
		compLine:  1, compCol: 35,
		longNumber: true, numberIdx: 3, longOpt: 8,
	}
	layoutMRVB = &layout{
		format: FormatMRVB, lines: 2, width: 36,
		fields:    twoLineFields(31, 8, false),
		compCol:   -1,
		numberIdx: 3,
	}
	// layoutFRCNI: line 1 is ID FRA, the surname (25) and the issuing
	// office (6); line 2 the number (12) and its check digit, the given
	// names (14), the birth date and its check digit, the sex and a
	// check digit over both lines.
	layoutFRCNI = &layout{
		format: FormatFRCNI, lines: 2, width: 36,
		fields: []fieldSpec{
			{name: FieldDocumentCode, kind: kindDocCode, line: 0, col: 0, n: 2, ckCol: -1},
			{name: FieldIssuingState, kind: kindCode, line: 0, col: 2, n: 3, ckCol: -1},
			{name: FieldName, kind: kindName, line: 0, col: 5, n: 25, ckCol: -1},
			{name: FieldAdminCode, kind: kindAlnum, line: 0, col: 30, n: 6, ckCol: -1},
			{name: FieldDocumentNumber, kind: kindAlnum, line: 1, col: 0, n: 12, ckLine: 1, ckCol: 12},
			{name: FieldGivenNames, kind: kindName, line: 1, col: 13, n: 14, ckCol: -1},
			{name: FieldBirthDate, kind: kindDate, line: 1, col: 27, n: 6, ckLine: 1, ckCol: 33},
			{name: FieldSex, kind: kindSex, line: 1, col: 34, n: 1, ckCol: -1},
			{name: FieldComposite, kind: kindDigit, line: 1, col: 35, n: 1, ckCol: -1},
		},
		composite: []span{{0, 0, 36}, {1, 0, 35}},
		compLine:  1, compCol: 35,
		numberIdx: 4,
	}
	layoutTD1 = &layout{
		format: FormatTD1, lines: 3, width: 30,
		fields: []fieldSpec{
			{name: FieldDocumentCode, kind: kindDocCode, line: 0, col: 0, n: 2, ckCol: -1},
			{name: FieldIssuingState, kind: kindCode, line: 0, col: 2, n: 3, ckCol: -1},
			{name: FieldDocumentNumber, kind: kindAlnum, line: 0, col: 5, n: 9, ckLine: 0, ckCol: 14},
			{name: FieldOptionalData, kind: kindAlnum, line: 0, col: 15, n: 15, ckCol: -1},
			{name: FieldBirthDate, kind: kindDate, line: 1, col: 0, n: 6, ckLine: 1, ckCol: 6},
			{name: FieldSex, kind: kindSex, line: 1, col: 7, n: 1, ckCol: -1},
			{name: FieldExpiryDate, kind: kindDate, line: 1, col: 8, n: 6, ckLine: 1, ckCol: 14},
			{name: FieldNationality, kind: kindCode, line: 1, col: 15, n: 3, ckCol: -1},
			{name: FieldOptionalData2, kind: kindAlnum, line: 1, col: 18, n: 11, ckCol: -1},
			{name: FieldComposite, kind: kindDigit, line: 1, col: 29, n: 1, ckCol: -1},
			{name: FieldName, kind: kindName, line: 2, col: 0, n: 30, ckCol: -1},
		},
		composite: []span{{0, 5, 25}, {1, 0, 7}, {1, 8, 7}, {1, 18, 11}},
		compLine:  1, compCol: 29,
		longNumber: true, numberIdx: 2, longOpt: 3,
	}
)

func layoutFor(f Format) *layout {
	switch f {
	case FormatTD1:
		return layoutTD1
	case FormatTD2:
		return layoutTD2
	case FormatTD3:
		return layoutTD3
	case FormatMRVA:
		return layoutMRVA
	case FormatMRVB:
		return layoutMRVB
	case FormatFRCNI:
		return layoutFRCNI
	}
	return nil
}

// detect picks the layout from the number of lines, their lengths and the
// document code: an MRV starts with 'V'. Lengths only need to be close, so
// that a line that lost or gained a character still parses partially.
func detect[T ~string | ~[]byte](lines []T) *layout {
	maxLen := 0
	for _, l := range lines {
		maxLen = max(maxLen, len(l))
	}
	visa := len(lines) > 0 && len(lines[0]) > 0 && (lines[0][0] == 'V' || lines[0][0] == 'v')
	switch len(lines) {
	case 3:
		if maxLen >= 20 && maxLen <= 40 {
			return layoutTD1
		}
	case 2:
		switch {
		case maxLen >= 40 && maxLen <= 50:
			if visa {
				return layoutMRVA
			}
			return layoutTD3
		case maxLen >= 30 && maxLen < 40:
			if visa {
				return layoutMRVB
			}
			if frenchCNI(lines) {
				return layoutFRCNI
			}
			return layoutTD2
		}
	}
	return nil
}

// frenchCNI recognises the pre-2021 French identity card: 2×36 starting
// "IDFRA" whose line 2 is not a TD2 line 2 (TD2 has the nationality at
// columns 11-13; the card has digits of its number there).
func frenchCNI[T ~string | ~[]byte](lines []T) bool {
	if len(lines) != 2 || len(lines[0]) < 5 || len(lines[1]) < 13 {
		return false
	}
	// OCR confusions are tolerated (1 for I, 0 for D, 4 for A) so that
	// the layout chosen before autocorrection is the one chosen after.
	return ocrEqual(string(lines[0][:5]), "IDFRA") && !ocrEqual(string(lines[1][10:13]), "FRA")
}

func ocrEqual(got, want string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := 0; i < len(got); i++ {
		g, w := got[i], want[i]
		if g >= 'a' && g <= 'z' {
			g -= 'a' - 'A'
		}
		if g != w && letterFor[g] != w && !(w == 'D' && (g == '0' || g == 'O' || g == 'Q')) {
			return false
		}
	}
	return true
}

// fieldAt names the field covering a position, for corrections.
func (lay *layout) fieldAt(line, col int) string {
	for _, f := range lay.fields {
		if f.line == line && col >= f.col && col < f.col+f.n {
			return f.name
		}
		if f.ckCol >= 0 && f.ckLine == line && f.ckCol == col {
			return f.name
		}
	}
	return ""
}

// role identifies a field without string comparisons on the hot path.
type role uint8

const (
	roleDocCode role = iota
	roleState
	roleName
	roleNumber
	roleNationality
	roleBirth
	roleSex
	roleExpiry
	roleOptional
	roleOptional2
	roleComposite
	roleGiven
	roleAdmin
)

var roleNames = [...]string{FieldDocumentCode, FieldIssuingState, FieldName, FieldDocumentNumber, FieldNationality,
	FieldBirthDate, FieldSex, FieldExpiryDate, FieldOptionalData, FieldOptionalData2, FieldComposite, FieldGivenNames, FieldAdminCode}

func init() {
	for _, lay := range []*layout{layoutTD1, layoutTD2, layoutTD3, layoutMRVA, layoutMRVB, layoutFRCNI} {
		for i := range lay.fields {
			for r, n := range roleNames {
				if n == lay.fields[i].name {
					lay.fields[i].role = role(r)
				}
			}
		}
	}
}
