package mrz

import (
	"strings"
	"time"
)

// Parse reads an MRZ given as its lines. It never returns nil and never
// panics; Document.Valid tells whether everything checked out.
func Parse(lines []string, opts Options) *Document {
	d := new(Document)
	ParseInto(d, lines, opts)
	return d
}

// ParseText splits s on CR/LF, drops empty lines and surrounding spaces,
// then parses the lines.
func ParseText(s string, opts Options) *Document {
	var lines []string
	for _, l := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }) {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return Parse(lines, opts)
}

// ParseInto is Parse into a caller-owned Document, overwriting it; reusing
// one Document makes parsing a well-formed MRZ allocation-free.
func ParseInto(d *Document, lines []string, opts Options) {
	d.reset()
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	lines = d.unsplit(lines)
	lay := detect(lines)
	if lay == nil {
		d.Lines = lines
		d.problem(SeverityError, "", ProblemFormat, "the lines fit no MRZ format (TD1 3×30, TD2 2×36, TD3 2×44, MRV-A 2×44, MRV-B 2×36)")
		d.Valid = false
		return
	}
	d.Format = lay.format
	if opts.Autocorrect {
		lines = d.autocorrect(lay, lines)
	}
	d.Lines = lines
	d.checkShape(lay, lines)
	d.extract(lay, lines, civilOf(now))
	d.Valid = true
	for i := range d.Problems {
		if d.Problems[i].Severity == SeverityError {
			d.Valid = false
			break
		}
	}
}

func (d *Document) reset() {
	// Only the exported fields are cleared: the fixed buffers behind the
	// slices are overwritten as they are filled, and zeroing all of them
	// would cost more than the parse.
	d.Format, d.DocumentCode, d.IssuingState, d.Surname = "", "", "", ""
	d.NameTruncated, d.LongNumber, d.Valid = false, false, false
	d.DocumentNumber, d.Nationality, d.Sex = "", "", ""
	d.BirthDate, d.ExpiryDate = Date{}, Date{}
	d.OptionalData, d.OptionalData2 = "", ""
	d.Lines, d.InputLines = nil, nil
	d.Fields = d.fieldBuf[:0]
	d.Problems = d.problemBuf[:0]
	d.GivenNames = d.givenBuf[:0]
	d.Corrections = []Correction{}
}

// unsplit accepts an MRZ delivered as one line (some readers send the
// lines concatenated) by cutting it at the format's line length.
func (d *Document) unsplit(lines []string) []string {
	if len(lines) != 1 {
		return lines
	}
	l := lines[0]
	switch len(l) {
	case 88:
		d.lineBuf[0], d.lineBuf[1] = l[:44], l[44:]
		return d.lineBuf[:2]
	case 72:
		d.lineBuf[0], d.lineBuf[1] = l[:36], l[36:]
		return d.lineBuf[:2]
	case 90:
		d.lineBuf[0], d.lineBuf[1], d.lineBuf[2] = l[:30], l[30:60], l[60:]
		return d.lineBuf[:3]
	}
	return lines
}

func (d *Document) problem(sev Severity, field, code, msg string) {
	d.Problems = append(d.Problems, Problem{Field: field, Code: code, Message: msg, Severity: sev})
}

var (
	msgLineLength = [3]string{"line 1 has the wrong length for this format", "line 2 has the wrong length for this format", "line 3 has the wrong length for this format"}
	msgLineChar   = [3]string{"line 1 holds characters other than A-Z, 0-9 and <", "line 2 holds characters other than A-Z, 0-9 and <", "line 3 holds characters other than A-Z, 0-9 and <"}
)

func (d *Document) checkShape(lay *layout, lines []string) {
	for i, l := range lines {
		if len(l) != lay.width {
			d.problem(SeverityError, "", ProblemLineLength, msgLineLength[i])
		}
		for j := 0; j < len(l); j++ {
			if !mrzChar(l[j]) {
				d.problem(SeverityError, "", ProblemCharacter, msgLineChar[i])
				break
			}
		}
	}
}

func mrzChar(c byte) bool {
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '<'
}

// cut returns the n characters at line/col, or what exists of them; full
// is false when the line is too short.
func cut(lines []string, line, col, n int) (s string, full bool) {
	if line >= len(lines) {
		return "", false
	}
	l := lines[line]
	if col >= len(l) {
		return "", false
	}
	if col+n > len(l) {
		return l[col:], false
	}
	return l[col : col+n], true
}

func trimFiller(s string) string {
	i := len(s)
	for i > 0 && s[i-1] == '<' {
		i--
	}
	return s[:i]
}

// checkStatus compares a field with its check digit.
func checkStatus(raw string, full bool, ck string) CheckStatus {
	if len(ck) != 1 || !full {
		return CheckMissing
	}
	c := ck[0]
	switch {
	case c == '<':
		if allFiller(raw) {
			return CheckFiller
		}
		return CheckInvalid
	case c < '0' || c > '9':
		return CheckInvalid
	case CheckDigit(raw) == c:
		return CheckOK
	}
	return CheckBad
}

func (d *Document) extract(lay *layout, lines []string, now civil) {
	long := false
	for i := range lay.fields {
		fs := &lay.fields[i]
		if fs.role == roleNumber && lay.longNumber && d.extractLongNumber(lay, lines) {
			long = true
			continue
		}
		raw, full := cut(lines, fs.line, fs.col, fs.n)
		d.Fields = append(d.Fields, Field{Name: fs.name, Raw: raw, Line: fs.line + 1, Column: fs.col + 1, Check: CheckNone, Valid: full})
		f := &d.Fields[len(d.Fields)-1]
		if fs.ckCol >= 0 {
			ck, _ := cut(lines, fs.ckLine, fs.ckCol, 1)
			f.Check = checkStatus(raw, full, ck)
		}
		if !full {
			d.problem(SeverityError, fs.name, ProblemField, msgMissing(fs.name))
		}
		switch fs.role {
		case roleDocCode:
			d.docCode(f, lay)
		case roleState:
			d.IssuingState = d.code(f)
		case roleNationality:
			d.Nationality = d.code(f)
		case roleName:
			d.name(f)
		case roleNumber:
			d.DocumentNumber = d.alnum(f)
		case roleOptional:
			if long {
				f.Value = d.OptionalData
				if !onlyChars(raw, true) {
					f.Valid = false
				}
			} else {
				d.OptionalData = d.alnum(f)
			}
		case roleOptional2:
			d.OptionalData2 = d.alnum(f)
		case roleGiven:
			d.givenNames(f)
		case roleAdmin:
			d.OptionalData = d.alnum(f)
		case roleBirth:
			d.BirthDate = d.date(f, true, now)
		case roleExpiry:
			d.ExpiryDate = d.date(f, false, now)
		case roleSex:
			d.sex(f)
		case roleComposite:
			d.composite(f, lay, lines)
		}
		d.checkProblem(f)
	}
	if lay.format == FormatFRCNI {
		// The card is only issued to French nationals; it has no
		// nationality field.
		d.Nationality = "FRA"
	}
	if d.BirthDate.Valid && d.ExpiryDate.Valid && d.BirthDate.Year != 0 && d.ExpiryDate.Year != 0 &&
		dateBefore(d.ExpiryDate, d.BirthDate) {
		d.problem(SeverityWarning, FieldExpiryDate, ProblemExpiryBeforeDOB, "expiry date is before the date of birth")
	}
}

func msgMissing(field string) string {
	switch field {
	case FieldDocumentCode:
		return "document code is missing or incomplete (line too short)"
	case FieldIssuingState:
		return "issuing state is missing or incomplete (line too short)"
	case FieldName:
		return "name is missing or incomplete (line too short)"
	case FieldDocumentNumber:
		return "document number is missing or incomplete (line too short)"
	case FieldNationality:
		return "nationality is missing or incomplete (line too short)"
	case FieldBirthDate:
		return "date of birth is missing or incomplete (line too short)"
	case FieldSex:
		return "sex is missing (line too short)"
	case FieldExpiryDate:
		return "expiry date is missing or incomplete (line too short)"
	case FieldOptionalData, FieldOptionalData2:
		return "optional data is missing or incomplete (line too short)"
	case FieldComposite:
		return "composite check digit is missing (line too short)"
	}
	return "field is missing (line too short)"
}

func (d *Document) checkProblem(f *Field) {
	switch f.Check {
	case CheckOK, CheckNone, CheckFiller:
		return
	}
	if f.Name == FieldComposite {
		return // composite reports its own problem
	}
	switch f.Check {
	case CheckBad:
		f.Valid = false
		d.problem(SeverityError, f.Name, ProblemCheckDigit, msgCheck(f.Name, false))
	case CheckInvalid:
		f.Valid = false
		d.problem(SeverityError, f.Name, ProblemCheckDigit, msgCheck(f.Name, true))
	case CheckMissing:
		f.Valid = false
	}
}

func msgCheck(field string, invalid bool) string {
	if invalid {
		switch field {
		case FieldDocumentNumber:
			return "document number check digit is not a digit"
		case FieldBirthDate:
			return "date of birth check digit is not a digit"
		case FieldExpiryDate:
			return "expiry date check digit is not a digit"
		}
		return "optional data check digit is not a digit"
	}
	switch field {
	case FieldDocumentNumber:
		return "document number check digit does not match"
	case FieldBirthDate:
		return "date of birth check digit does not match"
	case FieldExpiryDate:
		return "expiry date check digit does not match"
	}
	return "optional data check digit does not match"
}

// onlyChars reports whether s holds only letters and '<' (digits too when
// digits is set).
func onlyChars(s string, digits bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c >= 'A' && c <= 'Z') || c == '<' || (digits && c >= '0' && c <= '9') {
			continue
		}
		return false
	}
	return true
}

func (d *Document) docCode(f *Field, lay *layout) {
	f.Value = trimFiller(f.Raw)
	d.DocumentCode = f.Value
	if f.Raw == "" || !onlyChars(f.Raw, false) || f.Raw[0] == '<' {
		f.Valid = false
		d.problem(SeverityError, f.Name, ProblemDocumentCode, "document code must start with a letter and hold only letters and <")
		return
	}
	c := f.Raw[0]
	usual := true
	switch lay.format {
	case FormatTD1, FormatTD2:
		usual = c == 'A' || c == 'C' || c == 'I'
	case FormatTD3:
		usual = c == 'P'
	}
	if !usual {
		d.problem(SeverityWarning, f.Name, ProblemDocumentCode, "document code is unusual for this format")
	}
}

func (d *Document) code(f *Field) string {
	f.Value = trimFiller(f.Raw)
	if !onlyChars(f.Raw, false) || f.Value == "" || strings.IndexByte(f.Value, '<') >= 0 {
		f.Valid = false
		d.problem(SeverityError, f.Name, ProblemCode, msgCode(f.Name, false))
		return f.Value
	}
	if !knownCode(f.Value) {
		d.problem(SeverityWarning, f.Name, ProblemCountry, msgCode(f.Name, true))
	}
	return f.Value
}

func msgCode(field string, unknown bool) string {
	if field == FieldIssuingState {
		if unknown {
			return "issuing state code is not on the ICAO 9303 list"
		}
		return "issuing state code must be letters padded with <"
	}
	if unknown {
		return "nationality code is not on the ICAO 9303 list"
	}
	return "nationality code must be letters padded with <"
}

func (d *Document) alnum(f *Field) string {
	f.Value = trimFiller(f.Raw)
	if !onlyChars(f.Raw, true) {
		f.Valid = false
		d.problem(SeverityError, f.Name, ProblemField, "field holds characters other than A-Z, 0-9 and <")
	}
	if f.Name == FieldDocumentNumber && f.Value == "" {
		f.Valid = false
		d.problem(SeverityError, f.Name, ProblemField, "document number is empty")
	}
	return f.Value
}

func (d *Document) name(f *Field) {
	raw := f.Raw
	f.Value = trimFiller(raw)
	if !onlyChars(raw, false) {
		f.Valid = false
		d.problem(SeverityError, f.Name, ProblemName, "name holds characters other than A-Z and <")
	}
	v := f.Value
	if v == "" {
		f.Valid = false
		d.problem(SeverityError, f.Name, ProblemName, "name is empty")
		return
	}
	// A name that reaches the last position may have been cut short
	// (ICAO 9303 Part 3 truncation); it is reported, not an error.
	if len(raw) > 0 && raw[len(raw)-1] != '<' && f.Valid {
		d.NameTruncated = true
		d.problem(SeverityWarning, f.Name, ProblemNameTruncated, "name fills its field and may be truncated")
	}
	if v[0] == '<' && !strings.HasPrefix(v, "<<") {
		d.problem(SeverityWarning, f.Name, ProblemNameLeadingFiller, "name field starts with a filler")
		v = strings.TrimLeft(v, "<")
	}
	primary, secondary, _ := strings.Cut(v, "<<")
	if primary == "" {
		d.problem(SeverityWarning, f.Name, ProblemName, "primary identifier (surname) is empty")
	}
	d.Surname = strings.ReplaceAll(primary, "<", " ")
	for secondary != "" {
		var tok string
		tok, secondary, _ = strings.Cut(secondary, "<")
		if tok != "" {
			d.GivenNames = append(d.GivenNames, tok)
		}
	}
}

// givenNames reads FR-CNI's separate given-names field ("<<" or "<"
// between names).
func (d *Document) givenNames(f *Field) {
	f.Value = trimFiller(f.Raw)
	if !onlyChars(f.Raw, false) {
		f.Valid = false
		d.problem(SeverityError, f.Name, ProblemName, "given names hold characters other than A-Z and <")
		return
	}
	if len(f.Raw) > 0 && f.Raw[len(f.Raw)-1] != '<' {
		d.NameTruncated = true
		d.problem(SeverityWarning, f.Name, ProblemNameTruncated, "given names fill their field and may be truncated")
	}
	rest := strings.TrimLeft(f.Value, "<")
	for rest != "" {
		var tok string
		tok, rest, _ = strings.Cut(rest, "<")
		if tok != "" {
			d.GivenNames = append(d.GivenNames, tok)
		}
	}
}

func (d *Document) sex(f *Field) {
	f.Value = f.Raw
	switch f.Raw {
	case "M", "F", "X":
	case "<":
		f.Value = "X"
	default:
		f.Valid = false
		d.problem(SeverityError, f.Name, ProblemSex, "sex must be M, F, X or <")
	}
	d.Sex = f.Value
}

func (d *Document) composite(f *Field, lay *layout, lines []string) {
	f.Value = f.Raw
	if len(f.Raw) != 1 {
		f.Check = CheckMissing
		f.Valid = false
		return
	}
	c := f.Raw[0]
	switch {
	case c < '0' || c > '9':
		f.Check = CheckInvalid
		f.Valid = false
		d.problem(SeverityError, f.Name, ProblemComposite, "composite check digit is not a digit")
	case checkSpans(lines, lay.composite) != c:
		f.Check = CheckBad
		f.Valid = false
		d.problem(SeverityError, f.Name, ProblemComposite, "composite check digit does not match")
	default:
		f.Check = CheckOK
	}
}

// extractLongNumber handles TD1/TD2 document numbers longer than nine
// characters: the number field's check digit position holds '<', and the
// optional data starts with the rest of the number followed by the check
// digit over the whole number, then '<'. It appends the document number
// field and sets OptionalData; false means the number is not long.
func (d *Document) extractLongNumber(lay *layout, lines []string) bool {
	nf := &lay.fields[lay.numberIdx]
	of := &lay.fields[lay.longOpt]
	num, full := cut(lines, nf.line, nf.col, nf.n)
	ck, _ := cut(lines, nf.ckLine, nf.ckCol, 1)
	opt, _ := cut(lines, of.line, of.col, of.n)
	if !full || ck != "<" || len(num) != 9 || num[8] == '<' || opt == "" || opt[0] == '<' {
		return false
	}
	d.LongNumber = true
	f := Field{Name: nf.name, Line: nf.line + 1, Column: nf.col + 1, Valid: true}
	end := strings.IndexByte(opt, '<')
	if end < 0 {
		end = len(opt)
	}
	if end < 2 {
		// Only a check digit and no continuation: malformed.
		f.Raw, f.Value = num, num
		f.Valid = false
		f.Check = CheckInvalid
		d.problem(SeverityError, nf.name, ProblemLongNumber, "long document number continuation in the optional data is malformed")
		d.DocumentNumber = num
		d.OptionalData = trimFiller(opt)
		d.Fields = append(d.Fields, f)
		return true
	}
	cont, c := opt[:end-1], opt[end-1]
	f.Value = num + cont
	f.Raw = num + "<" + opt[:end]
	if !onlyChars(f.Value, true) {
		f.Valid = false
		d.problem(SeverityError, nf.name, ProblemField, "field holds characters other than A-Z, 0-9 and <")
	}
	switch {
	case c < '0' || c > '9':
		f.Check = CheckInvalid
	case CheckDigit(f.Value) == c:
		f.Check = CheckOK
	case CheckDigit(num+"<"+cont) == c:
		// Belgian and Portuguese identity cards compute the check digit
		// over the number with the filler between its two parts. Real
		// cards do this: accept it, and say so.
		f.Check = CheckOK
		d.problem(SeverityWarning, nf.name, ProblemLongNumberFiller, "long document number check digit includes the filler (as on Belgian and Portuguese cards)")
	default:
		f.Check = CheckBad
	}
	d.checkProblem(&f)
	d.DocumentNumber = f.Value
	if end < len(opt) {
		d.OptionalData = trimFiller(opt[end+1:])
	}
	d.Fields = append(d.Fields, f)
	return true
}
