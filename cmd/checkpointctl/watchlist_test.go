package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/checkpoint-edge/checkpoint/internal/seal"
)

// wlEnv is the shared checkpointctl with a key and a store path.
type wlEnv struct {
	bin, dir, store, key string
}

func newWLEnv(t *testing.T) *wlEnv {
	t.Helper()
	dir := t.TempDir()
	e := &wlEnv{bin: techBinary(t), dir: dir, store: filepath.Join(dir, "watchlist.db")}
	kp := filepath.Join(dir, "watchlist.kek")
	if err := seal.GenerateKeyFile(kp); err != nil {
		t.Fatal(err)
	}
	e.key = "file:" + kp
	return e
}

// run runs a watchlist subcommand against the env's store and checks the
// exit code; it returns stdout (or stderr for a failure).
func (e *wlEnv) run(t *testing.T, want int, args ...string) string {
	t.Helper()
	full := append([]string{"watchlist"}, args...)
	full = append(full, "--store", e.store, "--key", e.key)
	return ctl(t, e.bin, want, full...)
}

func TestWatchlistCLI(t *testing.T) {
	e := newWLEnv(t)
	src := filepath.Join(e.dir, "w.jsonl")
	synthArgs := []string{"synth", "--docs", "3000", "--persons", "400", "--faces", "40", "--seed", "11", "--model-id", "dlib-resnet-v1"}
	e.run(t, 0, append(synthArgs, "--out", src)...)
	again := filepath.Join(e.dir, "again.jsonl")
	e.run(t, 0, append(synthArgs, "--out", again)...)
	a, _ := os.ReadFile(src)
	b, _ := os.ReadFile(again)
	if !bytes.Equal(a, b) || len(a) == 0 {
		t.Fatal("synth is not deterministic")
	}
	other := filepath.Join(e.dir, "other.jsonl")
	e.run(t, 0, "synth", "--docs", "3000", "--persons", "400", "--seed", "12", "--out", other)
	if c, _ := os.ReadFile(other); bytes.Equal(a[:2000], c[:2000]) {
		t.Fatal("another seed gives the same data")
	}

	// A plain import needs --unsigned.
	if msg := e.run(t, 2, "import", src); !strings.Contains(msg, "--unsigned") {
		t.Fatalf("unsigned refusal: %s", msg)
	}
	var imp importResult
	jsonLine(t, e.run(t, 0, "--json", "import", src, "--unsigned", "--valid-for", "48h"), &imp)
	if imp.Sequence != 1 || imp.Documents != 3000 || imp.Persons != 400 || imp.Faces != 40 || imp.StateHash == "" {
		t.Fatalf("import = %+v", imp)
	}

	// A bad line aborts the import, names the line and keeps version 1.
	bad := filepath.Join(e.dir, "bad.jsonl")
	os.WriteFile(bad, []byte(`{"kind":"document","id":"A","issuing_state":"DEU","number":"1"}
{"kind":"document","id":"B","issuing_state":"DEU","number":"2"}
{"kind":"document","id":"C","issuing_state":"DEU","numbr":"3"}
`), 0o600)
	if msg := e.run(t, 2, "import", bad, "--unsigned"); !strings.Contains(msg, "line 3") {
		t.Fatalf("bad source error: %s", msg)
	}
	var info infoResult
	jsonLine(t, e.run(t, 0, "--json", "info"), &info)
	if info.Meta.Sequence != 1 || info.Stale || info.Stats.Documents != 3000 || info.Meta.StateHash != imp.StateHash || info.Stats.FileBytes == 0 {
		t.Fatalf("info after refused import = %+v", info)
	}
	if out := e.run(t, 0, "info", "--max-age", "1ns"); !strings.Contains(out, "STALE") {
		t.Fatalf("info with tiny max age: %s", out)
	}

	// Pick records from the source to search for.
	var doc, person map[string]any
	var face []float64
	for _, l := range strings.Split(string(a), "\n") {
		var c struct {
			Kind     string         `json:"kind"`
			Document map[string]any `json:"document"`
			Person   map[string]any `json:"person"`
		}
		json.Unmarshal([]byte(l), &c)
		if c.Document != nil && doc == nil {
			doc = c.Document
		}
		if c.Person != nil && person == nil && c.Person["birth"] != nil && c.Person["faces"] != nil {
			person = c.Person
			for _, v := range c.Person["faces"].([]any)[0].(map[string]any)["vector"].([]any) {
				face = append(face, v.(float64))
			}
		}
	}
	var out searchOutput
	number := doc["number"].(string)
	// An OCR confusion in the queried number is undone and reported.
	confused := strings.NewReplacer("0", "O", "1", "I", "5", "S", "8", "B", "2", "Z").Replace(number[:1]) + number[1:]
	jsonLine(t, e.run(t, 0, "--json", "search", "--doc", doc["issuing_state"].(string)+":"+confused), &out)
	if len(out.Hits) != 1 || out.Hits[0].RefID != doc["id"] {
		t.Fatalf("document search = %+v", out)
	}
	if confused != number && out.Hits[0].Variant != number {
		t.Fatalf("variant = %q, want %q", out.Hits[0].Variant, number)
	}

	name := person["name"].(map[string]any)
	jsonLine(t, e.run(t, 0, "--json", "search", "--name", name["surname"].(string)+", "+name["given_names"].(string),
		"--dob", person["birth"].(string), "--nat", person["nationality"].(string)), &out)
	if len(out.Hits) == 0 || out.Hits[0].RefID != person["id"] || len(out.Hits[0].Fields) == 0 {
		t.Fatalf("name search = %+v", out)
	}

	// The face file may be a `vision embed --json` line.
	line, _ := json.Marshal(map[string]any{"path": "x.jpg", "faces": []any{map[string]any{"model_id": "dlib-resnet-v1", "embedding": face}}})
	faceFile := filepath.Join(e.dir, "face.json")
	os.WriteFile(faceFile, line, 0o600)
	jsonLine(t, e.run(t, 0, "--json", "search", "--face", faceFile), &out)
	if len(out.Hits) == 0 || out.Hits[0].RefID != person["id"] || out.Hits[0].Kind != "face" {
		t.Fatalf("face search = %+v", out)
	}
	arr, _ := json.Marshal(face[:10])
	os.WriteFile(faceFile, arr, 0o600)
	e.run(t, 2, "search", "--face", faceFile)
	e.run(t, 2, "search", "--doc", "nonsense")
	e.run(t, 2, "search")

	// export-stats holds counts only: no name, number or id of the source.
	stats := e.run(t, 0, "--json", "export-stats")
	for _, secret := range []string{number, doc["id"].(string), person["id"].(string), name["surname"].(string)} {
		if strings.Contains(stats, secret) {
			t.Fatalf("export-stats reveals %q", secret)
		}
	}
	var rep struct {
		Consistent bool             `json:"consistent"`
		Documents  int64            `json:"documents"`
		ByAction   map[string]int64 `json:"by_action"`
	}
	jsonLine(t, stats, &rep)
	if !rep.Consistent || rep.Documents != 3000 || len(rep.ByAction) == 0 {
		t.Fatalf("export-stats = %s", stats)
	}

	// A CSV import replaces the list with a new sequence.
	csvPath := filepath.Join(e.dir, "docs.csv")
	os.WriteFile(csvPath, []byte("issuing_state,document_type,number,status,source,action,id\nDEU,P,C01X00T47,stolen,SLTD,refer,SLTD-1\n"), 0o600)
	jsonLine(t, e.run(t, 0, "--json", "import", csvPath, "--unsigned"), &imp)
	if imp.Sequence != 2 || imp.Documents != 1 || imp.Persons != 0 {
		t.Fatalf("csv import = %+v", imp)
	}
	if s := e.run(t, 0, "search", "--doc", "D:C01X00T47:P"); !strings.Contains(s, "SLTD-1") {
		t.Fatalf("search after csv import: %s", s)
	}

	// A wrong key is refused clearly.
	wrong := filepath.Join(e.dir, "wrong.kek")
	seal.GenerateKeyFile(wrong)
	so, se, code := runCtl(t, e.bin, nil, "watchlist", "info", "--store", e.store, "--key", "file:"+wrong)
	if msg := so + se; code == 0 || !strings.Contains(msg, "wrong key") {
		t.Fatalf("wrong key: %s", msg)
	}
}
