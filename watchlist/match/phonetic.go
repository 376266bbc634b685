package match

// Phonetic returns a key for an MRZ-form token (A–Z) that survives the
// usual differences between transliterations of one name. It is a
// consonant skeleton designed for MRZ names of many origins:
//
//  1. Digraphs that transliteration systems spell differently collapse to
//     one code. The hushing sounds share one: TSCH TCH TSH CH ZH DJ DZH
//     SCH SH and J → J, because CH is Ч in English but Ш in French
//     (SHEVCHENKO ~ CHEVTCHENKO), SCH is German Ш, ZH/J/DJ are Ж or ج,
//     and Chinese zh/ch/j vary between romanisations. KH → H; PH → F;
//     TH → T; TS TZ → S (Ц as TS or German Z); CK QU Q → K; X → KS;
//     C → S before E, I, Y, else K.
//  2. Voiced and voiceless pairs merge: B P → P, D T → T, G K → K,
//     V F W → F, Z S → S. L M N R J keep their own codes.
//  3. A E I O U Y and H are vowels: H is silent or guttural depending on the
//     language (MOHAMED ~ MOAMED, RHEE ~ REE), Y and I swap across systems
//     (YURIY ~ IURII).
//  4. Runs of one code collapse (MM → M; "OHA" → one vowel); then vowels are
//     dropped, except that a token starting with a vowel keeps an "A"
//     marker.
//
// Skeletons shorter than three codes say too little (LI, KIM, ZHOU), so
// for those the vowels are kept as "A" marks instead: LI and LEE → "LA",
// KIM and GIM → "KAM", ZHOU and CHOU → "JA".
//
// Examples: MOHAMMED, MUHAMMAD, MEHMET → "MMT"; ALEXANDER, ALEKSANDR,
// OLEKSANDR → "ALKSNTR"; YURIY, IURII → "ARA"; MUELLER, MULLER → "MLR".
func Phonetic(tok string) string {
	var codes [80]byte
	n := 0
	emit := func(c byte) {
		if n < len(codes) && (n == 0 || codes[n-1] != c) {
			codes[n] = c
			n++
		}
	}
	at := func(i int) byte {
		if i < len(tok) {
			return tok[i]
		}
		return 0
	}
	const vowel = 'a'
	for i := 0; i < len(tok); {
		c, c1, c2 := tok[i], at(i+1), at(i+2)
		step := 1
		switch c {
		case 'T':
			switch {
			case c1 == 'S' && c2 == 'C' && at(i+3) == 'H':
				emit('J')
				step = 4
			case (c1 == 'C' || c1 == 'S') && c2 == 'H':
				emit('J')
				step = 3
			case c1 == 'S' || c1 == 'Z':
				emit('S')
				step = 2
			case c1 == 'H':
				emit('T')
				step = 2
			default:
				emit('T')
			}
		case 'D':
			switch {
			case c1 == 'Z' && c2 == 'H':
				emit('J')
				step = 3
			case c1 == 'J':
				emit('J')
				step = 2
			default:
				emit('T')
			}
		case 'S':
			switch {
			case c1 == 'C' && c2 == 'H':
				emit('J')
				step = 3
			case c1 == 'H':
				emit('J')
				step = 2
			default:
				emit('S')
			}
		case 'C':
			switch {
			case c1 == 'H':
				emit('J')
				step = 2
			case c1 == 'K':
				emit('K')
				step = 2
			case c1 == 'E' || c1 == 'I' || c1 == 'Y':
				emit('S')
			default:
				emit('K')
			}
		case 'Z':
			if c1 == 'H' {
				emit('J')
				step = 2
			} else {
				emit('S')
			}
		case 'K':
			if c1 == 'H' {
				emit(vowel)
				step = 2
			} else {
				emit('K')
			}
		case 'P':
			if c1 == 'H' {
				emit('F')
				step = 2
			} else {
				emit('P')
			}
		case 'Q':
			if c1 == 'U' {
				step = 2
			}
			emit('K')
		case 'O':
			// French spellings write Arabic و as OU: before a vowel it is
			// the consonant English writes W (OUALID ~ WALID, SABAOUI ~
			// SABAWI), elsewhere a vowel (OUSSAMA ~ USAMA).
			if c1 == 'U' && isVowelLetter(c2) {
				emit('F')
				step = 2
			} else {
				emit(vowel)
			}
		case 'A', 'E', 'I', 'U', 'Y', 'H':
			emit(vowel)
		case 'B':
			emit('P')
		case 'G':
			emit('K')
		case 'V', 'F', 'W':
			emit('F')
		case 'X':
			emit('K')
			emit('S')
		case 'J', 'L', 'M', 'N', 'R':
			emit(c)
		}
		i += step
	}
	var buf [80]byte
	out := buf[:0]
	for i := 0; i < n; i++ {
		if codes[i] != vowel {
			out = append(out, codes[i])
		} else if i == 0 {
			out = append(out, 'A')
		}
	}
	if len(out) >= 3 {
		return string(out)
	}
	out = out[:0]
	for i := 0; i < n; i++ {
		if codes[i] == vowel {
			out = append(out, 'A')
		} else {
			out = append(out, codes[i])
		}
	}
	return string(out)
}

func isVowelLetter(c byte) bool {
	switch c {
	case 'A', 'E', 'I', 'O', 'U', 'Y':
		return true
	}
	return false
}

// Skeleton is a token's consonant skeleton: Phonetic's consonant codes
// without the vowel marks of short keys ("HSN" and "HASSAN" → "SN"). It
// lets an unvocalised romanisation of Arabic (short vowels are not
// written) meet the vocalised spelling.
func Skeleton(tok string) string {
	p := Phonetic(tok)
	var b []byte
	for i := 0; i < len(p); i++ {
		if p[i] != 'A' {
			b = append(b, p[i])
		}
	}
	return string(b)
}

// vowelPoor reports whether a token reads as an unvocalised romanisation:
// at least three letters and no vowel (HSN, MHMD), or one vowel after two
// leading consonants that are no digraph (FLIH, MHMUD, but not CHUN, JOHN
// or MARK).
func vowelPoor(t string) bool {
	if len(t) < 3 {
		return false
	}
	n := 0
	for i := 0; i < len(t); i++ {
		if isPlainVowel(t[i]) {
			n++
		}
	}
	switch {
	case n == 0:
		return true
	case n > 1 || isPlainVowel(t[0]) || isPlainVowel(t[1]):
		return false
	}
	switch t[:2] {
	case "CH", "SH", "KH", "GH", "TH", "PH", "ZH", "WH", "RH", "DH":
		return false
	}
	return true
}

func isPlainVowel(c byte) bool { return c == 'A' || c == 'E' || c == 'I' || c == 'O' || c == 'U' }

// looseSkeleton is a token's consonants with every vowel and semivowel (A
// E I O U Y W, and OU) dropped and the digraphs of Phonetic folded (SH CH
// SCH → J, KH → K, GH → G, TH → T, DH → T, PH → F, DJ → J), voiced and
// voiceless pairs merged, doubles collapsed. Two romanisations of one
// unvocalised Arabic word differ in vowels and in whether و and ي are
// written as vowels or as W and Y (ELIACHI, ALYASHI; BOUIHI, BUYHI); their
// loose skeletons agree (LJ, PH).
func looseSkeleton(tok string) string {
	var out [40]byte
	n := 0
	emit := func(c byte) {
		if n < len(out) && (n == 0 || out[n-1] != c) {
			out[n] = c
			n++
		}
	}
	at := func(i int) byte {
		if i < len(tok) {
			return tok[i]
		}
		return 0
	}
	for i := 0; i < len(tok); {
		c, c1 := tok[i], at(i+1)
		step := 1
		switch {
		case (c == 'S' || c == 'C' || c == 'Z') && c1 == 'H', c == 'D' && c1 == 'J', c == 'J':
			emit('J')
			if c != 'J' {
				step = 2
			}
		case c == 'S' && c1 == 'C' && at(i+2) == 'H':
			emit('J')
			step = 3
		case (c == 'K' || c == 'G') && c1 == 'H':
			emit('K')
			step = 2
		case (c == 'T' || c == 'D') && c1 == 'H':
			emit('T')
			step = 2
		case c == 'P' && c1 == 'H':
			emit('F')
			step = 2
		default:
			switch c {
			case 'A', 'E', 'I', 'O', 'U', 'Y', 'W':
			case 'B', 'P':
				emit('P')
			case 'D', 'T':
				emit('T')
			case 'G', 'K', 'Q', 'C':
				emit('K')
			case 'V', 'F':
				emit('F')
			case 'Z', 'S':
				emit('S')
			case 'X':
				emit('K')
				emit('S')
			default:
				emit(c)
			}
		}
		i += step
	}
	return string(out[:n])
}
