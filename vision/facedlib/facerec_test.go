package facedlib

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/checkpoint-edge/checkpoint/vision"
	"github.com/checkpoint-edge/checkpoint/vision/visiontest"
)

// idolTests are the 14 single-person photos go-face's own recognition test
// uses, with the expected "name, band" of the reference set.
var idolTests = map[string]string{
	"elkie.jpg":      "Elkie, CLC",
	"chaeyoung.jpg":  "Chaeyoung, Twice",
	"chaeyoung2.jpg": "Chaeyoung, Twice",
	"sejeong.jpg":    "Sejeong, Gugudan",
	"jimin.jpg":      "Jimin, AOA",
	"jimin2.jpg":     "Jimin, AOA",
	"jimin4.jpg":     "Jimin, AOA",
	"meiqi.jpg":      "Mei Qi, WJSN",
	"chaeyeon.jpg":   "Chaeyeon, DIA",
	"chaeyeon3.jpg":  "Chaeyeon, DIA",
	"tzuyu2.jpg":     "Tzuyu, Twice",
	"nayoung.jpg":    "Nayoung, PRISTIN",
	"luda2.jpg":      "Luda, WJSN",
	"joy.jpg":        "Joy, Red Velvet",
}

var (
	sharedOnce sync.Once
	sharedRec  *Recognizer
	sharedErr  error

	photosOnce sync.Once
	photos     map[string][]vision.Face // file name → faces, computed once
	photosErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if sharedRec != nil {
		sharedRec.Close()
	}
	os.Exit(code)
}

// recognizer returns the HOG recognizer shared by the tests: loading the
// models takes about a second.
func recognizer(t testing.TB) *Recognizer {
	t.Helper()
	models := visiontest.Models(t)
	shape := visiontest.ShapePredictor(t)
	sharedOnce.Do(func() {
		sharedRec, sharedErr = New(Options{ModelsDir: models, ShapePredictor: shape})
	})
	if sharedErr != nil {
		t.Fatalf("New: %v", sharedErr)
	}
	return sharedRec
}

// labelledFaces runs the pipeline once over every labelled photo.
func labelledFaces(t testing.TB) (map[string][]vision.Face, []vision.LabelledFile) {
	t.Helper()
	r := recognizer(t)
	dir := visiontest.Faces(t)
	labels, err := vision.ReadLabels(dir)
	if err != nil {
		t.Fatal(err)
	}
	photosOnce.Do(func() {
		photos = map[string][]vision.Face{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		sem := make(chan struct{}, 2)
		for _, lf := range labels {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				img, err := vision.LoadImage(lf.Path)
				var faces []vision.Face
				if err == nil {
					faces, err = r.Faces(context.Background(), img)
					if errors.Is(err, vision.ErrNoFace) {
						err = nil
					}
				}
				mu.Lock()
				defer mu.Unlock()
				if err != nil && photosErr == nil {
					photosErr = fmt.Errorf("%s: %w", filepath.Base(lf.Path), err)
				}
				photos[filepath.Base(lf.Path)] = faces
			}()
		}
		wg.Wait()
	})
	if photosErr != nil {
		t.Fatal(photosErr)
	}
	return photos, labels
}

func TestGroupPhotoYieldsTenFaces(t *testing.T) {
	faces, _ := labelledFaces(t)
	got := faces["pristin.jpg"]
	if len(got) != 10 {
		t.Fatalf("pristin.jpg: %d faces, want 10", len(got))
	}
	r := recognizer(t)
	for i, f := range got {
		if err := vision.CheckDescriptor(f.Descriptor); err != nil {
			t.Errorf("face %d: %v", i, err)
		}
		if len(f.Landmarks) != 68 || f.ModelID != r.ModelID() {
			t.Errorf("face %d: %d landmarks, model %q", i, len(f.Landmarks), f.ModelID)
		}
		if f.Quality.FacesInZone != 10 || f.Quality.Pass || !slices.Contains(f.Quality.Reasons, vision.ReasonSeveralFaces) {
			t.Errorf("face %d: quality %+v, want several_faces flagged", i, f.Quality)
		}
	}
	// The primary face is the one nearest the centre among the faces at
	// least a quarter the size of the largest.
	largest := 0
	for _, f := range got {
		largest = max(largest, area(f))
	}
	img, err := vision.LoadImage(filepath.Join(visiontest.Faces(t), "pristin.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	mid := image.Pt(img.W/2, img.H/2)
	dist := func(f vision.Face) float64 {
		c := image.Pt((f.Box.Min.X+f.Box.Max.X)/2, (f.Box.Min.Y+f.Box.Max.Y)/2).Sub(mid)
		return math.Hypot(float64(c.X), float64(c.Y))
	}
	if 4*area(got[0]) < largest {
		t.Errorf("primary face %v is less than a quarter of the largest", got[0].Box)
	}
	for _, f := range got[1:] {
		if 4*area(f) >= largest && dist(f) < dist(got[0]) {
			t.Errorf("face %v nearer the centre than the primary %v", f.Box, got[0].Box)
		}
	}
}

func area(f vision.Face) int { return f.Box.Dx() * f.Box.Dy() }

func TestSinglePhotosOneFace(t *testing.T) {
	faces, labels := labelledFaces(t)
	found, total := 0, 0
	for _, lf := range labels {
		if lf.Person == "group" {
			continue
		}
		total++
		name := filepath.Base(lf.Path)
		switch n := len(faces[name]); n {
		case 1:
			found++
		case 0:
			// HOG without upsampling misses a strongly turned head; the
			// capture gate would reject such a pose anyway.
			t.Logf("%s: no face found by HOG", name)
		default:
			t.Errorf("%s: %d faces, want 1", name, n)
		}
	}
	t.Logf("one face in %d of %d single-person photos", found, total)
	if found < total-2 {
		t.Errorf("one face in only %d of %d single-person photos", found, total)
	}
}

func TestSamePersonCloserThanDifferent(t *testing.T) {
	faces, labels := labelledFaces(t)
	var samples []vision.Sample
	for _, lf := range labels {
		if f := faces[filepath.Base(lf.Path)]; lf.Person != "group" && len(f) == 1 {
			samples = append(samples, vision.Sample{Label: lf.Person, Descriptor: f[0].Descriptor})
		}
	}
	rep, err := vision.Calibrate(samples, []float32{vision.DefaultThresholds.Verify1to1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	c := rep.All
	t.Logf("%d photos of %d people: genuine pairs %d mean %.3f max %.3f; impostor pairs %d mean %.3f min %.3f; EER %.3f at %.3f",
		c.Samples, c.People, c.GenuinePairs, c.GenuineMean, c.GenuineMax, c.ImpostorPairs, c.ImpostorMean, c.ImpostorMin, c.EER, c.EERThreshold)
	if c.GenuineMean >= c.ImpostorMean-0.03 {
		t.Errorf("genuine mean %.3f not below impostor mean %.3f", c.GenuineMean, c.ImpostorMean)
	}
	r1 := c.Table[0]
	t.Logf("at default 1:1 %.3f: FMR %.4f FNMR %.4f", r1.Threshold, r1.FMR, r1.FNMR)
	if r1.FMR > 0.01 {
		t.Errorf("default 1:1 threshold accepts %.2f%% of impostor pairs", 100*r1.FMR)
	}
}

// knn is go-face's classifier: vote of the 10 nearest reference descriptors.
func knn(refs []vision.Sample, d []float32, k int) (string, float32) {
	type hit struct {
		name string
		dist float32
	}
	hits := make([]hit, len(refs))
	for i, r := range refs {
		hits[i] = hit{r.Label, vision.Distance(r.Descriptor, d)}
	}
	sort.Slice(hits, func(i, j int) bool { return hits[i].dist < hits[j].dist })
	votes := map[string]int{}
	sum := map[string]float32{}
	for _, h := range hits[:k] {
		votes[h.name]++
		sum[h.name] += h.dist
	}
	best := ""
	for n, v := range votes {
		if best == "" || v > votes[best] || (v == votes[best] && sum[n] < sum[best]) {
			best = n
		}
	}
	return best, hits[0].dist
}

func TestRecognitionAgainstReferenceSet(t *testing.T) {
	faces, _ := labelledFaces(t)
	refs, err := visiontest.ReadIdols(filepath.Join(visiontest.Faces(t), "idols.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 1286 {
		t.Fatalf("%d reference descriptors, want 1286", len(refs))
	}
	correct, nearestOK := 0, 0
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range idolTests {
			if !yield(k) {
				return
			}
		}
	})
	for _, file := range names {
		want := idolTests[file]
		f := faces[file]
		if len(f) == 0 {
			t.Errorf("%s: no face", file)
			continue
		}
		got, _ := knn(refs, f[0].Descriptor, 10)
		// Nearest official descriptor of each person; where does the right
		// person rank among the 134?
		nearest := map[string]float32{}
		for _, r := range refs {
			d := vision.Distance(r.Descriptor, f[0].Descriptor)
			if v, ok := nearest[r.Label]; !ok || d < v {
				nearest[r.Label] = d
			}
		}
		same := nearest[want]
		rank := 1
		other := float32(9)
		for n, d := range nearest {
			if n == want {
				continue
			}
			other = min(other, d)
			if d < same {
				rank++
			}
		}
		if rank <= 3 {
			nearestOK++
		}
		if got == want {
			correct++
		}
		t.Logf("%-15s want %-18s knn %-18s nearest same %.3f (rank %d of %d people), nearest other %.3f", file, want, got, same, rank, len(nearest), other)
	}
	t.Logf("10-NN vote: %d/%d correct; right person among the 3 nearest people for %d/%d", correct, len(idolTests), nearestOK, len(idolTests))
	if correct < 13 {
		t.Errorf("10-NN vote named %d of %d photos correctly, want at least 13", correct, len(idolTests))
	}
	if nearestOK < 13 {
		t.Errorf("right person among the 3 nearest for %d of %d photos, want at least 13", nearestOK, len(idolTests))
	}
}

func TestQualityOfLabelledPhotos(t *testing.T) {
	faces, labels := labelledFaces(t)
	pass := 0
	for _, lf := range labels {
		name := filepath.Base(lf.Path)
		f := faces[name]
		if lf.Person == "group" || len(f) != 1 {
			continue
		}
		q := f[0].Quality
		t.Logf("%-15s ied %6.1f sharp %7.1f bright %5.1f contrast %5.1f yaw %6.1f roll %6.1f score %.2f pass %v %v",
			name, q.InterEye, q.Sharpness, q.Brightness, q.Contrast, q.Yaw, q.Roll, q.Score, q.Pass, q.Reasons)
		if q.Pass {
			pass++
		}
		if q.FacesInZone != 1 || q.Score <= 0 || q.Score > 1 {
			t.Errorf("%s: quality %+v", name, q)
		}
	}
	t.Logf("%d photos pass the gate", pass)
	if pass < 20 {
		t.Errorf("only %d studio photos pass the quality gate", pass)
	}
}

func TestErrors(t *testing.T) {
	models := visiontest.Models(t)
	shape := visiontest.ShapePredictor(t)
	tmp := t.TempDir()
	full, err := os.ReadFile(filepath.Join(models, EmbeddingModelFile))
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) string {
		d := filepath.Join(tmp, name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, EmbeddingModelFile), data, 0o644); err != nil {
			t.Fatal(err)
		}
		return d
	}
	garbage := make([]byte, 4096)
	for i := range garbage {
		garbage[i] = byte(i * 7)
	}
	cases := []struct {
		name string
		opts Options
		want string
	}{
		{"missing dir", Options{ModelsDir: filepath.Join(tmp, "nope"), ShapePredictor: shape}, "load embedding model"},
		{"empty model", Options{ModelsDir: write("empty", nil), ShapePredictor: shape}, "empty file"},
		{"truncated model", Options{ModelsDir: write("truncated", full[:len(full)/2]), ShapePredictor: shape}, "embedding model"},
		{"garbage model", Options{ModelsDir: write("garbage", garbage), ShapePredictor: shape}, "embedding model"},
		{"landmarks as embedding model", Options{ModelsDir: write("wrongkind", mustRead(t, shape)[:1<<20]), ShapePredictor: shape}, "embedding model"},
		{"missing landmarks", Options{ModelsDir: models, ShapePredictor: filepath.Join(tmp, "none.dat")}, "landmark model"},
		{"cnn model missing", Options{ModelsDir: write("nocnn", full), ShapePredictor: shape, Detector: DetectorCNN}, "cnn detector model"},
		{"unknown detector", Options{ModelsDir: models, ShapePredictor: shape, Detector: "sift"}, "unknown detector"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := New(tc.opts)
			if err == nil {
				r.Close()
				t.Fatal("New succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "vision: ") {
				t.Fatalf("error %q, want it to mention %q", err, tc.want)
			}
			if tc.name != "unknown detector" && !errors.Is(err, vision.ErrModel) {
				t.Fatalf("error %v does not wrap ErrModel", err)
			}
			t.Log(err)
		})
	}

	r := recognizer(t)
	ctx := context.Background()
	t.Run("no face", func(t *testing.T) {
		img := vision.NewImage(320, 240)
		for i := range img.Pix {
			img.Pix[i] = byte(i / 3 % 251)
		}
		if _, err := r.Faces(ctx, img); !errors.Is(err, vision.ErrNoFace) {
			t.Fatalf("Faces = %v, want ErrNoFace", err)
		}
		faces, err := r.Analyze(ctx, img)
		if err != nil || len(faces) != 0 {
			t.Fatalf("Analyze = %d faces, %v", len(faces), err)
		}
	})
	t.Run("tiny image", func(t *testing.T) {
		if _, err := r.Faces(ctx, vision.NewImage(8, 8)); !errors.Is(err, vision.ErrImageTooSmall) {
			t.Fatalf("err = %v, want ErrImageTooSmall", err)
		}
	})
	t.Run("buffer size mismatch", func(t *testing.T) {
		if _, err := r.Faces(ctx, vision.Image{W: 100, H: 100, Pix: make([]byte, 10)}); !errors.Is(err, vision.ErrImage) {
			t.Fatalf("err = %v, want ErrImage", err)
		}
	})
	t.Run("non-image file", func(t *testing.T) {
		p := filepath.Join(tmp, "notes.jpg")
		os.WriteFile(p, []byte("not a picture"), 0o644)
		if _, err := vision.LoadImage(p); !errors.Is(err, vision.ErrImage) {
			t.Fatalf("err = %v, want ErrImage", err)
		}
	})
	t.Run("chip of wrong size", func(t *testing.T) {
		if _, err := r.Embed(ctx, vision.Face{Chip: vision.NewImage(10, 10)}); !errors.Is(err, vision.ErrImage) {
			t.Fatalf("err = %v, want ErrImage", err)
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		c, cancel := context.WithCancel(ctx)
		cancel()
		// Hold every worker so that the call must wait, then see it give up.
		held := holdAll(t, r.acquire, cap(r.workers))
		_, err := r.Analyze(c, vision.NewImage(100, 100))
		for _, w := range held {
			r.release(w)
		}
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	})
}

func holdAll[W any](t *testing.T, acquire func(context.Context) (W, error), n int) []W {
	var held []W
	for i := 0; i < n; i++ {
		w, err := acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, w)
	}
	return held
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCloseIdempotent(t *testing.T) {
	r, err := New(Options{ModelsDir: visiontest.Models(t), ShapePredictor: visiontest.ShapePredictor(t), Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if r.ModelID() == "" || len(r.ModelID()) != 16 {
		t.Fatalf("model id %q", r.ModelID())
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := r.Faces(context.Background(), vision.NewImage(100, 100)); !errors.Is(err, vision.ErrClosed) {
		t.Fatalf("after Close: %v, want ErrClosed", err)
	}
}
