package mrz

import (
	"slices"
	"testing"
)

func TestTransliterate(t *testing.T) {
	tests := []struct {
		in       string
		want     string
		variants []string // all variants, recommended first; nil: only want
	}{
		{"Müller-Lüdenscheidt", "MUELLER LUEDENSCHEIDT", []string{"MUELLER LUEDENSCHEIDT", "MULLER LUDENSCHEIDT", "MUXXLLER LUXXDENSCHEIDT"}},
		{"Ångström", "AANGSTROEM", []string{"AANGSTROEM", "ANGSTROM", "AANGSTROXXM"}},
		{"Søren Kierkegaard", "SOEREN KIERKEGAARD", []string{"SOEREN KIERKEGAARD", "SOREN KIERKEGAARD"}},
		{"Straße", "STRASSE", nil},
		{"Æsa", "AESA", nil},
		{"Peña Nieto", "PENA NIETO", []string{"PENA NIETO", "PENXXA NIETO"}},
		{"Þórður", "THORDUR", nil},
		{"Łukasz Żółć", "LUKASZ ZOLC", nil},
		{"IJsbrand Ĳssel", "IJSBRAND IJSSEL", nil},
		{"O'Neill", "ONEILL", nil},
		{"d'Artagnan, Charles", "DARTAGNAN CHARLES", nil},
		{"  anna   maria ", "ANNA MARIA", nil},
		{"Юрий Гагарин", "IURII GAGARIN", nil},
		{"Жуков Хрущёв", "ZHUKOV KHRUSHCHEV", nil},
		{"Цветаева Чайковский", "TSVETAEVA CHAIKOVSKII", nil},
		{"Щербаков", "SHCHERBAKOV", nil},
		{"Юлия Ярошенко", "IULIIA IAROSHENKO", nil},
		{"Подъячев Ильин", "PODIEIACHEV ILIN", nil},
		{"Ђоковић Њ Љ Џ", "DOKOVIC NJ LJ DZ", nil},
		{"Βενιζέλος Σοφία", "VENIZELOS SOFIA", nil},
		{"Ψυχή Χάος Ξένος Θεός", "PSYCHI CHAOS XENOS THEOS", nil},
		{"Nguyễn Thị", "NGUYEN THI", nil}, // not in the table: base letters
		{"R2-D2", "R D", nil},
		{"王", "", nil},
		{"", "", nil},
	}
	for _, tt := range tests {
		if got := Transliterate(tt.in); got != tt.want {
			t.Errorf("Transliterate(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if tt.variants != nil {
			if got := TransliterateVariants(tt.in); !slices.Equal(got, tt.variants) {
				t.Errorf("TransliterateVariants(%q) = %q, want %q", tt.in, got, tt.variants)
			}
		} else if got := TransliterateVariants(tt.in); len(got) != 1 || got[0] != tt.want {
			t.Errorf("TransliterateVariants(%q) = %q, want only %q", tt.in, got, tt.want)
		}
	}
}

func TestNameField(t *testing.T) {
	tests := []struct {
		surname   string
		given     []string
		n         int
		want      string
		truncated bool
	}{
		{"Eriksson", []string{"Anna", "Maria"}, 39, "ERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", false},
		{"van der Berg", []string{"Jan-Pieter"}, 30, "VAN<DER<BERG<<JAN<PIETER<<<<<<", false},
		{"Eriksson", nil, 10, "ERIKSSON<<", false},
		{"Wolfeschlegelsteinhausenbergerdorff", []string{"Hubert", "Blaine"}, 30, "WOLFESCHLEGELSTEINHAUSENBERGE", true},
	}
	for _, tt := range tests {
		got, tr := NameField(tt.surname, tt.given, tt.n)
		if tt.truncated {
			tt.want += "R"
		}
		if got != tt.want || tr != tt.truncated || len(got) != tt.n {
			t.Errorf("NameField(%q, %q, %d) = %q, %v; want %q, %v", tt.surname, tt.given, tt.n, got, tr, tt.want, tt.truncated)
		}
	}
}
