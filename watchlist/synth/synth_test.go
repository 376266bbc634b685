package synth

import (
	"bytes"
	"io"
	"testing"
	"unicode"

	"github.com/checkpoint-edge/checkpoint/watchlist"
)

func TestDeterministicAndVaried(t *testing.T) {
	cfg := Config{Docs: 2000, Persons: 2000, Faces: 10, Seed: 4, FaceModelID: "m"}
	var a, b bytes.Buffer
	if err := WriteJSONL(&a, New(cfg), nil); err != nil {
		t.Fatal(err)
	}
	WriteJSONL(&b, New(cfg), nil)
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("same seed, different output")
	}
	g := New(cfg)
	if d := g.Document(17); d != g.Document(17) {
		t.Fatal("Document(i) not a pure function")
	}
	scripts := map[string]bool{}
	var partial, longNumbers, aliases, faces, persons int
	for {
		c, err := g.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		if d := c.Document; d != nil && len(watchlist.NormalizeNumber(d.Number)) > 9 {
			longNumbers++
		}
		p := c.Person
		if p == nil {
			continue
		}
		persons++
		for _, r := range p.Name.Surname + p.Name.GivenNames {
			for name, tab := range map[string]*unicode.RangeTable{"Cyrillic": unicode.Cyrillic, "Greek": unicode.Greek, "Latin-diacritic": unicode.Latin} {
				if unicode.Is(tab, r) && (name != "Latin-diacritic" || r > 0x7f) {
					scripts[name] = true
				}
			}
		}
		if len(p.Birth) == 4 || len(p.Birth) == 7 {
			partial++
		}
		if len(p.Aliases) > 0 {
			aliases++
		}
		if len(p.Name.MRZ) == 0 {
			t.Fatalf("person %s without MRZ forms", p.ID)
		}
		for _, f := range p.Faces {
			if f.ModelID != "m" || len(f.Vector) != 128 {
				t.Fatalf("bad template %+v", f.ID)
			}
			faces++
		}
	}
	if len(scripts) != 3 || partial == 0 || longNumbers == 0 || aliases < persons/5 || faces != 10 {
		t.Fatalf("scripts %v, partial DOBs %d, long numbers %d, aliases %d/%d, faces %d", scripts, partial, longNumbers, aliases, persons, faces)
	}
}
