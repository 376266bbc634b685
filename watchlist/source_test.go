package watchlist

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func drain(t *testing.T, src ChangeSource) ([]Change, error) {
	t.Helper()
	var out []Change
	for {
		c, err := src.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, c)
	}
}

func TestOpenSourceFiles(t *testing.T) {
	src, cl, err := OpenSource("testdata/small.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	h, ok := src.Header()
	if !ok || h.WatchlistID != "fixture" || h.FaceModelID != "dlib-resnet-v1" {
		t.Fatalf("header = %+v %v", h, ok)
	}
	cs, err := drain(t, src)
	if err != nil || len(cs) != 3 {
		t.Fatalf("changes = %d, %v", len(cs), err)
	}
	if cs[1].Person == nil || len(cs[1].Person.Name.MRZ) == 0 {
		t.Fatalf("person MRZ forms not filled: %+v", cs[1].Person)
	}
	if cs[2].Document.Number != "X4RTBPFW4XYZ" || cs[2].Op != OpPut {
		t.Fatalf("change form: %+v", cs[2])
	}

	csvSrc, cl2, err := OpenSource("testdata/small.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer cl2.Close()
	cs, err = drain(t, csvSrc)
	if err != nil || len(cs) != 2 || cs[1].Document.IssuingState != "GBR" || cs[1].ID != "SLTD-2" {
		t.Fatalf("csv = %+v, %v", cs, err)
	}
}

var badLines = []struct {
	name, line string
}{
	{"not json", `{"kind":"document",`},
	{"unknown field", `{"kind":"document","id":"A","issuing_state":"DEU","number":"1","colour":"red"}`},
	{"unknown kind", `{"kind":"vehicle","id":"A"}`},
	{"missing id", `{"kind":"document","issuing_state":"DEU","number":"1"}`},
	{"header not first", `{"kind":"meta","watchlist_id":"x"}`},
	{"bad op", `{"op":"upsert","kind":"document","id":"A","issuing_state":"DEU","number":"1"}`},
	{"record id mismatch", `{"op":"put","kind":"document","id":"A","document":{"id":"B","issuing_state":"DEU","number":"1"}}`},
	{"wrong type", `{"kind":"person","id":"P","name":"DOE"}`},
}

func TestParseChangeLineErrors(t *testing.T) {
	for _, tc := range badLines {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseChangeLine([]byte(tc.line))
			if !errors.Is(err, ErrBadSource) && !errors.Is(err, ErrBadRecord) {
				t.Fatalf("err = %v, want ErrBadSource or ErrBadRecord", err)
			}
		})
	}
}

func TestJSONLErrorNamesLine(t *testing.T) {
	in := `{"kind":"meta","watchlist_id":"x"}
{"kind":"document","id":"A","issuing_state":"DEU","number":"1"}

{"kind":"document","id":"B","issuing_state":"DEU","numbr":"2"}
`
	src, err := NewJSONLSource(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	_, err = drain(t, src)
	if err == nil || !strings.Contains(err.Error(), "line 4") {
		t.Fatalf("err = %v, want it to name line 4", err)
	}
}

func TestCSVErrors(t *testing.T) {
	tests := []struct{ name, in string }{
		{"unknown column", "id,issuing_state,number,colour\nA,DEU,1,red\n"},
		{"missing required column", "id,number\nA,1\n"},
		{"empty number", "id,issuing_state,number\nA,DEU,\n"},
		{"ragged row", "id,issuing_state,number\nA,DEU,1,extra\n"},
		// Issue 17: a read error used to panic in csv.Reader.FieldPos.
		{"unterminated quote", "id,issuing_state,number\n\"A,DEU,1\n"},
		{"bare quote", "id,issuing_state,number\nA,DE\"U,1\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src, err := NewCSVSource(strings.NewReader(tc.in))
			if err == nil {
				_, err = drain(t, src)
			}
			if !errors.Is(err, ErrBadSource) {
				t.Fatalf("err = %v, want ErrBadSource", err)
			}
		})
	}
}

// FuzzParseChangeLine: any input is either a valid change or an error,
// never a panic, and a valid change passes Validate.
func FuzzParseChangeLine(f *testing.F) {
	for _, tc := range badLines {
		f.Add([]byte(tc.line))
	}
	f.Add([]byte(`{"kind":"document","id":"SLTD-1","issuing_state":"DEU","document_type":"P","number":"C01X00T47"}`))
	f.Add([]byte(`{"kind":"person","id":"RED-1","name":{"surname":"Иванов","given_names":"Сергей"},"aliases":[{"surname":"X"}],"birth":"1975-04"}`))
	f.Add([]byte(`{"op":"delete","kind":"person","id":"RED-1"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		c, err := ParseChangeLine(line)
		if err != nil {
			return
		}
		if verr := c.Validate(); verr != nil {
			t.Fatalf("accepted an invalid change: %v", verr)
		}
	})
}

// FuzzCSVSource: arbitrary CSV never panics; every accepted row has the
// required fields.
func FuzzCSVSource(f *testing.F) {
	f.Add("issuing_state,document_type,number,status,source,action,id\nDEU,P,C01X00T47,stolen,SLTD,refer,SLTD-1\n")
	f.Add("id,issuing_state,number\nA,DEU,\n")
	f.Fuzz(func(t *testing.T, in string) {
		src, err := NewCSVSource(strings.NewReader(in))
		if err != nil {
			return
		}
		for range 1000 {
			c, err := src.Next()
			if err != nil {
				return
			}
			if c.Validate() != nil || c.Document.Number == "" || c.Document.IssuingState == "" {
				t.Fatalf("accepted row %+v", c.Document)
			}
		}
	})
}

// FuzzOCRVariants: variants are bounded, distinct from the first, and
// the first is the number as read.
func FuzzOCRVariants(f *testing.F) {
	for _, s := range []string{"C01X00T47", "B0S5Z8I1O", "X4RTBPFW4XYZ", "", "0000000000000000000000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, n string) {
		vs := OCRVariants(n)
		if len(vs) == 0 || len(vs) > maxVariants || vs[0].Number != n {
			t.Fatalf("variants of %q: %d", n, len(vs))
		}
		for _, v := range vs[1:] {
			if v.Number == n || len(v.Number) != len(n) || len(v.Changes) == 0 || len(v.Changes) > 2 {
				t.Fatalf("bad variant %+v of %q", v, n)
			}
		}
	})
}
