package vision

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	_ "image/jpeg" // registered decoders: the formats LoadImage accepts
	_ "image/png"
	"os"
)

// maxPixels bounds what LoadImage decodes: a crafted header must not make
// us allocate gigabytes.
const maxPixels = 50_000_000

// LoadImage decodes a JPEG or PNG file into RGB, applying its EXIF
// orientation (dlib's own loader ignores it, so a portrait photo taken
// sideways would otherwise show a face on its side).
func LoadImage(path string) (Image, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Image{}, fmt.Errorf("vision: load image: %w", err)
	}
	img, err := DecodeImage(data)
	if err != nil {
		return Image{}, fmt.Errorf("%w (%s)", err, path)
	}
	return img, nil
}

// DecodeImage decodes JPEG or PNG bytes into RGB, applying EXIF orientation.
func DecodeImage(data []byte) (Image, error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return Image{}, fmt.Errorf("%w: %w", ErrImage, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > maxPixels {
		return Image{}, fmt.Errorf("%w: %dx%d pixels", ErrImage, cfg.Width, cfg.Height)
	}
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return Image{}, fmt.Errorf("%w: %w", ErrImage, err)
	}
	img := FromImage(src)
	if o := ExifOrientation(data); o > 1 {
		img = Orient(img, o)
	}
	return img, nil
}

// FromImage converts any image.Image to packed RGB, with fast paths for the
// types the standard decoders return.
func FromImage(src image.Image) Image {
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	out := NewImage(w, h)
	switch s := src.(type) {
	case *image.YCbCr:
		for y := 0; y < h; y++ {
			o := y * w * 3
			for x := 0; x < w; x++ {
				yi := s.YOffset(b.Min.X+x, b.Min.Y+y)
				ci := s.COffset(b.Min.X+x, b.Min.Y+y)
				r, g, bb := color.YCbCrToRGB(s.Y[yi], s.Cb[ci], s.Cr[ci])
				out.Pix[o], out.Pix[o+1], out.Pix[o+2] = r, g, bb
				o += 3
			}
		}
	case *image.Gray:
		for y := 0; y < h; y++ {
			row := s.Pix[y*s.Stride : y*s.Stride+w]
			o := y * w * 3
			for _, v := range row {
				out.Pix[o], out.Pix[o+1], out.Pix[o+2] = v, v, v
				o += 3
			}
		}
	default:
		rgba, ok := src.(*image.RGBA)
		if !ok {
			// NRGBA, paletted, CMYK, 16-bit: composite onto RGBA once.
			rgba = image.NewRGBA(image.Rect(0, 0, w, h))
			draw.Draw(rgba, rgba.Bounds(), src, b.Min, draw.Src)
		} else if b.Min != (image.Point{}) {
			rgba = rgba.SubImage(b).(*image.RGBA)
		}
		for y := 0; y < h; y++ {
			row := rgba.Pix[y*rgba.Stride : y*rgba.Stride+w*4]
			o := y * w * 3
			for x := 0; x < w; x++ {
				out.Pix[o], out.Pix[o+1], out.Pix[o+2] = row[x*4], row[x*4+1], row[x*4+2]
				o += 3
			}
		}
	}
	return out
}

// ExifOrientation returns the EXIF orientation (1..8) of a JPEG, or 1 when
// there is none or it cannot be read: a damaged EXIF block must not lose the
// picture.
func ExifOrientation(data []byte) int {
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return 1
	}
	i := 2
	for i+4 <= len(data) {
		if data[i] != 0xFF {
			return 1
		}
		marker := data[i+1]
		if marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01 || marker == 0xFF {
			i++
			if marker == 0xFF {
				continue
			}
			i++
			continue
		}
		if marker == 0xDA || marker == 0xD9 { // image data starts: no EXIF before it
			return 1
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			return 1
		}
		seg := data[i+4 : i+2+n]
		if marker == 0xE1 && len(seg) >= 6 && string(seg[:6]) == "Exif\x00\x00" {
			return tiffOrientation(seg[6:])
		}
		i += 2 + n
	}
	return 1
}

func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	if bo.Uint16(t[2:]) != 42 {
		return 1
	}
	off := int(bo.Uint32(t[4:]))
	if off < 8 || off+2 > len(t) {
		return 1
	}
	count := int(bo.Uint16(t[off:]))
	for k := 0; k < count; k++ {
		e := off + 2 + 12*k
		if e+12 > len(t) {
			return 1
		}
		if bo.Uint16(t[e:]) == 0x0112 && bo.Uint16(t[e+2:]) == 3 { // Orientation, SHORT
			v := int(bo.Uint16(t[e+8:]))
			if v >= 1 && v <= 8 {
				return v
			}
			return 1
		}
	}
	return 1
}

// Orient returns img transformed so that EXIF orientation o displays
// upright (o in 1..8; others return img unchanged).
func Orient(img Image, o int) Image {
	if o < 2 || o > 8 {
		return img
	}
	w, h := img.W, img.H
	ow, oh := w, h
	if o >= 5 {
		ow, oh = h, w
	}
	out := NewImage(ow, oh)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var dx, dy int
			switch o {
			case 2: // mirrored horizontally
				dx, dy = w-1-x, y
			case 3: // rotated 180°
				dx, dy = w-1-x, h-1-y
			case 4: // mirrored vertically
				dx, dy = x, h-1-y
			case 5: // transposed
				dx, dy = y, x
			case 6: // rotated 90° clockwise to display
				dx, dy = h-1-y, x
			case 7: // transversed
				dx, dy = h-1-y, w-1-x
			case 8: // rotated 90° counter-clockwise to display
				dx, dy = y, w-1-x
			}
			s, d := (y*w+x)*3, (dy*ow+dx)*3
			copy(out.Pix[d:d+3], img.Pix[s:s+3])
		}
	}
	return out
}

// Resize returns img scaled to w×h by bilinear interpolation (for test
// frames and previews; the detectors work on the original).
func Resize(img Image, w, h int) Image {
	out := NewImage(w, h)
	if img.W == 0 || img.H == 0 {
		return out
	}
	sx, sy := float64(img.W)/float64(w), float64(img.H)/float64(h)
	for y := 0; y < h; y++ {
		fy := (float64(y)+0.5)*sy - 0.5
		y0 := int(fy)
		if fy < 0 {
			y0, fy = 0, 0
		}
		y1 := min(y0+1, img.H-1)
		ay := fy - float64(y0)
		for x := 0; x < w; x++ {
			fx := (float64(x)+0.5)*sx - 0.5
			x0 := int(fx)
			if fx < 0 {
				x0, fx = 0, 0
			}
			x1 := min(x0+1, img.W-1)
			ax := fx - float64(x0)
			for c := 0; c < 3; c++ {
				p00 := float64(img.Pix[(y0*img.W+x0)*3+c])
				p01 := float64(img.Pix[(y0*img.W+x1)*3+c])
				p10 := float64(img.Pix[(y1*img.W+x0)*3+c])
				p11 := float64(img.Pix[(y1*img.W+x1)*3+c])
				v := (p00*(1-ax)+p01*ax)*(1-ay) + (p10*(1-ax)+p11*ax)*ay
				out.Pix[(y*w+x)*3+c] = uint8(v + 0.5)
			}
		}
	}
	return out
}
