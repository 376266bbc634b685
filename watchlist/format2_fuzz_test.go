package watchlist

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// FuzzParseBirthDate: accepted dates print back to themselves.
func FuzzParseBirthDate(f *testing.F) {
	for _, s := range []string{"1959-01-22", "1959-01", "1959", "1958..1963", "~1971", "~1971±5", "1963..1958", "~±", "..", "~1971±-3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseBirthDate(s)
		if err != nil {
			return
		}
		again, err := ParseBirthDate(b.String())
		if err != nil || again != b {
			t.Fatalf("%q -> %+v -> %q -> %+v %v", s, b, b.String(), again, err)
		}
		if sp := b.Spec(); !sp.Known() {
			t.Fatalf("%q is valid but says nothing", s)
		}
	})
}

// FuzzScreenBatch: any batch input gives one result per non-empty,
// non-comment line, in order, or stops with ErrBadQuery; never a panic.
func FuzzScreenBatch(f *testing.F) {
	f.Add([]byte(`{"id":"1","name":"MUELLER<<JUERGEN","birth_date":"1961-11-02"}` + "\n" + `{"surname":"x"}` + "\n\n#c\n" + `{"bad`))
	f.Add([]byte(`{"name":"A<<B","document_number":"C01X00T47","document_issuer":"D"}`))
	f.Add([]byte("\xff\n{}\n[]\nnull\n"))
	s := MustOpen(f)
	mustReplace(f, s.Store, 1, fixtureChanges()...)
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		sum, err := s.ScreenBatch(context.Background(), bytes.NewReader(data), &out, BatchOptions{MaxLine: 4096, MaxQueries: 200})
		lines := 0
		for _, l := range strings.Split(out.String(), "\n") {
			if l == "" {
				continue
			}
			var r BatchResult
			if err := json.Unmarshal([]byte(l), &r); err != nil {
				t.Fatalf("output line %q: %v", l, err)
			}
			lines++
		}
		if lines != sum.Queries {
			t.Fatalf("%d results for %d queries (err %v)", lines, sum.Queries, err)
		}
		if err != nil {
			return
		}
		want := 0
		for _, l := range bytes.Split(data, []byte("\n")) {
			if l = bytes.TrimSpace(l); len(l) > 0 && l[0] != '#' {
				want++
			}
		}
		if want != sum.Queries {
			t.Fatalf("%d queries counted, %d lines", sum.Queries, want)
		}
	})
}
