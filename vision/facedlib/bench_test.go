package facedlib

import (
	"bufio"
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/checkpoint-edge/checkpoint/vision"
	"github.com/checkpoint-edge/checkpoint/vision/visiontest"
)

// oneWorker is a recognizer with a single worker: the budget is per core.
func oneWorker(b *testing.B) *Recognizer {
	b.Helper()
	r, err := New(Options{ModelsDir: visiontest.Models(b), ShapePredictor: visiontest.ShapePredictor(b), Workers: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.Close() })
	return r
}

// peakRSS reports the process's peak resident set (VmHWM) in MB.
func peakRSS(b *testing.B) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			b.ReportMetric(float64(kb)/1024, "peak-RSS-MB")
		}
	}
}

// BenchmarkFrame is the face budget: detect + landmarks + align + quality +
// embed on one 640×480 frame holding one face, one worker.
func BenchmarkFrame(b *testing.B) {
	r := oneWorker(b)
	img := frame(b, "tzuyu2.jpg")
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		faces, err := r.Faces(ctx, img)
		if err != nil || len(faces) != 1 {
			b.Fatalf("%d faces, %v", len(faces), err)
		}
	}
	peakRSS(b)
}

// BenchmarkEmbedChip is the network alone on one aligned chip.
func BenchmarkEmbedChip(b *testing.B) {
	r := oneWorker(b)
	faces, err := r.Analyze(context.Background(), frame(b, "tzuyu2.jpg"))
	if err != nil || len(faces) != 1 {
		b.Fatalf("%d faces, %v", len(faces), err)
	}
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if _, err := r.Embed(ctx, faces[0]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCaptureLoop runs the quality-gated capture loop (detect +
// landmarks + align + quality, no embedding) over 640×480 frames of
// several people and reports frames per second on one worker.
func BenchmarkCaptureLoop(b *testing.B) {
	r := oneWorker(b)
	var frames []vision.Image
	for _, n := range []string{"tzuyu2.jpg", "joy.jpg", "seulgi.jpg", "rena.jpg", "yujin.jpg"} {
		frames = append(frames, frame(b, n))
	}
	i := 0
	next := func(ctx context.Context) (vision.Image, error) {
		i++
		return frames[i%len(frames)], nil
	}
	b.ResetTimer()
	_, st, err := vision.Capture(context.Background(), r, next, vision.CaptureOptions{MaxFrames: b.N})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(st.Frames)/b.Elapsed().Seconds(), "frames/s")
	if st.Faces != st.Frames {
		b.Errorf("faces in %d of %d frames", st.Faces, st.Frames)
	}
}

// BenchmarkLoadModels is the start-up cost, with the peak RSS of a process
// holding one recognizer of two workers.
func BenchmarkLoadModels(b *testing.B) {
	models, shape := visiontest.Models(b), visiontest.ShapePredictor(b)
	for b.Loop() {
		r, err := New(Options{ModelsDir: models, ShapePredictor: shape, Workers: 2})
		if err != nil {
			b.Fatal(err)
		}
		r.Close()
	}
	peakRSS(b)
}
