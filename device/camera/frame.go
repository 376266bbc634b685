package camera

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"gocv.io/x/gocv"

	"github.com/checkpoint-edge/checkpoint/vision"
)

// Frame is one captured picture. It is owned by whoever received it, who
// must Close it: the Mat lives in C memory the Go collector does not see.
type Frame struct {
	Mat gocv.Mat // BGR, 8 bits per channel, as OpenCV delivers it
	Seq uint64   // 1 for the first frame of a Capture, +1 per frame read
	At  time.Time
}

// Close releases the frame's Mat. It is idempotent.
func (f *Frame) Close() error {
	if f == nil || f.Mat.Ptr() == nil {
		return nil
	}
	return f.Mat.Close()
}

// Image converts the frame to packed RGB in Go memory, the form the vision
// package works on. The result does not alias the Mat.
func (f *Frame) Image() (vision.Image, error) {
	return MatToImage(f.Mat)
}

// MatToImage converts an 8-bit BGR (3 channels), BGRA (4) or gray (1) Mat to
// a packed RGB vision.Image in Go memory.
func MatToImage(m gocv.Mat) (vision.Image, error) {
	if m.Ptr() == nil || m.Empty() {
		return vision.Image{}, fmt.Errorf("%w: empty frame", ErrFormat)
	}
	w, h, ch := m.Cols(), m.Rows(), m.Channels()
	switch m.Type() {
	case gocv.MatTypeCV8UC1, gocv.MatTypeCV8UC3, gocv.MatTypeCV8UC4:
	default:
		return vision.Image{}, fmt.Errorf("%w: mat type %v", ErrFormat, m.Type())
	}
	src := m
	if !m.IsContinuous() {
		// A region of a larger Mat: rows are not adjacent in memory.
		src = m.Clone()
		defer src.Close()
	}
	// DataPtrUint8 aliases C memory; it is only read here, before return.
	data, err := src.DataPtrUint8()
	if err != nil {
		return vision.Image{}, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	n := w * h
	if len(data) < n*ch {
		return vision.Image{}, fmt.Errorf("%w: %d bytes for %dx%dx%d", ErrFormat, len(data), w, h, ch)
	}
	pix := make([]byte, n*3)
	switch ch {
	case 3:
		for i, j := 0, 0; i < n*3; i, j = i+3, j+3 {
			s := data[j : j+3 : j+3]
			pix[i], pix[i+1], pix[i+2] = s[2], s[1], s[0]
		}
	case 4:
		for i, j := 0, 0; i < n*3; i, j = i+3, j+4 {
			s := data[j : j+3 : j+3]
			pix[i], pix[i+1], pix[i+2] = s[2], s[1], s[0]
		}
	case 1:
		for i := 0; i < n; i++ {
			v := data[i]
			pix[3*i], pix[3*i+1], pix[3*i+2] = v, v, v
		}
	}
	return vision.Image{W: w, H: h, Pix: pix}, nil
}

// Encode compresses the frame as JPEG or PNG, chosen by the extension of
// name (".jpg", ".jpeg", ".png"); quality applies to JPEG (1–100, 0 for
// OpenCV's default of 95).
func (f *Frame) Encode(name string, quality int) ([]byte, error) {
	return EncodeMat(f.Mat, name, quality)
}

// EncodeMat is Frame.Encode for a bare Mat.
func EncodeMat(m gocv.Mat, name string, quality int) ([]byte, error) {
	if m.Ptr() == nil || m.Empty() {
		return nil, fmt.Errorf("%w: empty frame", ErrFormat)
	}
	var (
		ext    gocv.FileExt
		params []int
	)
	switch strings.ToLower(filepath.Ext(name)) {
	case ".jpg", ".jpeg":
		ext = gocv.JPEGFileExt
		if quality < 0 || quality > 100 {
			return nil, fmt.Errorf("%w: jpeg quality %d not in 1..100", ErrFormat, quality)
		}
		if quality > 0 {
			params = []int{gocv.IMWriteJpegQuality, quality}
		}
	case ".png":
		ext = gocv.PNGFileExt
	default:
		return nil, fmt.Errorf("%w: %q: want .jpg, .jpeg or .png", ErrFormat, filepath.Ext(name))
	}
	var (
		buf *gocv.NativeByteBuffer
		err error
	)
	if len(params) == 0 {
		// IMEncodeWithParams indexes params[0]: it needs at least one.
		buf, err = gocv.IMEncode(ext, m)
	} else {
		buf, err = gocv.IMEncodeWithParams(ext, m, params)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: encode: %w", ErrFormat, err)
	}
	defer buf.Close()
	if buf.Len() == 0 {
		return nil, fmt.Errorf("%w: encoder produced no data", ErrFormat)
	}
	// GetBytes aliases C memory released by Close: copy out.
	return append([]byte(nil), buf.GetBytes()...), nil
}
