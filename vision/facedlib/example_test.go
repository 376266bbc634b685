package facedlib_test

import (
	"context"
	"fmt"

	"github.com/checkpoint-edge/checkpoint/vision"
	"github.com/checkpoint-edge/checkpoint/vision/facedlib"
)

// Verify a traveller's live capture against their document photo.
func Example() {
	rec, err := facedlib.New(facedlib.Options{ModelsDir: "models", Workers: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer rec.Close()
	ctx := context.Background()
	doc, err := vision.LoadImage("document.jpg")
	if err != nil {
		fmt.Println(err)
		return
	}
	ref, err := rec.Faces(ctx, doc)
	if err != nil {
		fmt.Println(err)
		return
	}
	// In the daemon the frames come from device/camera.
	var next vision.FrameSource
	best, _, err := vision.Capture(ctx, rec, next, vision.CaptureOptions{MaxFrames: 30, GoodEnough: 0.85})
	if err != nil {
		fmt.Println(err)
		return
	}
	if best.Descriptor, err = rec.Embed(ctx, best); err != nil {
		fmt.Println(err)
		return
	}
	d, err := vision.Compare(ref[0], best)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("same person:", d <= vision.DefaultThresholds.Verify1to1)
}
