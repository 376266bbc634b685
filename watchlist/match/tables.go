package match

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"
)

//go:embed variants.txt
var variantsTxt string

//go:embed common.txt
var commonTxt string

var (
	// classOf maps a token to the canonical (first) member of its
	// name-variant class.
	classOf map[string]string
	// commonFreq maps a class canonical or a lone token to its frequency.
	commonFreq map[string]float64
	// tableErr records a malformed embedded table; tests assert it is nil.
	tableErr error
)

// particles are name particles (Arabic article and patronymic markers,
// Dutch/German/Romance prepositions). They carry almost no information and
// are often dropped, attached ("ALRASHID") or spelled differently
// ("EL RASHID") across documents.
var particles = map[string]bool{
	"AL": true, "EL": true, "UL": true, "BIN": true, "BEN": true, "IBN": true,
	"BINT": true, "VAN": true, "VON": true, "DER": true, "DEN": true, "DE": true,
	"LA": true, "DA": true, "DI": true, "DOS": true, "DAS": true, "DEL": true,
	"DELLA": true, "DU": true, "TER": true, "TEN": true,
}

func init() {
	classOf, commonFreq, tableErr = parseTables(variantsTxt, commonTxt)
}

func parseTables(variants, common string) (map[string]string, map[string]float64, error) {
	cls := make(map[string]string)
	for n, line := range strings.Split(variants, "\n") {
		if line = strings.TrimSpace(line); line == "" || line[0] == '#' {
			continue
		}
		f := strings.Fields(line)
		for _, tok := range f {
			if !isMRZToken(tok) {
				return nil, nil, fmt.Errorf("variants.txt:%d: %q is not an A-Z token", n+1, tok)
			}
			if c, dup := cls[tok]; dup && c != f[0] {
				return nil, nil, fmt.Errorf("variants.txt:%d: %s already in class %s", n+1, tok, c)
			}
			cls[tok] = f[0]
		}
	}
	freq := make(map[string]float64)
	for n, line := range strings.Split(common, "\n") {
		if line = strings.TrimSpace(line); line == "" || line[0] == '#' {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil || v <= 0 || v >= 1 {
			return nil, nil, fmt.Errorf("common.txt:%d: bad frequency %q", n+1, f[0])
		}
		for _, tok := range f[1:] {
			if !isMRZToken(tok) {
				return nil, nil, fmt.Errorf("common.txt:%d: %q is not an A-Z token", n+1, tok)
			}
			key := tok
			if c, ok := cls[tok]; ok {
				key = c
			}
			freq[key] = max(freq[key], v)
		}
	}
	return cls, freq, nil
}

func isMRZToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// VariantClass returns the canonical member of tok's name-variant class
// ("MUHAMMAD" → "MOHAMMED"), or "" when tok is in no class.
func VariantClass(tok string) string { return classOf[tok] }

// classKey is the token's class canonical, or the token itself.
func classKey(tok string) string {
	if c, ok := classOf[tok]; ok {
		return c
	}
	return tok
}
