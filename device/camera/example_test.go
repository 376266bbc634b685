package camera_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"gocv.io/x/gocv"

	"github.com/checkpoint-edge/checkpoint/device/camera"
	"github.com/checkpoint-edge/checkpoint/device/camera/cameratest"
)

// A consumer runs the capture in its own goroutine and asks for frames newer
// than the last one it handled; every frame it receives is its own to Close.
func Example() {
	dir, _ := os.MkdirTemp("", "camera-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "recording.avi")
	frame := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(0, 128, 255, 0), 240, 320, gocv.MatTypeCV8UC3)
	frames := []gocv.Mat{frame, frame, frame, frame, frame}
	err := cameratest.WriteVideo(path, frames, 50)
	frame.Close()
	if err != nil {
		fmt.Println(err)
		return
	}

	// On the desk: camera.Config{Device: "/dev/video0", Width: 640, Height: 480, FPS: 30, FourCC: "MJPG"}.
	c, err := camera.Open(camera.Config{Device: path}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go c.Run(ctx)

	var last uint64
	for {
		f, err := c.Next(ctx, last)
		if errors.Is(err, camera.ErrEnded) {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		img, _ := f.Image()
		last = f.Seq
		f.Close()
		if last == 1 {
			// OpenCV's BGR is now RGB: the orange frame has red high, blue low.
			fmt.Printf("first frame %dx%d, orange: %v\n", img.W, img.H, img.Pix[0] > 240 && img.Pix[2] < 15)
		}
	}
	fmt.Println("state:", c.State().Status, "after", c.State().Seq, "frames")
	// Output:
	// first frame 320x240, orange: true
	// state: ended after 5 frames
}
