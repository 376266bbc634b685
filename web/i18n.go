package web

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
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

var (
	cataloguesOnce sync.Once
	catalogues     map[string]Catalogue
)

// catalogue is lang's catalogue, loaded once; unknown languages get
// English.
func catalogue(lang string) Catalogue {
	cataloguesOnce.Do(func() {
		catalogues = map[string]Catalogue{}
		for _, l := range Languages {
			c, err := LoadCatalogue(l)
			if err != nil {
				panic(err) // the embedded catalogues are checked by TestCatalogues
			}
			catalogues[l] = c
		}
	})
	if c, ok := catalogues[lang]; ok {
		return c
	}
	return catalogues["en"]
}

// T is the message key in c, English when c lacks it, the key itself when
// both do.
func (c Catalogue) T(key string) string {
	if m, ok := c[key]; ok {
		return m
	}
	if m, ok := catalogue("en")[key]; ok {
		return m
	}
	return key
}

// languageNames are the languages as their speakers write them.
var languageNames = map[string]string{"en": "English", "fr": "Français", "ar": "العربية"}

type loginLanguage struct {
	Code, Name string
	On         bool
}

type loginView struct {
	Error, Lang, Dir string
	T                func(string) string
	Languages        []loginLanguage
}

// loginView words the sign-in page: in the language picked on it (?lang=),
// else the unit's default; the officer's own language applies once signed
// in.
func (s *Server) loginView(r *http.Request) loginView {
	lang := r.URL.Query().Get("lang")
	if !slices.Contains(Languages, lang) {
		lang = s.opt.Page.Language
	}
	if !slices.Contains(Languages, lang) {
		lang = "en"
	}
	c := catalogue(lang)
	v := loginView{Error: r.URL.Query().Get("e"), Lang: lang, Dir: "ltr", T: c.T}
	if RTL(lang) {
		v.Dir = "rtl"
	}
	for _, l := range Languages {
		v.Languages = append(v.Languages, loginLanguage{Code: l, Name: languageNames[l], On: l == lang})
	}
	return v
}
