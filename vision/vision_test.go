package vision

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDistance(t *testing.T) {
	a := make([]float32, DescriptorLen)
	b := make([]float32, DescriptorLen)
	b[0], b[1] = 3, 4
	cases := []struct {
		name string
		a, b []float32
		want float32
	}{
		{"same", a, a, 0},
		{"3-4-5", a, b, 5},
		{"length mismatch", a, b[:10], float32(math.Inf(1))},
		{"empty", nil, nil, float32(math.Inf(1))},
	}
	for _, tc := range cases {
		if got := Distance(tc.a, tc.b); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestCompare(t *testing.T) {
	d := make([]float32, DescriptorLen)
	e := slices.Clone(d)
	e[5] = 0.5
	if got, err := Compare(Face{Descriptor: d, ModelID: "m"}, Face{Descriptor: e, ModelID: "m"}); err != nil || got != 0.5 {
		t.Fatalf("Compare = %v, %v", got, err)
	}
	if _, err := Compare(Face{Descriptor: d, ModelID: "m"}, Face{Descriptor: e, ModelID: "n"}); !errors.Is(err, ErrModelMismatch) {
		t.Fatalf("different models: %v", err)
	}
	nan := slices.Clone(d)
	nan[0] = float32(math.NaN())
	for _, bad := range [][]float32{nil, d[:127], nan} {
		if _, err := Compare(Face{Descriptor: bad}, Face{Descriptor: d}); !errors.Is(err, ErrDescriptor) {
			t.Errorf("bad descriptor %d values: %v", len(bad), err)
		}
	}
}

func TestImageValidate(t *testing.T) {
	cases := []struct {
		img Image
		ok  bool
	}{
		{NewImage(4, 3), true},
		{Image{W: 4, H: 3, Pix: make([]byte, 35)}, false},
		{Image{}, false},
		{Image{W: -1, H: 3}, false},
		{Image{W: 1 << 16, H: 1}, false},
	}
	for i, tc := range cases {
		if err := tc.img.Validate(); (err == nil) != tc.ok {
			t.Errorf("case %d: %v", i, err)
		}
	}
}

// pattern returns a w×h image whose every pixel is distinct enough to tell
// orientations apart.
func pattern(w, h int) Image {
	m := NewImage(w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := (y*w + x) * 3
			m.Pix[i], m.Pix[i+1], m.Pix[i+2] = byte(x), byte(y), byte(x*7+y*13)
		}
	}
	return m
}

func TestOrientRoundTrip(t *testing.T) {
	inverse := map[int]int{1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 8, 7: 7, 8: 6}
	up := pattern(5, 3)
	for o := 1; o <= 8; o++ {
		stored := Orient(up, inverse[o])
		if o >= 5 && (stored.W != 3 || stored.H != 5) {
			t.Errorf("orientation %d: stored %dx%d", o, stored.W, stored.H)
		}
		if got := Orient(stored, o); got.W != up.W || got.H != up.H || !bytes.Equal(got.Pix, up.Pix) {
			t.Errorf("orientation %d does not restore the upright image", o)
		}
	}
	// Orientation 6: the top-left stored pixel ends up top-right.
	got := Orient(up, 6)
	if got.Pix[(0*got.W+got.W-1)*3] != 0 || got.Pix[(0*got.W+got.W-1)*3+1] != 0 {
		t.Error("orientation 6 does not rotate clockwise")
	}
}

func encodeJPEG(t testing.TB, m Image) []byte {
	rgba := image.NewRGBA(image.Rect(0, 0, m.W, m.H))
	for i := 0; i < m.W*m.H; i++ {
		copy(rgba.Pix[i*4:], m.Pix[i*3:i*3+3])
		rgba.Pix[i*4+3] = 255
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, rgba, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func exifSegment(order string, o uint16) []byte {
	var t []byte
	if order == "II" {
		t = []byte{'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, byte(o), byte(o >> 8), 0, 0, 0, 0, 0, 0}
	} else {
		t = []byte{'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, byte(o >> 8), byte(o), 0, 0, 0, 0, 0, 0}
	}
	seg := append([]byte("Exif\x00\x00"), t...)
	n := len(seg) + 2
	return append([]byte{0xFF, 0xE1, byte(n >> 8), byte(n)}, seg...)
}

func withExif(jpg []byte, seg []byte) []byte {
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

var exifCases = []struct {
	name string
	data func(jpg []byte) []byte
	want int
}{
	{"none", func(j []byte) []byte { return j }, 1},
	{"little-endian 6", func(j []byte) []byte { return withExif(j, exifSegment("II", 6)) }, 6},
	{"big-endian 8", func(j []byte) []byte { return withExif(j, exifSegment("MM", 8)) }, 8},
	{"big-endian 3", func(j []byte) []byte { return withExif(j, exifSegment("MM", 3)) }, 3},
	{"out of range", func(j []byte) []byte { return withExif(j, exifSegment("MM", 9)) }, 1},
	{"truncated segment", func(j []byte) []byte { return withExif(j, exifSegment("MM", 6)[:12]) }, 1},
	{"not a jpeg", func(j []byte) []byte { return []byte("GIF89a") }, 1},
}

func TestExifOrientation(t *testing.T) {
	jpg := encodeJPEG(t, pattern(40, 20))
	for _, tc := range exifCases {
		if got := ExifOrientation(tc.data(jpg)); got != tc.want {
			t.Errorf("%s: orientation %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestDecodeImage(t *testing.T) {
	src := pattern(40, 20)
	jpg := encodeJPEG(t, src)
	img, err := DecodeImage(withExif(jpg, exifSegment("II", 6)))
	if err != nil {
		t.Fatal(err)
	}
	if img.W != 20 || img.H != 40 {
		t.Fatalf("orientation 6 gives %dx%d, want 20x40", img.W, img.H)
	}
	// PNG (NRGBA and gray paths) decode exactly.
	nrgba := image.NewNRGBA(image.Rect(0, 0, 3, 2))
	gray := image.NewGray(image.Rect(0, 0, 3, 2))
	for i := 0; i < 6; i++ {
		nrgba.Set(i%3, i/3, color.NRGBA{byte(i * 10), byte(i * 20), byte(i * 30), 255})
		gray.SetGray(i%3, i/3, color.Gray{byte(i * 40)})
	}
	for _, m := range []image.Image{nrgba, gray} {
		var buf bytes.Buffer
		png.Encode(&buf, m)
		got, err := DecodeImage(buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 6; i++ {
			r, g, b, _ := m.At(i%3, i/3).RGBA()
			if p := got.Pix[i*3 : i*3+3]; p[0] != byte(r>>8) || p[1] != byte(g>>8) || p[2] != byte(b>>8) {
				t.Errorf("%T pixel %d: %v", m, i, p)
			}
		}
	}
	bad := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"text", []byte("hello")},
		{"truncated jpeg", jpg[:len(jpg)/3]},
	}
	for _, tc := range bad {
		if _, err := DecodeImage(tc.data); !errors.Is(err, ErrImage) {
			t.Errorf("%s: %v, want ErrImage", tc.name, err)
		}
	}
	if _, err := LoadImage(filepath.Join(t.TempDir(), "none.jpg")); err == nil || !strings.HasPrefix(err.Error(), "vision: ") {
		t.Errorf("missing file: %v", err)
	}
}

func FuzzDecodeImage(f *testing.F) {
	jpg := encodeJPEG(f, pattern(16, 8))
	for _, tc := range exifCases {
		f.Add(tc.data(jpg))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if o := ExifOrientation(data); o < 1 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
		img, err := DecodeImage(data)
		if err != nil {
			if !errors.Is(err, ErrImage) {
				t.Fatalf("error %v does not wrap ErrImage", err)
			}
			return
		}
		if err := img.Validate(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestResize(t *testing.T) {
	m := NewImage(10, 10)
	for i := range m.Pix {
		m.Pix[i] = 200
	}
	r := Resize(m, 4, 3)
	if r.W != 4 || r.H != 3 || r.Validate() != nil {
		t.Fatalf("%dx%d", r.W, r.H)
	}
	for _, v := range r.Pix {
		if v != 200 {
			t.Fatalf("flat image resized to %d", v)
		}
	}
}

// landmarks68 places the 68 iBUG points of a synthetic frontal face, then
// turns the eye line by roll degrees and shifts the nose tip by yawShift of
// the outer-corner distance.
func landmarks68(roll, yawShift float64) []image.Point {
	pts := make([]image.Point, 68)
	for i := range pts {
		pts[i] = image.Pt(200, 260)
	}
	eye := func(cx float64, from int) {
		for k := 0; k < 6; k++ {
			a := float64(k) * math.Pi / 3
			pts[from+k] = image.Pt(int(cx+15*math.Cos(a)), int(200+6*math.Sin(a)))
		}
	}
	eye(160, 36)
	eye(240, 42)
	pts[36] = image.Pt(145, 200)
	pts[45] = image.Pt(255, 200)
	pts[30] = image.Pt(int(200+yawShift*110), 250)
	s, c := math.Sincos(roll * math.Pi / 180)
	for i, p := range pts {
		dx, dy := float64(p.X-200), float64(p.Y-200)
		pts[i] = image.Pt(int(math.Round(200+c*dx-s*dy)), int(math.Round(200+s*dx+c*dy)))
	}
	return pts
}

func TestMeasurePose(t *testing.T) {
	cases := []struct {
		name           string
		roll, yawShift float64
		wantRoll       float64
		yawSign        int
	}{
		{"frontal", 0, 0, 0, 0},
		{"rolled clockwise", 15, 0, 15, 0},
		{"rolled anticlockwise", -20, 0, -20, 0},
		{"nose right", 0, 0.15, 0, 1},
		{"nose left", 0, -0.15, 0, -1},
	}
	for _, tc := range cases {
		q := Measure(image.Rect(130, 150, 270, 320), landmarks68(tc.roll, tc.yawShift), Image{})
		if math.Abs(q.Roll-tc.wantRoll) > 1.5 {
			t.Errorf("%s: roll %.1f, want %.1f", tc.name, q.Roll, tc.wantRoll)
		}
		switch {
		case tc.yawSign == 0 && math.Abs(q.Yaw) > 2,
			tc.yawSign > 0 && q.Yaw < 15,
			tc.yawSign < 0 && q.Yaw > -15:
			t.Errorf("%s: yaw %.1f", tc.name, q.Yaw)
		}
		if math.Abs(q.InterEye-90) > 2 || q.FaceWidth != 140 {
			t.Errorf("%s: inter-eye %.1f width %d", tc.name, q.InterEye, q.FaceWidth)
		}
	}
	// 5-point layout: eye corners and the nose base.
	five := []image.Point{{255, 200}, {225, 200}, {145, 200}, {175, 200}, {200, 250}}
	if q := Measure(image.Rectangle{}, five, Image{}); math.Abs(q.InterEye-80) > 1 || math.Abs(q.Roll) > 1 || math.Abs(q.Yaw) > 1 {
		t.Errorf("5-point: %+v", q)
	}
	if q := Measure(image.Rectangle{}, five[:3], Image{}); q.InterEye != 0 {
		t.Errorf("3 points measured: %+v", q)
	}
}

func TestChipStats(t *testing.T) {
	flat, checker, dark := NewImage(ChipSize, ChipSize), NewImage(ChipSize, ChipSize), NewImage(ChipSize, ChipSize)
	for i := 0; i < ChipSize*ChipSize; i++ {
		x, y := i%ChipSize, i/ChipSize
		v := byte(60)
		if (x/2+y/2)%2 == 0 {
			v = 200
		}
		for c := 0; c < 3; c++ {
			flat.Pix[i*3+c] = 128
			checker.Pix[i*3+c] = v
			dark.Pix[i*3+c] = 3
		}
	}
	qf, qc, qd := Measure(image.Rectangle{}, nil, flat), Measure(image.Rectangle{}, nil, checker), Measure(image.Rectangle{}, nil, dark)
	if qf.Sharpness != 0 || qc.Sharpness < 1000 {
		t.Errorf("sharpness flat %.1f checker %.1f", qf.Sharpness, qc.Sharpness)
	}
	if math.Abs(qf.Brightness-128) > 0.5 || qf.Contrast > 0.01 || math.Abs(qc.Contrast-70) > 1 {
		t.Errorf("flat %+v checker %+v", qf, qc)
	}
	if qd.Underexposed != 1 || qd.Overexposed != 0 {
		t.Errorf("dark chip: under %.2f over %.2f", qd.Underexposed, qd.Overexposed)
	}
}

func goodQuality() Quality {
	return Quality{InterEye: 80, Sharpness: 200, Brightness: 140, Contrast: 45, Yaw: 3, Roll: -2, FacesInZone: 1}
}

func TestEvaluate(t *testing.T) {
	p := DefaultPolicy()
	cases := []struct {
		name   string
		edit   func(q *Quality)
		reason string
	}{
		{"good", func(q *Quality) {}, ""},
		{"small", func(q *Quality) { q.InterEye = 20 }, ReasonTooSmall},
		{"blurred", func(q *Quality) { q.Sharpness = 10 }, ReasonBlurred},
		{"dark", func(q *Quality) { q.Brightness = 30 }, ReasonTooDark},
		{"clipped dark", func(q *Quality) { q.Underexposed = 0.3 }, ReasonTooDark},
		{"bright", func(q *Quality) { q.Brightness = 240 }, ReasonTooBright},
		{"flat", func(q *Quality) { q.Contrast = 5 }, ReasonLowContrast},
		{"turned", func(q *Quality) { q.Yaw = -45 }, ReasonYaw},
		{"turned within the measured limit", func(q *Quality) { q.Yaw = 35 }, ""},
		{"tilted", func(q *Quality) { q.Roll = 30 }, ReasonRoll},
		{"crowd", func(q *Quality) { q.FacesInZone = 2 }, ReasonSeveralFaces},
	}
	base := goodQuality()
	p.Evaluate(&base)
	for _, tc := range cases {
		q := goodQuality()
		tc.edit(&q)
		p.Evaluate(&q)
		if q.Pass != (tc.reason == "") || (tc.reason != "" && !slices.Contains(q.Reasons, tc.reason)) {
			t.Errorf("%s: pass %v reasons %v", tc.name, q.Pass, q.Reasons)
		}
		if q.Score < 0 || q.Score > 1 || (tc.reason != "" && q.Score >= base.Score) {
			t.Errorf("%s: score %.3f (good face %.3f)", tc.name, q.Score, base.Score)
		}
	}
}

func TestSelectPrimary(t *testing.T) {
	mk := func(r image.Rectangle) Face { return Face{Box: r, Quality: goodQuality()} }
	faces := []Face{mk(image.Rect(0, 0, 50, 50)), mk(image.Rect(300, 200, 420, 320)), mk(image.Rect(600, 10, 640, 50))}
	p := DefaultPolicy()
	SelectPrimary(faces, image.Rect(0, 0, 640, 480), p)
	if faces[0].Box != image.Rect(300, 200, 420, 320) {
		t.Fatalf("primary %v, want the largest", faces[0].Box)
	}
	for _, f := range faces {
		if f.Quality.FacesInZone != 3 || f.Quality.Pass {
			t.Errorf("%v: %+v", f.Box, f.Quality)
		}
	}
	// With a capture zone, faces outside are not counted and cannot pass.
	p.Zone = image.Rect(200, 100, 500, 400)
	SelectPrimary(faces, image.Rect(0, 0, 640, 480), p)
	if !faces[0].Quality.Pass || faces[0].Quality.FacesInZone != 1 {
		t.Errorf("zoned primary: %+v", faces[0].Quality)
	}
	for _, f := range faces[1:] {
		if f.Quality.Pass || !slices.Contains(f.Quality.Reasons, ReasonOutsideZone) {
			t.Errorf("%v outside the zone: %+v", f.Box, f.Quality)
		}
	}
}

func TestBurst(t *testing.T) {
	q := func(pass bool, score float64) Face { return Face{Quality: Quality{Pass: pass, Score: score}} }
	var b Burst
	if _, ok := b.Best(); ok {
		t.Fatal("empty burst has a best face")
	}
	steps := []struct {
		f    Face
		best bool
	}{
		{q(false, 0.9), true},
		{q(false, 0.5), false},
		{q(true, 0.4), true}, // passing beats a better-scored failure
		{q(false, 0.99), false},
		{q(true, 0.6), true},
		{q(true, 0.6), false}, // ties keep the earlier face
	}
	for i, s := range steps {
		if got := b.Offer(s.f); got != s.best {
			t.Errorf("step %d: Offer = %v, want %v", i, got, s.best)
		}
	}
	best, _ := b.Best()
	if !best.Quality.Pass || best.Quality.Score != 0.6 || b.Offers() != 6 {
		t.Errorf("best %+v after %d offers", best.Quality, b.Offers())
	}
	b.Reset()
	if _, ok := b.Best(); ok || b.Offers() != 0 {
		t.Error("Reset kept state")
	}
}

// scripted is an Analyzer over precomputed results: Capture's loop logic
// (windows, budgets, early stop, errors) is tested here; facedlib tests it
// with the real pipeline.
type scripted struct {
	results [][]Face
	calls   int
}

func (s *scripted) Analyze(ctx context.Context, img Image) ([]Face, error) {
	s.calls++
	return s.results[(s.calls-1)%len(s.results)], nil
}

func TestCaptureOptions(t *testing.T) {
	face := func(pass bool, score float64) []Face { return []Face{{Quality: Quality{Pass: pass, Score: score}}} }
	frames := func(ctx context.Context) (Image, error) { return NewImage(1, 1), nil }
	a := &scripted{results: [][]Face{face(false, 0.9), nil, face(true, 0.5), face(true, 0.95)}}
	f, st, err := Capture(context.Background(), a, frames, CaptureOptions{MaxFrames: 3})
	if err != nil || st.Frames != 3 || st.Faces != 2 || st.Passed != 1 || f.Quality.Score != 0.5 {
		t.Errorf("MaxFrames: %+v %+v %v", f.Quality, st, err)
	}
	a.calls = 0
	_, st, _ = Capture(context.Background(), a, frames, CaptureOptions{MaxFrames: 100, GoodEnough: 0.9})
	if st.Frames != 4 {
		t.Errorf("GoodEnough stopped after %d frames, want 4", st.Frames)
	}
	// A fake clock advancing 100 ms per reading: a 1 s window sees a bounded number of frames.
	now := time.Unix(0, 0)
	clock := func() time.Time { now = now.Add(100 * time.Millisecond); return now }
	a.calls = 0
	_, st, _ = Capture(context.Background(), a, frames, CaptureOptions{Window: time.Second, Now: clock})
	if st.Frames < 3 || st.Frames > 10 {
		t.Errorf("1 s window at 100 ms per tick: %d frames", st.Frames)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := Capture(ctx, a, frames, CaptureOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	boom := errors.New("camera unplugged")
	if _, _, err := Capture(context.Background(), a, func(context.Context) (Image, error) { return Image{}, boom }, CaptureOptions{}); !errors.Is(err, boom) {
		t.Errorf("source error: %v", err)
	}
}

func TestCalibrate(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	// Two groups of 30 people, 3 photos each: "tight" people are well
	// apart, "crowded" people nearer each other (a worse group).
	var s []Sample
	for _, g := range []struct {
		name   string
		spread float64
	}{{"tight", 1.0}, {"crowded", 0.45}} {
		for p := 0; p < 30; p++ {
			centre := make([]float32, DescriptorLen)
			for i := range centre {
				centre[i] = float32(r.NormFloat64() * g.spread / math.Sqrt(DescriptorLen))
			}
			for k := 0; k < 3; k++ {
				d := make([]float32, DescriptorLen)
				for i := range d {
					d[i] = centre[i] + float32(r.NormFloat64()*0.2/math.Sqrt(DescriptorLen))
				}
				s = append(s, Sample{Label: fmt.Sprintf("p%d", p), Group: g.name, Descriptor: d})
			}
		}
	}
	c, err := Calibrate(s, []float32{0.1, 0.3, 0.5}, 100)
	if err != nil {
		t.Fatal(err)
	}
	// Same label in two groups is two people.
	if c.Samples != 180 || c.People != 60 || c.All.GenuinePairs != 180 || c.All.ImpostorPairs != 180*179/2-180 {
		t.Fatalf("%d samples, %d people, %d genuine, %d impostor", c.Samples, c.People, c.All.GenuinePairs, c.All.ImpostorPairs)
	}
	if len(c.Groups) != 2 || c.Groups[0].Group != "tight" || c.Groups[1].ImpostorMean >= c.Groups[0].ImpostorMean {
		t.Fatalf("groups %+v", c.Groups)
	}
	if len(c.Calibration.Groups) != 2 || c.WorstGroup != "crowded" {
		t.Errorf("worst group %q, tails %d", c.WorstGroup, len(c.Calibration.Groups))
	}
	// The crowded group sets the thresholds: it has the smaller distances.
	dt := c.Calibration.Groups[0].Distance(TargetFMR1to1)
	dc := c.Calibration.Groups[1].Distance(TargetFMR1to1)
	if dc >= dt || c.Recommended.Verify1to1 != dc {
		t.Errorf("1:1: tight %.3f crowded %.3f recommended %.3f", dt, dc, c.Recommended.Verify1to1)
	}
	if c.Recommended.Search1toN >= c.Recommended.Verify1to1 {
		t.Errorf("1:N %.3f not stricter than 1:1 %.3f", c.Recommended.Search1toN, c.Recommended.Verify1to1)
	}
	if len(c.All.Table) != 3 || c.All.Table[0].FMR != 0 || c.All.Table[0].FNMR != 1 {
		t.Errorf("table %+v", c.All.Table)
	}
	if _, err := Calibrate(s[:3], nil, 1); !errors.Is(err, ErrCalibration) {
		t.Errorf("one person: %v", err)
	}
	if _, err := Calibrate([]Sample{{Label: "a", Descriptor: s[0].Descriptor}, {Label: "b", Descriptor: []float32{1}}}, nil, 1); !errors.Is(err, ErrDescriptor) {
		t.Errorf("bad descriptor: %v", err)
	}
}

var labelCases = []struct {
	name  string
	csv   string
	n     int
	wantE bool
}{
	{"header and note", "file,person,note\na.jpg,ann,\nb.jpg,bob,glasses\n", 2, false},
	{"no header", "a.jpg,ann\n", 1, false},
	{"comment", "# made by hand\na.jpg,ann\n", 1, false},
	{"missing person", "file,person\na.jpg,\n", 0, true},
	{"escape", "file,person\n../../etc/passwd,ann\n", 0, true},
	{"absolute", "/etc/passwd,ann\n", 0, true},
	{"empty", "file,person,note\n", 0, true},
	{"bad quoting", "\"a.jpg,ann\n", 0, true},
}

func TestReadLabels(t *testing.T) {
	for _, tc := range labelCases {
		got, err := parseLabels(strings.NewReader(tc.csv), "/d")
		if (err != nil) != tc.wantE || len(got) != tc.n {
			t.Errorf("%s: %d entries, %v", tc.name, len(got), err)
		}
	}
	// Subfolders per person.
	dir := t.TempDir()
	for _, p := range []string{"ann/1.jpg", "ann/2.PNG", "bob/x.jpeg", "bob/notes.txt"} {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755)
		os.WriteFile(filepath.Join(dir, p), []byte("x"), 0o644)
	}
	got, err := ReadLabels(dir)
	if err != nil || len(got) != 3 {
		t.Fatalf("subfolders: %v %v", got, err)
	}
	if _, err := ReadLabels(t.TempDir()); err == nil {
		t.Error("empty dir accepted")
	}
}

func FuzzParseLabels(f *testing.F) {
	for _, tc := range labelCases {
		f.Add(tc.csv)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseLabels(strings.NewReader(s), "/d")
		if err != nil {
			return
		}
		for _, l := range got {
			if l.Person == "" || !strings.HasPrefix(l.Path, "/d/") {
				t.Fatalf("accepted %+v", l)
			}
		}
	})
}

func TestReadGoFaceSet(t *testing.T) {
	dir := t.TempDir()
	good := `{"idols":[{"id":"1","name":"Ann","band_name":"X"}],"faces":[{"descriptor":"` + strings.Repeat("AAAA", 170) + `AAA=","idol_id":"1"}]}`
	cases := []struct {
		name, body string
		ok         bool
	}{
		{"good", good, true},
		{"unknown person", strings.Replace(good, `"idol_id":"1"`, `"idol_id":"2"`, 1), false},
		{"short descriptor", strings.Replace(good, "AAAAAAAA", "", 1), false},
		{"not json", "{", false},
	}
	for _, tc := range cases {
		p := filepath.Join(dir, tc.name+".json")
		os.WriteFile(p, []byte(tc.body), 0o644)
		s, err := ReadGoFaceSet(p)
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.name, err)
		}
		if tc.ok && (len(s) != 1 || s[0].Label != "Ann, X" || len(s[0].Descriptor) != 128) {
			t.Errorf("%s: %+v", tc.name, s)
		}
	}
}

func TestEnrolmentCheck(t *testing.T) {
	p := DefaultEnrolmentPolicy()
	face := func(w int, q Quality) Face {
		return Face{Box: image.Rect(0, 0, w, w), Landmarks: make([]image.Point, 68), Quality: q}
	}
	good := goodQuality()
	cases := []struct {
		name    string
		faces   []Face
		accept  bool
		refused string
		flag    string
	}{
		{"good", []Face{face(200, good)}, true, "", ""},
		{"none", nil, false, EnrolNoFace, ""},
		{"two people", []Face{face(200, good), face(150, good)}, false, EnrolSeveralFaces, ""},
		{"a face on a poster behind", []Face{face(200, good), face(60, good)}, true, "", ""},
		{"tiny", []Face{face(60, func() Quality { q := good; q.InterEye = 20; return q }())}, false, EnrolTinyFace, ""},
		{"small", []Face{face(120, func() Quality { q := good; q.InterEye = 45; return q }())}, true, "", EnrolSmallFace},
		{"blurred", []Face{face(200, func() Quality { q := good; q.Sharpness = 8; return q }())}, false, EnrolBlurred, ""},
		{"turned", []Face{face(200, func() Quality { q := good; q.Yaw = 55; return q }())}, true, "", ReasonYaw},
		{"dark", []Face{face(200, func() Quality { q := good; q.Brightness = 30; return q }())}, true, "", ReasonTooDark},
	}
	for _, tc := range cases {
		v := p.Check(tc.faces)
		if v.Accepted != tc.accept || (tc.refused != "" && !slices.Contains(v.Refused, tc.refused)) || (tc.flag != "" && !slices.Contains(v.Flags, tc.flag)) {
			t.Errorf("%s: %+v (%s)", tc.name, v, v)
		}
	}
}
