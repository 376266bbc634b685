package demo

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/checkpoint-edge/checkpoint/mrz"
)

var (
	td3 = []string{
		"P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
		"L898902C36UTO7408122F1204159ZE184226B<<<<<10",
	}
	td1 = []string{
		"I<UTOD231458907<<<<<<<<<<<<<<<",
		"7408122F1204159UTO<<<<<<<<<<<6",
		"ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
	}
)

func TestFileRoundTrip(t *testing.T) {
	f := &File{Hold: 6 * time.Second, FPS: 10, Entries: []Entry{
		{Index: 1, Role: RoleClear, Lines: td3},
		{Index: 2, Role: RoleWanted, Kinds: []string{"face", "person"}, Lines: td1},
		{Index: 3, Role: RoleStolen, Kinds: []string{"document"}, Lines: td3},
	}}
	var b bytes.Buffer
	if _, err := f.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(&b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Hold != f.Hold || got.FPS != f.FPS || len(got.Entries) != len(f.Entries) {
		t.Fatalf("header or count differs: %+v", got)
	}
	for i, e := range got.Entries {
		w := f.Entries[i]
		if e.Index != w.Index || e.Role != w.Role || !slices.Equal(e.Kinds, w.Kinds) || !slices.Equal(e.Lines, w.Lines) {
			t.Errorf("entry %d: got %+v, want %+v", i, e, w)
		}
		if !mrz.Parse(e.Lines, mrz.Options{}).Valid {
			t.Errorf("entry %d: MRZ does not check", i)
		}
	}
	if got.Entries[0].Expect() != "clear" || got.Entries[1].Expect() != "hit:face,person" {
		t.Errorf("expect strings: %q %q", got.Entries[0].Expect(), got.Entries[1].Expect())
	}
}

func TestReadFile(t *testing.T) {
	block := strings.Join(td3, "\n") + "\n"
	tests := []struct {
		name    string
		in      string
		n       int
		wantErr string
	}{
		{"plain scanner file", block + "\n" + strings.Join(td1, "\n") + "\n", 2, ""},
		{"comments and blank lines", "# hello\n\n\n" + block + "\n\n", 1, ""},
		{"header only timing", "# checkpoint-demo hold=3s fps=25\n" + block, 1, ""},
		{"empty", "", 0, "no MRZ blocks"},
		{"only comments", "# nothing\n", 0, "no MRZ blocks"},
		{"one line block", td3[0] + "\n", 0, "1 line(s)"},
		{"four lines", block + td1[0] + "\n" + td1[1] + "\n", 0, "more than 3 lines"},
		{"long line", strings.Repeat("A", 45) + "\n" + td3[1] + "\n", 0, "at most 44"},
		{"bad hold", "# checkpoint-demo hold=-1s\n" + block, 0, "hold"},
		{"bad fps", "# checkpoint-demo fps=zero\n" + block, 0, "fps"},
		{"bad header pair", "# checkpoint-demo hold\n" + block, 0, "key=value"},
		{"bad index", "# traveller x\n" + block, 0, "traveller index"},
		{"bad expect", "# traveller 1 expect=maybe\n" + block, 0, "expect"},
		{"out of order", "# traveller 2\n" + block, 0, "camera order"},
		{"huge line", strings.Repeat("#", 10000) + "\n" + block, 0, "token too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ReadFile(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrMRZFile) {
					t.Fatalf("err = %v, want ErrMRZFile mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Entries) != tt.n {
				t.Fatalf("%d entries, want %d", len(f.Entries), tt.n)
			}
		})
	}
}

func FuzzReadFile(f *testing.F) {
	var b bytes.Buffer
	(&File{Hold: time.Second, FPS: 10, Entries: []Entry{{Index: 1, Role: RoleAlias, Kinds: []string{"person"}, Lines: td1}}}).WriteTo(&b)
	f.Add(b.String())
	f.Add(strings.Join(td3, "\n"))
	f.Add("# traveller 1 expect=hit:\n" + strings.Join(td3, "\n"))
	f.Add("# checkpoint-demo hold=1ns fps=1e3\n\n\n")
	f.Fuzz(func(t *testing.T, in string) {
		file, err := ReadFile(strings.NewReader(in))
		if err != nil {
			if !errors.Is(err, ErrMRZFile) {
				t.Fatalf("error %v is not ErrMRZFile", err)
			}
			return
		}
		// Whatever parses must survive a round trip unchanged.
		var out bytes.Buffer
		if _, err := file.WriteTo(&out); err != nil {
			t.Fatal(err)
		}
		again, err := ReadFile(&out)
		if err != nil {
			t.Fatalf("re-reading written file: %v\n%s", err, out.String())
		}
		if len(again.Entries) != len(file.Entries) {
			t.Fatalf("%d entries after round trip, want %d", len(again.Entries), len(file.Entries))
		}
		for i := range file.Entries {
			if !slices.Equal(again.Entries[i].Lines, file.Entries[i].Lines) || again.Entries[i].Expect() != file.Entries[i].Expect() {
				t.Fatalf("entry %d changed in round trip", i)
			}
		}
	})
}

// BenchmarkReadFile reads a travellers file of 15 documents, as feed does
// once at start.
func BenchmarkReadFile(b *testing.B) {
	f := &File{Hold: 6 * time.Second, FPS: 10}
	for i := range 15 {
		f.Entries = append(f.Entries, Entry{Index: i + 1, Role: RoleClear, Lines: td3})
	}
	var buf bytes.Buffer
	f.WriteTo(&buf)
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadFile(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}
