package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/checkpoint-edge/checkpoint/config"
	"github.com/checkpoint-edge/checkpoint/internal/demo"
	"github.com/checkpoint-edge/checkpoint/internal/seal"
	"github.com/checkpoint-edge/checkpoint/mrz"
	"github.com/checkpoint-edge/checkpoint/sync/bundle"
	"github.com/checkpoint-edge/checkpoint/sync/trust"
	"github.com/checkpoint-edge/checkpoint/vision"
	"github.com/checkpoint-edge/checkpoint/vision/facedlib"
	"github.com/checkpoint-edge/checkpoint/vision/facepipe"
	"github.com/checkpoint-edge/checkpoint/watchlist"
)

// demoPrereqs finds the models and photos: missing in CI is a failure.
func demoPrereqs(t *testing.T) (models, faces string) {
	t.Helper()
	models, err := vision.FindModels()
	if err == nil {
		faces, err = vision.FindFaces()
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("face models or labelled photos missing (make test installs them): %v", err)
		}
		t.Skipf("face models or labelled photos missing: %v", err)
	}
	if _, err := os.Stat(facedlib.DefaultShapePredictor); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("landmark model missing (libdlib-data): %v", err)
		}
		t.Skipf("landmark model missing: %v", err)
	}
	return models, faces
}

// runDemoCtl runs the binary with one BLAS thread, checks that it exits with
// want and returns stdout and stderr.
func runDemoCtl(t *testing.T, bin string, want int, args ...string) (string, string) {
	t.Helper()
	return runWant(t, bin, []string{"OPENBLAS_NUM_THREADS=1"}, want, args...)
}

// TestDemoPrepare runs `demo prepare` with the real models and photos and
// checks what the demo depends on: the published bundle verifies against the
// trust root with the unit's identity (also through `watchlist verify`),
// the watchlist it installs gives every traveller the designed outcome with
// the face the video shows, travellers.mrz is valid and in video order, the
// video has the right frames, and the config loads. A second run reuses the
// directory.
func TestDemoPrepare(t *testing.T) {
	models, faces := demoPrereqs(t)
	tmp := t.TempDir()
	bin := techBinary(t)
	dir := filepath.Join(tmp, "demo")
	const (
		hold = 2 * time.Second
		fps  = 5.0
	)
	args := []string{"demo", "prepare", "--json", "--dir", dir, "--faces", faces, "--models", models,
		"--hold", hold.String(), "--fps", fmt.Sprint(fps), "--seed", "7",
		"--background-documents", "3000", "--background-persons", "300",
		"--listen", "127.0.0.1:18080", "--hub-listen", "127.0.0.1:18443"}
	t0 := time.Now()
	out, _ := runDemoCtl(t, bin, 0, args...)
	t.Logf("demo prepare: %s", time.Since(t0).Round(time.Millisecond))
	var rep demoPrepared
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("prepare output %q: %v", out, err)
	}
	if rep.Reused || rep.Officer != demo.Officer || rep.PIN != demo.PIN || rep.Bundle.Sequence != 1 {
		t.Fatalf("unexpected report %+v", rep)
	}
	p := demo.PathsOf(dir)

	// Keys are private.
	for _, k := range []string{p.CAKey, p.HubKey, p.UnitKey, p.SigningKey, p.RootKey, p.Identity, p.WatchlistKEK, p.OutboxKEK, p.HubKEK, p.Accounts} {
		st, err := os.Stat(k)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s is %v: others may read it", filepath.Base(k), st.Mode().Perm())
		}
	}

	// The config loads as the daemon loads it and points at the prepared files.
	cfg, err := config.Load(p.Config)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Camera.Device != p.Video || !cfg.Camera.Loop || cfg.Camera.FPS != fps || cfg.Scanner.Port != p.ScannerLink ||
		cfg.Scanner.Framing != "lines" || cfg.Hub.URL != "https://127.0.0.1:18443" || cfg.Web.Listen != "127.0.0.1:18080" ||
		cfg.Watchlist.Trust != p.Trust || cfg.Unit.ID != demo.UnitID {
		t.Errorf("config does not describe the demo: %+v", cfg)
	}

	// The published bundle verifies like a unit verifies it.
	root, err := trust.Load(cfg.Watchlist.Trust)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := bundle.LoadIdentities(cfg.Watchlist.Identity)
	if err != nil {
		t.Fatal(err)
	}
	idxFile, err := os.Open(filepath.Join(p.HubBundles, demo.WatchlistID, bundle.IndexFile))
	if err != nil {
		t.Fatal(err)
	}
	idx, err := bundle.ReadIndex(idxFile)
	idxFile.Close()
	if err != nil {
		t.Fatal(err)
	}
	if idx.Latest != 1 || len(idx.Bundles) != 1 {
		t.Fatalf("index: %+v", idx)
	}
	bpath := filepath.Join(p.HubBundles, demo.WatchlistID, idx.Bundles[0].File)
	ctx := context.Background()
	v, err := bundle.Verify(ctx, bpath, nil, bundle.Options{Trust: root, Identities: ids})
	if err != nil {
		t.Fatalf("published bundle: %v", err)
	}
	if !v.Encrypted || v.Header.WatchlistID != cfg.Watchlist.ID || v.Header.Documents != 3002 || v.Header.Persons != 301+int64(wanted(rep.Roles)) {
		t.Errorf("bundle header: %+v (encrypted %v)", v.Header, v.Encrypted)
	}
	runDemoCtl(t, bin, 0, "watchlist", "verify", bpath, "--trust", p.Trust, "--identity", cfg.Watchlist.Identity)

	// The face pipeline as the demo unit's config runs it.
	flip := cfg.Vision.Flip
	rec, err := facepipe.New(facepipe.Options{Embedder: cfg.Vision.Embedder, Model: cfg.Vision.Model, ModelsDir: models,
		Landmarks: cfg.Vision.Landmarks, Flip: &flip, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	// Install it and check every traveller with the face the video shows,
	// at the unit's default bands (a possible face match counts: REFER).
	store, err := watchlist.Open(filepath.Join(tmp, "check.db"), seal.FileKey{Path: p.WatchlistKEK},
		watchlist.Options{Face: watchlist.DefaultFacePolicy(rec.Info().Calibration), FaceMaxDistance: cfg.Policy.FaceSearchDistance, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := bundle.Install(ctx, bpath, store, bundle.Options{Trust: root, Identities: ids}); err != nil {
		t.Fatal(err)
	}
	mf, err := os.Open(p.Travellers)
	if err != nil {
		t.Fatal(err)
	}
	file, err := demo.ReadFile(mf)
	mf.Close()
	if err != nil {
		t.Fatal(err)
	}
	if file.Hold != hold || file.FPS != fps || len(file.Entries) != len(rep.Roles) || len(file.Entries) < 9 {
		t.Fatalf("travellers file: hold %s fps %g, %d entries; manifest has %d", file.Hold, file.FPS, len(file.Entries), len(rep.Roles))
	}
	roles := map[demo.Role]int{}
	for _, r := range rep.Roles {
		roles[r.Role]++
	}
	// Wanted persons only where the unit finds them from another photo: on
	// the labelled photos MobileFaceNet does so for two people.
	if roles[demo.RoleWanted] < 2 || roles[demo.RoleWanted] > 3 || roles[demo.RoleStolen] != 2 || roles[demo.RoleAlias] != 1 || roles[demo.RoleClear] < 3 {
		t.Errorf("roles %v: want 2-3 wanted, 2 stolen, 1 alias, the rest clear", roles)
	}

	video, err := gocv.VideoCaptureFile(p.Video)
	if err != nil {
		t.Fatal(err)
	}
	defer video.Close()
	perTraveller := int(hold.Seconds() * fps)
	if n := int(video.Get(gocv.VideoCaptureFrameCount)); n != perTraveller*len(file.Entries) {
		t.Errorf("video has %d frames, want %d (%d travellers × %d)", n, perTraveller*len(file.Entries), len(file.Entries), perTraveller)
	}
	// Every listed face is another photo of the person than the camera's.
	for _, r := range rep.Roles {
		if r.Role == demo.RoleWanted && (r.Template == "" || r.Template == r.Photo) {
			t.Errorf("traveller %d: listed from %q, camera shows %q: want another photo", r.Index, r.Template, r.Photo)
		}
	}
	frame := gocv.NewMat()
	defer frame.Close()
	for i, e := range file.Entries {
		doc := mrz.Parse(e.Lines, mrz.Options{})
		if !doc.Valid {
			t.Errorf("traveller %d: MRZ does not check: %v", e.Index, doc.Problems)
			continue
		}
		if e.Role != rep.Roles[i].Role || e.Expect() != rep.Roles[i].Expect {
			t.Errorf("traveller %d: file says %s %s, manifest %s %s", e.Index, e.Role, e.Expect(), rep.Roles[i].Role, rep.Roles[i].Expect)
		}
		// The middle frame of the traveller's segment, as the feeder times it.
		video.Set(gocv.VideoCapturePosFrames, float64(i*perTraveller+perTraveller/2))
		if !video.Read(&frame) || frame.Empty() {
			t.Fatalf("traveller %d: cannot read the video frame", e.Index)
		}
		rgb := gocv.NewMat()
		gocv.CvtColor(frame, &rgb, gocv.ColorBGRToRGB)
		img := vision.Image{W: rgb.Cols(), H: rgb.Rows(), Pix: bytes.Clone(rgb.ToBytes())}
		rgb.Close()
		fs, err := rec.Faces(ctx, img)
		if err != nil || !fs[0].Quality.Pass {
			t.Errorf("traveller %d: no usable face in the video (%v)", e.Index, err)
			continue
		}
		res, err := store.Check(ctx, watchlist.Query{Document: doc, Face: fs[0].Descriptor, FaceModelID: rec.ModelID()})
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, h := range res.Hits {
			if !slices.Contains(kinds, h.Kind) {
				kinds = append(kinds, h.Kind)
			}
			if !strings.HasPrefix(h.RefID, "DEMO-") {
				t.Errorf("traveller %d: hit on background record %s", e.Index, h.RefID)
			}
		}
		slices.Sort(kinds)
		if !slices.Equal(kinds, e.Kinds) {
			t.Errorf("traveller %d (%s): hits %v, want %v", e.Index, e.Role, kinds, e.Kinds)
		}
	}

	// A second run reuses the directory, rewriting only the config.
	out, _ = runDemoCtl(t, bin, 0, append(slices.Clone(args[:len(args)-4]), "--listen", "127.0.0.1:18081", "--hub-listen", "127.0.0.1:18444")...)
	var again demoPrepared
	if err := json.Unmarshal([]byte(out), &again); err != nil {
		t.Fatal(err)
	}
	if !again.Reused || again.Bundle.Sequence != 1 {
		t.Errorf("second run: %+v, want the directory reused", again)
	}
	if cfg, err := config.Load(p.Config); err != nil || cfg.Web.Listen != "127.0.0.1:18081" {
		t.Errorf("second run config: %v %v", cfg, err)
	}
	// The same seed gives the same travellers, documents and roles.
	if !testing.Short() {
		dir2 := filepath.Join(tmp, "demo2")
		args2 := slices.Clone(args)
		args2[slices.Index(args2, "--dir")+1] = dir2
		runDemoCtl(t, bin, 0, args2...)
		a, _ := os.ReadFile(p.Travellers)
		b, err := os.ReadFile(demo.PathsOf(dir2).Travellers)
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("two runs with seed 7 wrote different travellers files (%v)", err)
		}
	}

	// Other options need --force.
	_, se := runDemoCtl(t, bin, 2, append(slices.Clone(args), "--seed", "8")...)
	if !strings.Contains(se, "--force") {
		t.Errorf("changed seed without --force: %q", se)
	}
}

// wanted counts the wanted travellers of a prepared demo.
func wanted(roles []demo.Traveller) int {
	n := 0
	for _, r := range roles {
		if r.Role == demo.RoleWanted {
			n++
		}
	}
	return n
}
