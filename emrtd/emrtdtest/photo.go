package emrtdtest

import (
	"bytes"
	"image"
	"image/jpeg"

	"github.com/checkpoint-edge/checkpoint/vision"
)

// PassportPhoto turns a photo file into what an issuer stores in DG2: at
// most 480 pixels wide, JPEG (a chip's photo is 15–40 KB, not a camera's
// megabytes).
func PassportPhoto(t TB, path string) []byte {
	t.Helper()
	img, err := vision.LoadImage(path)
	if err != nil {
		t.Fatal(err)
	}
	step := 1
	for img.W/step > 480 {
		step++
	}
	w, h := img.W/step, img.H/step
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var r, g, b, n int
			for dy := 0; dy < step; dy++ {
				for dx := 0; dx < step; dx++ {
					i := ((y*step+dy)*img.W + x*step + dx) * 3
					r, g, b, n = r+int(img.Pix[i]), g+int(img.Pix[i+1]), b+int(img.Pix[i+2]), n+1
				}
			}
			j := (y*w + x) * 4
			out.Pix[j], out.Pix[j+1], out.Pix[j+2], out.Pix[j+3] = uint8(r/n), uint8(g/n), uint8(b/n), 255
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, out, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
