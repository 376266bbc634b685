package evalset

import (
	"strings"
	"unicode"
)

// Ordinary names of many countries: the commonest given names and surnames
// (public name statistics, rounded), for negatives that look like the
// travellers a desk sees every day.
var ordinary = []struct {
	nats             []string
	surnames, givens []string
}{
	{[]string{"EGY", "SYR", "IRQ", "JOR", "SAU", "YEM", "LBN", "LBY", "SDN"},
		[]string{"HASSAN", "MOHAMED", "ALI", "IBRAHIM", "AHMED", "MAHMOUD", "MOUSTAFA", "ABDELRAHMAN", "SAID", "KHALIL", "HUSSEIN", "SALEH", "OMAR", "NASSER", "YOUSSEF", "HAMDAN", "ABBAS", "KARIM", "JABER", "SALEM"},
		[]string{"MOHAMED", "AHMED", "MAHMOUD", "MUSTAFA", "ALI", "OMAR", "KHALED", "YOUSSEF", "IBRAHIM", "HASSAN", "HUSSEIN", "AMR", "TAREK", "KARIM", "FATMA", "AISHA", "MARIAM", "NOUR", "SARA", "HANA"}},
	{[]string{"MAR", "DZA", "TUN"},
		[]string{"BENALI", "EL AMRANI", "BOUZID", "HADDAD", "MANSOURI", "CHERIF", "BELKACEM", "TRABELSI", "BENSALEM", "ZOUARI"},
		[]string{"MOHAMED", "YOUSSEF", "KARIM", "SAMIR", "NADIA", "FATIMA", "RACHID", "DJAMEL", "AMINA", "OUALID"}},
	{[]string{"PAK", "AFG", "IND", "BGD"},
		[]string{"KHAN", "AHMED", "ALI", "HUSSAIN", "SHAH", "RAHMAN", "IQBAL", "BUTT", "MALIK", "CHAUDHRY", "SINGH", "KUMAR", "SHARMA", "PATEL", "DAS", "ISLAM", "HOSSAIN", "BEGUM", "NOORI", "SAFI"},
		[]string{"MUHAMMAD", "ABDUL", "AHMAD", "ALI", "HASSAN", "IMRAN", "BILAL", "USMAN", "FARHAN", "RAHUL", "AMIT", "PRIYA", "FATIMA", "AYESHA", "SANA", "ZAINAB", "GUL", "NOOR", "WAHID", "RASHID"}},
	{[]string{"CHN", "TWN", "HKG", "SGP"},
		[]string{"WANG", "LI", "ZHANG", "LIU", "CHEN", "YANG", "HUANG", "ZHAO", "WU", "ZHOU", "XU", "SUN", "MA", "ZHU", "HU", "GUO", "HE", "LIN", "GAO", "LUO"},
		[]string{"WEI", "FANG", "NA", "MIN", "JING", "LEI", "JUN", "YAN", "TAO", "MING", "XIN", "HUI", "YU", "HONG", "PING", "QIANG", "LING", "JIE", "HAO", "YING"}},
	{[]string{"KOR"},
		[]string{"KIM", "LEE", "PARK", "CHOI", "JUNG", "KANG", "CHO", "YOON", "JANG", "LIM"},
		[]string{"MIN", "JUN", "SEO", "YEON", "JI", "HOON", "HYUN", "WOO", "SUNG", "EUN"}},
	{[]string{"VNM"},
		[]string{"NGUYEN", "TRAN", "LE", "PHAM", "HOANG", "HUYNH", "PHAN", "VU", "VO", "DANG"},
		[]string{"VAN", "THI", "MINH", "ANH", "HUNG", "LINH", "DUC", "THANH", "HUONG", "LAN"}},
	{[]string{"RUS", "UKR", "BLR", "KAZ"},
		[]string{"IVANOV", "SMIRNOV", "KUZNETSOV", "POPOV", "SOKOLOV", "LEBEDEV", "KOZLOV", "NOVIKOV", "MOROZOV", "PETROV", "SHEVCHENKO", "KOVALENKO", "BONDARENKO", "VOLKOV", "FEDOROV"},
		[]string{"ALEKSANDR", "SERGEI", "DMITRII", "ANDREI", "ALEKSEI", "IVAN", "MIKHAIL", "OLGA", "ELENA", "NATALIA", "TATIANA", "IRINA", "OLEKSANDR", "VOLODYMYR", "YULIIA"}},
	{[]string{"ESP", "MEX", "COL", "ARG", "PER", "VEN"},
		[]string{"GARCIA", "RODRIGUEZ", "MARTINEZ", "LOPEZ", "GONZALEZ", "HERNANDEZ", "PEREZ", "SANCHEZ", "RAMIREZ", "TORRES", "FLORES", "GOMEZ", "DIAZ", "REYES", "MORALES", "CRUZ", "ORTIZ", "CASTILLO", "JIMENEZ", "RUIZ"},
		[]string{"JOSE", "JUAN", "LUIS", "CARLOS", "JORGE", "MIGUEL", "ANTONIO", "FRANCISCO", "PEDRO", "MANUEL", "MARIA", "ANA", "CARMEN", "LAURA", "SOFIA", "LUCIA", "GUADALUPE", "ROSA", "GUSTAVO", "ALEJANDRO"}},
	{[]string{"BRA", "PRT"},
		[]string{"SILVA", "SANTOS", "OLIVEIRA", "SOUZA", "RODRIGUES", "FERREIRA", "ALVES", "PEREIRA", "LIMA", "GOMES", "COSTA", "RIBEIRO", "MARTINS", "CARVALHO", "ALMEIDA"},
		[]string{"JOAO", "PEDRO", "LUCAS", "GABRIEL", "RAFAEL", "MARCOS", "PAULO", "ANA", "MARIA", "JULIANA", "FERNANDA", "BEATRIZ", "CAMILA", "LUIZ", "THIAGO"}},
	{[]string{"FRA", "BEL", "CHE"},
		[]string{"MARTIN", "BERNARD", "DUBOIS", "THOMAS", "ROBERT", "RICHARD", "PETIT", "DURAND", "LEROY", "MOREAU", "SIMON", "LAURENT", "LEFEBVRE", "MICHEL", "GARCIA"},
		[]string{"JEAN", "PIERRE", "MICHEL", "PHILIPPE", "NICOLAS", "JULIEN", "THOMAS", "MARIE", "NATHALIE", "ISABELLE", "SOPHIE", "CAMILLE", "LUC", "ALAIN", "CLAIRE"}},
	{[]string{"DEU", "AUT", "NLD"},
		[]string{"MUELLER", "SCHMIDT", "SCHNEIDER", "FISCHER", "WEBER", "MEYER", "WAGNER", "BECKER", "SCHULZ", "HOFFMANN", "DE JONG", "JANSEN", "DE VRIES", "BAKKER", "VISSER"},
		[]string{"THOMAS", "MICHAEL", "ANDREAS", "STEFAN", "PETER", "KLAUS", "JAN", "SABINE", "ANNA", "JULIA", "KATHARINA", "LUKAS", "DANIEL", "MARTIN", "SANDRA"}},
	{[]string{"GBR", "USA", "CAN", "AUS", "IRL"},
		[]string{"SMITH", "JOHNSON", "WILLIAMS", "BROWN", "JONES", "MILLER", "DAVIS", "WILSON", "TAYLOR", "ANDERSON", "THOMAS", "JACKSON", "WHITE", "HARRIS", "CLARK", "LEWIS", "WALKER", "HALL", "MURPHY", "KELLY"},
		[]string{"JAMES", "JOHN", "ROBERT", "MICHAEL", "WILLIAM", "DAVID", "RICHARD", "JOSEPH", "MARY", "PATRICIA", "JENNIFER", "LINDA", "ELIZABETH", "SARAH", "EMMA", "OLIVER", "JACK", "GEORGE", "CHARLOTTE", "EMILY"}},
	{[]string{"TUR"},
		[]string{"YILMAZ", "KAYA", "DEMIR", "SAHIN", "CELIK", "YILDIZ", "YILDIRIM", "OZTURK", "AYDIN", "OZDEMIR"},
		[]string{"MEHMET", "MUSTAFA", "AHMET", "ALI", "HUSEYIN", "HASAN", "IBRAHIM", "FATMA", "AYSE", "EMINE"}},
	{[]string{"IRN"},
		[]string{"MOHAMMADI", "HOSSEINI", "AHMADI", "REZAEI", "MOUSAVI", "JAFARI", "KARIMI", "HASHEMI", "RAHIMI", "SADEGHI"},
		[]string{"MOHAMMAD", "ALI", "HOSSEIN", "REZA", "MEHDI", "AMIR", "FATEMEH", "ZAHRA", "MARYAM", "HAMID"}},
	{[]string{"NGA", "KEN", "UGA", "TZA", "GHA", "ETH", "SOM"},
		[]string{"OKAFOR", "ADEYEMI", "OKONKWO", "MWANGI", "OTIENO", "KAMAU", "MENSAH", "OWUSU", "BELLO", "MUSA", "HASSAN", "ABDI", "TESFAYE", "GIRMA", "NAKATO"},
		[]string{"CHINEDU", "EMEKA", "OLUWASEUN", "JOHN", "PETER", "GRACE", "MARY", "KWAME", "KOFI", "AMINA", "FATUMA", "ABDI", "MOHAMED", "DAVID", "JOSEPH"}},
	{[]string{"IDN", "MYS", "PHL"},
		[]string{"SANTOSO", "WIJAYA", "SAPUTRA", "HIDAYAT", "SETIAWAN", "RAHMAN", "ABDULLAH", "REYES", "SANTOS", "DELA CRUZ"},
		[]string{"AGUS", "BUDI", "SITI", "DEWI", "ANDI", "RINA", "AHMAD", "NUR", "JOSE", "MARIA"}},
}

// frenchArabic romanises Arabic script the way Maghreb passports print
// it (OU for و, CH for ش, DJ for ج, EL for the article): a convention
// independent of the matcher's own romanisation, so the evaluation does
// not test the matcher against itself.
func frenchArabic(s string) string {
	table := map[rune]string{
		'ا': "A", 'أ': "A", 'إ': "I", 'آ': "A", 'ء': "", 'ؤ': "", 'ئ': "",
		'ب': "B", 'ت': "T", 'ث': "T", 'ج': "DJ", 'ح': "H", 'خ': "KH", 'د': "D", 'ذ': "D", 'ر': "R",
		'ز': "Z", 'س': "S", 'ش': "CH", 'ص': "S", 'ض': "D", 'ط': "T", 'ظ': "Z", 'ع': "", 'غ': "GH",
		'ف': "F", 'ق': "K", 'ك': "K", 'ل': "L", 'م': "M", 'ن': "N", 'ه': "H", 'ة': "A", 'ى': "A",
		'پ': "P", 'چ': "TCH", 'ژ': "J", 'گ': "G", 'ک': "K", 'ی': "I",
	}
	var b strings.Builder
	for _, w := range strings.Fields(s) {
		rs := []rune(w)
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		for i, r := range rs {
			if i == 0 && r == 'ا' && len(rs) > 1 && rs[1] == 'ل' {
				b.WriteString("E") // the article: EL
				continue
			}
			if i == 0 && r == 'ع' {
				b.WriteString("A") // ABDEL, AZIZ
				continue
			}
			switch r {
			case 'و':
				if i == 0 {
					b.WriteString("W")
				} else {
					b.WriteString("OU")
				}
				continue
			case 'ي':
				if i == 0 {
					b.WriteString("Y")
				} else {
					b.WriteString("I")
				}
				continue
			}
			if v, ok := table[r]; ok {
				b.WriteString(v)
			} else if unicode.IsLetter(r) && r < 0x80 {
				b.WriteRune(unicode.ToUpper(r))
			}
		}
	}
	return b.String()
}
