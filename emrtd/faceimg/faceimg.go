// Package faceimg decodes the chip's face image (DG2: JPEG or JPEG 2000)
// into the vision package's RGB image, and gives a JPEG of it for the
// officer's browser (browsers do not show JPEG 2000).
//
// JPEG goes through the standard library (vision.DecodeImage); JPEG 2000
// through OpenCV's imgcodecs (gocv.IMDecode), which Debian 12 builds
// against OpenJPEG (libopenjp2-7). gocv is cgo: every Mat made here is
// closed before return.
package faceimg

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"

	"gocv.io/x/gocv"

	"github.com/checkpoint-edge/checkpoint/device/camera"
	"github.com/checkpoint-edge/checkpoint/emrtd/lds"
	"github.com/checkpoint-edge/checkpoint/vision"
)

// ErrImage is returned when the chip's image cannot be decoded.
var ErrImage = errors.New("faceimg: chip face image undecodable")

// MaxPixels bounds a decoded chip photo (ICAO photos are ~0.3 MP).
const MaxPixels = 8_000_000

// Decode decodes a DG2 image.
func Decode(f lds.FaceImage) (vision.Image, error) {
	if f.Width*f.Height > MaxPixels {
		return vision.Image{}, fmt.Errorf("%w: %dx%d announced", ErrImage, f.Width, f.Height)
	}
	if f.Format == lds.FormatJPEG {
		img, err := vision.DecodeImage(f.Data)
		if err != nil {
			return vision.Image{}, fmt.Errorf("%w: %w", ErrImage, err)
		}
		return img, nil
	}
	m, err := gocv.IMDecode(f.Data, gocv.IMReadColor)
	if err != nil {
		return vision.Image{}, fmt.Errorf("%w: %w", ErrImage, err)
	}
	defer m.Close()
	if m.Empty() {
		return vision.Image{}, fmt.Errorf("%w: OpenCV could not decode the %s image", ErrImage, f.Format)
	}
	if m.Cols()*m.Rows() > MaxPixels {
		return vision.Image{}, fmt.Errorf("%w: %dx%d pixels", ErrImage, m.Cols(), m.Rows())
	}
	img, err := camera.MatToImage(m)
	if err != nil {
		return vision.Image{}, fmt.Errorf("%w: %w", ErrImage, err)
	}
	return img, nil
}

// JPEG returns the image as JPEG for display: the chip's own bytes when
// they are JPEG, a re-encoding otherwise.
func JPEG(f lds.FaceImage, img vision.Image) []byte {
	if f.Format == lds.FormatJPEG {
		return f.Data
	}
	if img.Validate() != nil {
		return nil
	}
	rgba := image.NewRGBA(image.Rect(0, 0, img.W, img.H))
	for i, j := 0, 0; i < img.W*img.H*3; i, j = i+3, j+4 {
		rgba.Pix[j], rgba.Pix[j+1], rgba.Pix[j+2], rgba.Pix[j+3] = img.Pix[i], img.Pix[i+1], img.Pix[i+2], 255
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, rgba, &jpeg.Options{Quality: 90}); err != nil {
		return nil
	}
	return buf.Bytes()
}
