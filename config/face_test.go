package config

import (
	"strings"
	"testing"
)

func TestFaceSearchConfig(t *testing.T) {
	base := "version: 1\nunit: {id: u1}\nstate_dir: /s\nscanner: {port: /dev/x}\nweb: {accounts: /a}\n"
	c, err := Parse([]byte(base))
	if err != nil {
		t.Fatal(err)
	}
	f := c.Watchlist.Face
	if f.HitFPIR != 0.001 || f.PossibleFPIR != 0.01 || f.Candidates != 5 || c.Vision.Embedder != "dlib" || c.Vision.FuseFrames != 3 || c.Vision.Flip || c.Vision.CNNFallback {
		t.Fatalf("defaults: %+v %+v", f, c.Vision)
	}
	c, err = Parse([]byte(base + `vision: {embedder: onnx, model: /m/agency.json, flip: true, fuse_frames: 2}
watchlist:
  face:
    possible_fpir: 0.02
    candidates: 8
    categories:
      wanted: {possible_fpir: 0.05}
      refused_entry: {hit_distance: 0.8, possible_distance: 0.9}
`))
	if err != nil {
		t.Fatal(err)
	}
	f = c.Watchlist.Face
	if f.HitFPIR != 0.001 || f.PossibleFPIR != 0.02 || f.Candidates != 8 || f.Categories["wanted"].PossibleFPIR != 0.05 ||
		f.Categories["refused_entry"].PossibleDistance != 0.9 || c.Vision.Model != "/m/agency.json" || !c.Vision.Flip {
		t.Fatalf("parsed %+v %+v", f, c.Vision)
	}
	bad := []struct{ name, yaml, want string }{
		{"hit looser than possible", "watchlist: {face: {hit_fpir: 0.05, possible_fpir: 0.01}}\n", "hit band must be the stricter"},
		{"rate out of range", "watchlist: {face: {possible_fpir: 2}}\n", "watchlist.face.possible_fpir"},
		{"negative distance", "watchlist: {face: {hit_distance: -1}}\n", "watchlist.face.hit_distance"},
		{"category distances crossed", "watchlist: {face: {categories: {wanted: {hit_distance: 0.9, possible_distance: 0.5}}}}\n", "watchlist.face.categories.wanted"},
		{"no bands at all", "watchlist: {face: {hit_fpir: 0, possible_fpir: 0}}\n", "needs hit_fpir"},
		{"too many candidates", "watchlist: {face: {candidates: 500}}\n", "watchlist.face.candidates"},
		{"unknown face key", "watchlist: {face: {treshold: 0.5}}\n", "field treshold not found"},
		{"onnx without model", "vision: {embedder: onnx}\n", "vision.model"},
		{"unknown embedder", "vision: {embedder: arcface}\n", "vision.embedder"},
		{"fuse frames", "vision: {fuse_frames: 0}\n", "vision.fuse_frames"},
	}
	for _, tc := range bad {
		_, err := Parse([]byte(base + tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}
