package web

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// The page's words come from message catalogues, one JSON file per
// language in assets/i18n: a flat object of key → message, with {name}
// placeholders. The page loads the officer's catalogue and builds every
// visible string from it; English is the reference every other catalogue
// must match key for key and placeholder for placeholder (TestCatalogues).

// Languages are the languages the page ships, English first.
var Languages = []string{"en", "fr", "ar"}

// RTL reports whether lang is written right to left.
func RTL(lang string) bool { return lang == "ar" }

var placeholder = regexp.MustCompile(`\{[a-z_0-9]+\}`)

// Catalogue is one language's messages.
type Catalogue map[string]string

// LoadCatalogue reads lang's catalogue from the embedded assets.
func LoadCatalogue(lang string) (Catalogue, error) {
	if !slices.Contains(Languages, lang) {
		return nil, fmt.Errorf("web: no catalogue for language %q", lang)
	}
	b, err := fs.ReadFile(assets, "assets/i18n/"+lang+".json")
	if err != nil {
		return nil, fmt.Errorf("web: catalogue %s: %w", lang, err)
	}
	var c Catalogue
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("web: catalogue %s: %w", lang, err)
	}
	return c, nil
}

// Compare reports how c differs from the reference catalogue ref: keys
// missing or extra, empty messages, and placeholders that differ.
func (c Catalogue) Compare(ref Catalogue) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(ref)) {
		m, ok := c[k]
		switch {
		case !ok:
			out = append(out, "missing "+k)
		case strings.TrimSpace(m) == "":
			out = append(out, "empty "+k)
		case !slices.Equal(placeholders(m), placeholders(ref[k])):
			out = append(out, fmt.Sprintf("placeholders of %s: %v, want %v", k, placeholders(m), placeholders(ref[k])))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(c)) {
		if _, ok := ref[k]; !ok {
			out = append(out, "extra "+k)
		}
	}
	return out
}

func placeholders(m string) []string {
	p := placeholder.FindAllString(m, -1)
	sort.Strings(p)
	return slices.Compact(p)
}
