package match

import (
	"strings"
	"unicode/utf8"
)

// Arabic script (the UN list gives many names in it) has no MRZ form in
// ICAO 9303 Part 3's Latin, Cyrillic and Greek tables as package mrz
// implements them, so it is romanised here, in two ways:
//
//   - common: each word is looked up in a table of the commonest name
//     words and their usual passport spelling (محمد MOHAMMED, عبد الله
//     ABDULLAH, حسين HUSSEIN…); other words are romanised letter by letter
//     (BGN/PCGN-like consonants, long vowels from ا و ي, the article ال as
//     AL), which gives the consonant skeleton plus long vowels.
//   - plain: letter by letter only, without the table.
//
// Short vowels are not written in Arabic, so a romanised word is mostly a
// consonant skeleton (HKMT for حكمت, HIKMAT): Phonetic drops vowels, so the
// skeleton and the passport spelling meet in the phonetic index key and
// agree as a phonetic match.

// arabicLetters maps Arabic-script letters (Arabic, Persian, Urdu) to Latin.
// Letters that are vowels or consonants depending on position (و ي) are
// handled in romanizeArabicWord.
var arabicLetters = map[rune]string{
	'ا': "A", 'آ': "A", 'أ': "A", 'إ': "I", 'ٱ': "A", 'ء': "", 'ؤ': "", 'ئ': "",
	'ب': "B", 'ت': "T", 'ث': "TH", 'ج': "J", 'ح': "H", 'خ': "KH", 'د': "D", 'ذ': "DH",
	'ر': "R", 'ز': "Z", 'س': "S", 'ش': "SH", 'ص': "S", 'ض': "D", 'ط': "T", 'ظ': "Z",
	'ع': "", 'غ': "GH", 'ف': "F", 'ق': "Q", 'ك': "K", 'ل': "L", 'م': "M", 'ن': "N",
	'ه': "H", 'ة': "A", 'ى': "A",
	// Persian and Urdu letters.
	'پ': "P", 'چ': "CH", 'ژ': "ZH", 'گ': "G", 'ک': "K", 'ی': "Y", 'ے': "E", 'ٹ': "T",
	'ڈ': "D", 'ڑ': "R", 'ں': "N", 'ھ': "H", 'ۃ': "A", 'ۀ': "H",
}

// arabicCommon are common name words and the spelling passports mostly
// print. Keys are written without diacritics; hamza forms of alef are
// folded (normalizeArabic) before the lookup.
var arabicCommon = map[string]string{
	"محمد": "MOHAMMED", "احمد": "AHMED", "محمود": "MAHMOUD", "مصطفى": "MUSTAFA", "عبد": "ABDUL",
	"عبدالله": "ABDULLAH", "الله": "ALLAH", "عبدالرحمن": "ABDULRAHMAN", "الرحمن": "RAHMAN", "الرحيم": "RAHIM",
	"عبدالعزيز": "ABDULAZIZ", "العزيز": "AZIZ", "عزيز": "AZIZ", "عبدالقادر": "ABDULKADIR", "القادر": "QADIR",
	"علي": "ALI", "حسن": "HASSAN", "حسين": "HUSSEIN", "ابراهيم": "IBRAHIM", "اسماعيل": "ISMAIL",
	"عمر": "OMAR", "عثمان": "OTHMAN", "خالد": "KHALID", "يوسف": "YOUSSEF", "سعيد": "SAID",
	"صالح": "SALEH", "سالم": "SALEM", "جمال": "JAMAL", "كمال": "KAMAL", "ناصر": "NASSER",
	"فيصل": "FAISAL", "طارق": "TARIQ", "زياد": "ZIYAD", "حمزة": "HAMZA", "بلال": "BILAL",
	"اسامة": "OSAMA", "عمار": "AMMAR", "ياسر": "YASSER", "وليد": "WALID", "رشيد": "RASHID",
	"كريم": "KARIM", "حميد": "HAMID", "حامد": "HAMED", "سليمان": "SULEIMAN", "موسى": "MUSA",
	"عيسى": "ISSA", "يحيى": "YAHYA", "زكريا": "ZAKARIYA", "عادل": "ADEL", "هاني": "HANI",
	"نبيل": "NABIL", "سامي": "SAMI", "فاطمة": "FATIMA", "عائشة": "AISHA", "مريم": "MARYAM",
	"زينب": "ZAINAB", "خديجة": "KHADIJA", "ابو": "ABU", "بن": "BIN", "ابن": "IBN", "بنت": "BINT",
	"ولد": "OULD", "حاج": "HAJ", "حاجي": "HAJI", "ملا": "MULLAH", "نور": "NOOR", "الدين": "ALDIN",
	"صدام": "SADDAM", "عدي": "UDAY", "قصي": "QUSAY", "مجيد": "MAJID", "سعد": "SAAD", "سعود": "SAUD",
	"فهد": "FAHD", "منصور": "MANSOUR", "ماجد": "MAJED", "مالك": "MALIK", "انور": "ANWAR",
	"امين": "AMIN", "محسن": "MOHSEN", "مهدي": "MAHDI", "جعفر": "JAAFAR", "رضا": "REZA",
	"غلام": "GHULAM", "شاه": "SHAH", "خان": "KHAN", "الحسن": "ALHASSAN", "الحسين": "ALHUSSEIN",
	"عبدالكريم": "ABDULKARIM", "عبدالحميد": "ABDULHAMID", "عبدالمجيد": "ABDULMAJID", "عبدالسلام": "ABDULSALAM",
	"السلام": "SALAM", "سلمان": "SALMAN", "ادريس": "IDRIS", "يونس": "YOUNES", "ايمن": "AYMAN",
	"ابوبكر": "ABUBAKAR", "بكر": "BAKR", "حمد": "HAMAD", "راشد": "RASHED", "شريف": "SHARIF",
	"هشام": "HISHAM", "عماد": "IMAD", "جلال": "JALAL", "زيد": "ZAID", "قاسم": "QASIM",
}

// normalizeArabic folds letter forms that lists and passports treat alike
// (hamza on alef, alef maqsura, Persian yeh and kaf) and removes diacritics
// and tatweel.
func normalizeArabic(w string) string {
	var b strings.Builder
	for _, r := range w {
		switch {
		case r == 'أ' || r == 'إ' || r == 'آ' || r == 'ٱ':
			b.WriteRune('ا')
		case r == 'ی':
			b.WriteRune('ي')
		case r == 'ک':
			b.WriteRune('ك')
		case r == 'ـ' || (r >= 0x064B && r <= 0x065F) || r == 0x0670:
			// tatweel, harakat, shadda, sukun, superscript alef
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isArabicLetter reports whether r is an Arabic-script letter or mark.
func isArabicLetter(r rune) bool {
	return (r >= 0x0600 && r <= 0x06FF) || (r >= 0x0750 && r <= 0x077F) || (r >= 0xFB50 && r <= 0xFDFF) || (r >= 0xFE70 && r <= 0xFEFF)
}

func hasArabic(s string) bool {
	for _, r := range s {
		if isArabicLetter(r) {
			return true
		}
	}
	return false
}

// romanizeArabic romanises the Arabic-script words of s (common table
// first when common is set) and leaves everything else as it is, so the
// result can go through the ICAO transliteration for the rest.
func romanizeArabic(s string, common bool) string {
	if !hasArabic(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !isArabicLetter(r) {
			b.WriteRune(r)
			i += n
			continue
		}
		j := i
		for j < len(s) {
			r2, n2 := utf8.DecodeRuneInString(s[j:])
			if !isArabicLetter(r2) {
				break
			}
			j += n2
		}
		b.WriteString(romanizeArabicWord(normalizeArabic(s[i:j]), common))
		i = j
	}
	return b.String()
}

func romanizeArabicWord(w string, common bool) string {
	if w == "" {
		return ""
	}
	if common {
		if v, ok := arabicCommon[w]; ok {
			return v
		}
		// The article: ال + a common word ("الحسن" is AL HASSAN), and
		// عبد + a word written as one ("عبدالرحيم").
		if rest, ok := strings.CutPrefix(w, "ال"); ok && rest != "" {
			if v, ok := arabicCommon[rest]; ok {
				return "AL" + v
			}
		}
		if rest, ok := strings.CutPrefix(w, "عبد"); ok && rest != "" {
			if r, ok := strings.CutPrefix(rest, "ال"); ok && r != "" {
				return "ABDUL" + romanizeArabicWord(r, true)
			}
			return "ABD" + romanizeArabicWord(rest, true)
		}
	}
	rs := []rune(w)
	var b strings.Builder
	for i, r := range rs {
		if i == 0 && r == 'ا' && len(rs) > 1 && rs[1] == 'ل' {
			b.WriteString("A") // ال: the L follows
			continue
		}
		if r == 'ع' && (i == 0 || common && i == 2 && rs[0] == 'ا' && rs[1] == 'ل') {
			// A ع beginning the word (after its article, too) is written
			// with its vowel: ABD, AZIZ, AL-AZZAWI.
			b.WriteString("A")
			continue
		}
		switch r {
		case 'و', 'ي':
			// A consonant at the start of a word or after a vowel letter,
			// a long vowel after a consonant.
			// ع and hamza write no letter: after them و and ي begin a
			// syllable (عواد AWWAD).
			prevVowel := i == 0 || rs[i-1] == 'ا' || rs[i-1] == 'و' || rs[i-1] == 'ي' || rs[i-1] == 'ع' || rs[i-1] == 'ء'
			switch {
			case r == 'و' && prevVowel:
				b.WriteString("W")
			case r == 'و':
				b.WriteString("U")
			case prevVowel:
				b.WriteString("Y")
			default:
				b.WriteString("I")
			}
			continue
		}
		if v, ok := arabicLetters[r]; ok {
			b.WriteString(v)
		}
	}
	return b.String()
}

// arabicForms returns the common and plain romanisations of s, distinct.
func arabicForms(s string) []string {
	a, p := romanizeArabic(s, true), romanizeArabic(s, false)
	if a == p {
		return []string{a}
	}
	return []string{a, p}
}
