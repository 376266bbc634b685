package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/checkpoint-edge/checkpoint/vision/visiontest"
	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// TestWatchlistEnrol: photos become templates through the enrolment gate;
// a photo without a face and a group photo are refused and reported; the
// output imports and its search finds the person from another photo.
func TestWatchlistEnrol(t *testing.T) {
	models := visiontest.Models(t)
	faces := visiontest.Faces(t)
	bin := techBinary(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "source.jsonl")
	os.WriteFile(src, []byte(`{"kind":"meta","watchlist_id":"hq-test"}
{"kind":"person","id":"P-1","name":{"surname":"CHOU","given_names":"TZU YU"},"category":"wanted","action":"arrest","source":"national"}
{"kind":"person","id":"P-2","name":{"surname":"DOE","given_names":"JOHN"},"category":"refused_entry","action":"refer","source":"national"}
{"kind":"document","id":"D-1","issuing_state":"FRA","number":"09AA12345","status":"lost","source":"SLTD","action":"alert_only"}
`), 0o600)
	wall := filepath.Join(dir, "wall.png")
	os.WriteFile(wall, grayPNG(t), 0o644)
	photos := filepath.Join(dir, "photos.csv")
	os.WriteFile(photos, []byte("person,file\n"+
		"P-1,"+filepath.Join(faces, "tzuyu2.jpg")+"\n"+
		"P-1,"+filepath.Join(faces, "tzuyu.jpg")+"\n"+
		"P-2,wall.png\n"+
		"P-2,"+filepath.Join(faces, "pristin.jpg")+"\n"+
		"P-9,"+filepath.Join(faces, "joy.jpg")+"\n"), 0o644)
	out := filepath.Join(dir, "enrolled.jsonl")
	args := []string{"watchlist", "enrol", "--models", models, "--workers", "1", "--from", src, "--photos", photos, "--out", out}
	stdout, stderr, code := runCtl(t, bin, nil, append(args, "--strict")...)
	if code != 1 || !strings.Contains(stderr, "2 photos refused, 1 unknown persons") {
		t.Fatalf("--strict: exit %d %q %q", code, stdout, stderr)
	}
	for _, want := range []string{"refused   P-2 wall.png no_face", "refused   P-2 pristin.jpg several_faces", "unknown   P-9"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, stdout)
		}
	}
	stdout, stderr, code = runCtl(t, bin, nil, append([]string{"--json"}, args...)...)
	if code != 0 {
		t.Fatalf("exit %d %q", code, stderr)
	}
	var rep enrolReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || rep.Enrolled != 2 || rep.Refused != 2 || rep.Persons != 1 || len(rep.Model) != 16 {
		t.Fatalf("report %+v %v", rep, err)
	}
	f, _ := os.Open(out)
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 4<<20)
	var lines []map[string]json.RawMessage
	var p1 *watchlist.PersonAlert
	for sc.Scan() {
		var m map[string]json.RawMessage
		json.Unmarshal(sc.Bytes(), &m)
		lines = append(lines, m)
		var c watchlist.Change
		if json.Unmarshal(sc.Bytes(), &c) == nil && c.ID == "P-1" {
			p1 = c.Person
		}
	}
	if len(lines) != 4 || string(lines[0]["face_model_id"]) != `"`+rep.Model+`"` {
		t.Fatalf("%d lines, header %s", len(lines), lines[0]["face_model_id"])
	}
	if p1 == nil || len(p1.Faces) != 2 || p1.Faces[1].ID != "P-1-F2" || len(p1.Faces[0].Vector) != 128 || len(p1.Photo) == 0 {
		t.Fatalf("P-1 enrolled as %+v", p1)
	}
}

func TestParsePhotoList(t *testing.T) {
	for _, tc := range photoListCases {
		pl, err := parsePhotoList(strings.NewReader(tc.in), "/hq")
		if (err == nil) != tc.ok || (err == nil && len(pl.by["A"]) != tc.a) {
			t.Errorf("%q: %+v %v", tc.in, pl, err)
		}
	}
	pl, _ := parsePhotoList(strings.NewReader("A,x.jpg\nA,/abs/y.jpg\n"), "/hq")
	if pl.by["A"][0] != "/hq/x.jpg" || pl.by["A"][1] != "/abs/y.jpg" {
		t.Errorf("paths %v", pl.by["A"])
	}
}

var photoListCases = []struct {
	in string
	ok bool
	a  int
}{
	{"person,file\nA,1.jpg\nA,2.jpg\nB,3.jpg\n", true, 2},
	{"# comment\nA,1.jpg\n", true, 1},
	{"A\n", false, 0},
	{"A,1.jpg,extra\n", false, 0},
	{",1.jpg\n", false, 0},
	{"person,file\n", false, 0},
	{"\"A,1.jpg\n", false, 0},
}

func FuzzParsePhotoList(f *testing.F) {
	for _, tc := range photoListCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		pl, err := parsePhotoList(strings.NewReader(s), "/hq")
		if err != nil {
			return
		}
		for _, id := range pl.order {
			if id == "" || len(pl.by[id]) == 0 {
				t.Fatalf("empty entry %q", id)
			}
			for _, p := range pl.by[id] {
				if p == "" || !filepath.IsAbs(p) {
					t.Fatalf("path %q", p)
				}
			}
		}
	})
}
