package synth

import (
	"math/rand/v2"

	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// A variant group lists spellings of one name; the first is the listed
// form, the others turn up as aliases (competing romanisations, Arabic
// transcriptions, anglicised forms).
type group []string

type culture struct {
	nationalities []string
	surnames      []group
	femSurnames   []group // Slavic feminine forms; nil = same as surnames
	male, female  []group
	// double: Spanish/Portuguese two surnames.
	double bool
	// givenCount is the maximum number of given names.
	givenCount int
}

var cultures = []culture{
	{ // Arabic-origin names, Latin script with variant transcriptions
		nationalities: []string{"EGY", "SYR", "IRQ", "SAU", "JOR", "MAR", "TUN", "YEM"},
		surnames: []group{{"AL-HASSAN", "ALHASSAN", "EL HASSAN"}, {"EL-SAYED", "ELSAYED", "AL SAYED"}, {"ABDULLAH", "ABDALLAH"},
			{"HADDAD"}, {"KHOURY", "KHURI", "EL KHOURY"}, {"NASSER", "NASIR"}, {"MANSOUR", "MANSUR"}, {"SULEIMAN", "SULAIMAN", "SOLIMAN"},
			{"QURESHI", "KURAISHI"}, {"AL-TIKRITI", "TIKRITI"}, {"HAMDAN"}, {"SAID", "SAEED", "SAYED"}},
		male: []group{{"MOHAMMED", "MUHAMMAD", "MOHAMED", "MOHAMAD"}, {"AHMED", "AHMAD"}, {"ABDUL RAHMAN", "ABDULRAHMAN", "ABD AL-RAHMAN"},
			{"YOUSSEF", "YUSUF", "YOUSEF"}, {"OMAR", "UMAR"}, {"KHALED", "KHALID"}, {"HUSSEIN", "HUSAYN", "HUSSAIN"}, {"ALI"},
			{"MUSTAFA", "MOSTAFA"}, {"IBRAHIM", "EBRAHIM"}, {"OSAMA", "USAMA"}},
		female: []group{{"FATIMA", "FATEMA"}, {"AISHA", "AICHA", "AYESHA"}, {"MARYAM", "MARIAM"}, {"KHADIJA", "KHADIDJA"},
			{"NOUR", "NUR"}, {"LAYLA", "LEILA"}, {"ZAINAB", "ZEINAB"}},
		givenCount: 2,
	},
	{ // Chinese: pinyin listed, Wade-Giles / Cantonese forms as aliases
		nationalities: []string{"CHN", "TWN", "HKG"},
		surnames: []group{{"WANG", "WONG"}, {"LI", "LEE"}, {"ZHANG", "CHANG", "CHEUNG"}, {"LIU", "LAU"}, {"CHEN", "CHAN"},
			{"YANG", "YEUNG"}, {"HUANG", "HWANG", "WONG"}, {"ZHAO", "CHAO", "CHIU"}, {"ZHOU", "CHOU", "CHOW"}, {"XU", "HSU", "TSUI"}, {"WU", "NG"}},
		male:       []group{{"WEI"}, {"JIANGUO", "CHIEN KUO"}, {"XIAOMING", "HSIAO MING"}, {"HAO"}, {"ZHIQIANG", "CHIH CHIANG"}, {"JUN", "CHUN"}},
		female:     []group{{"FANG"}, {"LI NA", "LINA"}, {"XIU YING", "HSIU YING"}, {"JING", "CHING"}, {"MEI LING", "MEILING"}},
		givenCount: 1,
	},
	{ // Korean: revised romanisation and McCune-Reischauer / customary forms
		nationalities: []string{"KOR", "PRK"},
		surnames: []group{{"KIM", "GIM"}, {"LEE", "YI", "RHEE", "RI"}, {"PARK", "PAK", "BAK"}, {"CHOI", "CHOE"},
			{"JUNG", "JEONG", "CHUNG"}, {"KANG", "GANG"}, {"YOON", "YUN"}},
		male:       []group{{"MIN JUN", "MINJUN"}, {"JI HOON", "JIHOON", "CHI HUN"}, {"HYUN WOO", "HYUNWOO", "HYON U"}, {"SUNG MIN", "SEONG MIN"}},
		female:     []group{{"SEO YEON", "SEOYEON", "SO YON"}, {"JI YOUNG", "JIYOUNG", "JI YEONG"}, {"EUN JI", "EUNJI", "UN JI"}},
		givenCount: 1,
	},
	{ // Vietnamese, original script with diacritics
		nationalities: []string{"VNM"},
		surnames:      []group{{"Nguyễn", "NGUYEN", "NGUYEN"}, {"Trần", "TRAN"}, {"Lê", "LE"}, {"Phạm", "PHAM"}, {"Hoàng", "HUYNH", "HOANG"}, {"Phan"}, {"Vũ", "VO", "VU"}, {"Đặng", "DANG"}},
		male:          []group{{"Văn Minh", "VAN MINH"}, {"Đức Anh", "DUC ANH"}, {"Quốc Bảo", "QUOC BAO"}, {"Thành Long", "THANH LONG"}},
		female:        []group{{"Thị Lan", "THI LAN"}, {"Thu Hà", "THU HA"}, {"Ngọc Ánh", "NGOC ANH"}, {"Thị Hương", "THI HUONG"}},
		givenCount:    1,
	},
	{ // Russian, Cyrillic script; Latin forms appear as aliases
		nationalities: []string{"RUS", "BLR", "KAZ"},
		surnames: []group{{"Иванов", "IVANOV"}, {"Смирнов", "SMIRNOV"}, {"Кузнецов", "KUZNETSOV", "KOUZNETSOV"}, {"Попов", "POPOV"},
			{"Соколов", "SOKOLOV"}, {"Лебедев", "LEBEDEV"}, {"Козлов", "KOZLOV"}, {"Новиков", "NOVIKOV"}, {"Морозов", "MOROZOV"}},
		femSurnames: []group{{"Иванова", "IVANOVA"}, {"Смирнова", "SMIRNOVA"}, {"Кузнецова", "KUZNETSOVA"}, {"Попова", "POPOVA"},
			{"Соколова", "SOKOLOVA"}, {"Лебедева", "LEBEDEVA"}, {"Козлова", "KOZLOVA"}, {"Новикова", "NOVIKOVA"}, {"Морозова", "MOROZOVA"}},
		male:       []group{{"Александр", "ALEXANDER", "ALEKSANDR"}, {"Сергей", "SERGEY", "SERGEI"}, {"Дмитрий", "DMITRY", "DMITRII"}, {"Андрей", "ANDREY", "ANDREI"}, {"Алексей", "ALEXEY", "ALEKSEI"}},
		female:     []group{{"Ольга", "OLGA"}, {"Наталья", "NATALIA", "NATALYA"}, {"Елена", "ELENA", "YELENA"}, {"Юлия", "YULIA", "IULIIA"}, {"Татьяна", "TATIANA", "TATYANA"}},
		givenCount: 1,
	},
	{ // Ukrainian, Cyrillic script
		nationalities: []string{"UKR"},
		surnames: []group{{"Шевченко", "SHEVCHENKO"}, {"Бондаренко", "BONDARENKO"}, {"Коваленко", "KOVALENKO"}, {"Ткаченко", "TKACHENKO"},
			{"Кравченко", "KRAVCHENKO"}, {"Олійник", "OLIINYK", "OLEYNIK"}, {"Мельник", "MELNYK", "MELNIK"}},
		male:       []group{{"Олександр", "OLEKSANDR", "ALEXANDER"}, {"Андрій", "ANDRII", "ANDRIY"}, {"Дмитро", "DMYTRO"}, {"Сергій", "SERHII", "SERGIY"}},
		female:     []group{{"Юлія", "YULIIA", "YULIA"}, {"Оксана", "OKSANA"}, {"Олена", "OLENA"}, {"Ірина", "IRYNA", "IRINA"}},
		givenCount: 1,
	},
	{ // Greek script
		nationalities: []string{"GRC", "CYP"},
		surnames: []group{{"Παπαδόπουλος", "PAPADOPOULOS"}, {"Γεωργίου", "GEORGIOU"}, {"Νικολάου", "NIKOLAOU"},
			{"Οικονόμου", "OIKONOMOU", "ECONOMOU"}, {"Κωνσταντίνου", "KONSTANTINOU", "CONSTANTINOU"}},
		male:       []group{{"Γεώργιος", "GEORGIOS", "GEORGE"}, {"Δημήτριος", "DIMITRIOS"}, {"Νικόλαος", "NIKOLAOS"}, {"Ιωάννης", "IOANNIS"}},
		female:     []group{{"Μαρία", "MARIA"}, {"Ελένη", "ELENI"}, {"Αικατερίνη", "AIKATERINI", "KATERINA"}},
		givenCount: 1,
	},
	{ // German, umlauts and ß
		nationalities: []string{"DEU", "AUT", "CHE"},
		surnames: []group{{"Müller", "MUELLER", "MULLER"}, {"Schmidt"}, {"Schneider"}, {"Fischer"}, {"Weiß", "WEISS"},
			{"Schäfer", "SCHAEFER", "SCHAFER"}, {"Köhler", "KOEHLER"}, {"Groß", "GROSS"}, {"Becker"}},
		male:       []group{{"Jürgen", "JUERGEN"}, {"Günter", "GUENTER", "GUNTHER"}, {"Jörg", "JOERG"}, {"Lukas", "LUCAS"}, {"Klaus"}},
		female:     []group{{"Anna-Lena", "ANNA LENA"}, {"Käthe", "KAETHE"}, {"Sophie", "SOFIE"}, {"Jördis", "JOERDIS"}, {"Ursula"}},
		givenCount: 2,
	},
	{ // Spanish and Portuguese, double surnames
		nationalities: []string{"ESP", "MEX", "COL", "ARG", "PRT", "BRA"},
		surnames: []group{{"García"}, {"López"}, {"Fernández"}, {"Rodríguez"}, {"Martínez"}, {"Sánchez"}, {"Pérez"},
			{"Gonçalves", "GONCALVES"}, {"da Silva", "SILVA"}, {"de la Cruz", "DE LA CRUZ", "CRUZ"}},
		male:       []group{{"José María", "JOSE MARIA"}, {"Juan Carlos", "JUAN CARLOS"}, {"João", "JOAO"}, {"Luis"}, {"Andrés", "ANDRES"}},
		female:     []group{{"María José", "MARIA JOSE"}, {"Ana Sofía", "ANA SOFIA"}, {"Conceição", "CONCEICAO"}, {"Lucía", "LUCIA"}},
		double:     true,
		givenCount: 1,
	},
	{ // Turkish
		nationalities: []string{"TUR"},
		surnames:      []group{{"Yılmaz", "YILMAZ"}, {"Öztürk", "OEZTUERK", "OZTURK"}, {"Şahin", "SAHIN"}, {"Çelik", "CELIK"}, {"Doğan", "DOGAN"}},
		male:          []group{{"Mehmet", "MEHMED"}, {"Mustafa"}, {"Hüseyin", "HUSEYIN", "HUSSEIN"}, {"Emre"}},
		female:        []group{{"Ayşe", "AYSE"}, {"Gülşen", "GULSEN"}, {"Elif"}, {"Zeynep", "ZEYNEB"}},
		givenCount:    2,
	},
	{ // French and Polish diacritics, Nordic letters
		nationalities: []string{"FRA", "POL", "NOR", "DNK", "SWE"},
		surnames:      []group{{"Lefèvre", "LEFEVRE"}, {"François", "FRANCOIS"}, {"Wiśniewski", "WISNIEWSKI"}, {"Łukasik", "LUKASIK"}, {"Ødegård", "OEDEGAARD", "ODEGARD"}, {"Åberg", "AABERG", "ABERG"}},
		male:          []group{{"Jean-Pierre", "JEAN PIERRE"}, {"Łukasz", "LUKASZ"}, {"Søren", "SOEREN", "SOREN"}, {"Benoît", "BENOIT"}},
		female:        []group{{"Hélène", "HELENE"}, {"Małgorzata", "MALGORZATA"}, {"Åsa", "AASA", "ASA"}, {"Zoë", "ZOE"}},
		givenCount:    2,
	},
}

func (c culture) name(r *rand.Rand, female bool) (watchlist.Name, []watchlist.Name) {
	surPool := c.surnames
	if female && c.femSurnames != nil {
		surPool = c.femSurnames
	}
	givPool := c.male
	if female {
		givPool = c.female
	}
	sg := []group{pick(r, surPool)}
	if c.double {
		sg = append(sg, pick(r, surPool))
	}
	var gg []group
	for range 1 + r.IntN(c.givenCount) {
		gg = append(gg, pick(r, givPool))
	}
	form := func(alt bool) watchlist.Name {
		var sur, giv []string
		choose := func(g group) string {
			if alt && len(g) > 1 {
				return g[1+r.IntN(len(g)-1)]
			}
			return g[0]
		}
		for _, g := range sg {
			sur = append(sur, choose(g))
		}
		for _, g := range gg {
			giv = append(giv, choose(g))
		}
		return watchlist.Name{Surname: join(sur...), GivenNames: join(giv...)}
	}
	name := form(false)
	var aliases []watchlist.Name
	for range r.IntN(3) {
		a := form(true)
		if r.IntN(4) == 0 { // names listed in the wrong order
			a.Surname, a.GivenNames = a.GivenNames, a.Surname
		}
		if a.Surname != "" && (a.Surname != name.Surname || a.GivenNames != name.GivenNames) {
			aliases = append(aliases, a)
		}
	}
	return name, aliases
}
