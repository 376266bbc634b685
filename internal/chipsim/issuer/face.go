package issuer

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/checkpoint-edge/checkpoint/internal/chipsim/lds"
)

// Image data types of ISO/IEC 19794-5:2005 §5.7.2.
const (
	ImageJPEG     = 0x00
	ImageJPEG2000 = 0x01
)

// FaceImage is the facial image of DG2.
type FaceImage struct {
	// Data is a JPEG (JFIF) file or a JPEG 2000 file (JP2 or a raw J2K
	// codestream).
	Data []byte
	// Sex of the 19794-5 header: "M", "F" or "" (unspecified).
	Sex string
}

// imageInfo finds the format and size of Data.
func imageInfo(data []byte) (kind byte, w, h int, err error) {
	switch {
	case bytes.HasPrefix(data, []byte{0xFF, 0xD8}):
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			return 0, 0, 0, fmt.Errorf("%w: face JPEG: %v", ErrSpec, err)
		}
		return ImageJPEG, cfg.Width, cfg.Height, nil
	case bytes.HasPrefix(data, []byte{0x00, 0x00, 0x00, 0x0C, 'j', 'P', ' ', ' '}):
		w, h, err := jp2Size(data)
		return ImageJPEG2000, w, h, err
	case bytes.HasPrefix(data, []byte{0xFF, 0x4F, 0xFF, 0x51}):
		// J2K codestream: SIZ follows SOC; Xsiz and Ysiz at offsets 8 and 12.
		if len(data) < 20 {
			return 0, 0, 0, fmt.Errorf("%w: truncated J2K codestream", ErrSpec)
		}
		return ImageJPEG2000, int(binary.BigEndian.Uint32(data[8:])), int(binary.BigEndian.Uint32(data[12:])), nil
	}
	return 0, 0, 0, fmt.Errorf("%w: face image is neither JPEG nor JPEG 2000", ErrSpec)
}

// jp2Size reads the image header box (jp2h/ihdr) of a JP2 file.
func jp2Size(data []byte) (int, int, error) {
	var walk func(b []byte) (int, int, bool)
	walk = func(b []byte) (int, int, bool) {
		for len(b) >= 8 {
			l := int(binary.BigEndian.Uint32(b))
			typ := string(b[4:8])
			hdr := 8
			if l == 1 && len(b) >= 16 {
				l, hdr = int(binary.BigEndian.Uint64(b[8:])), 16
			}
			if l == 0 {
				l = len(b)
			}
			if l < hdr || l > len(b) {
				return 0, 0, false
			}
			body := b[hdr:l]
			switch typ {
			case "jp2h":
				if w, h, ok := walk(body); ok {
					return w, h, true
				}
			case "ihdr":
				if len(body) >= 8 {
					return int(binary.BigEndian.Uint32(body[4:])), int(binary.BigEndian.Uint32(body)), true
				}
			}
			b = b[l:]
		}
		return 0, 0, false
	}
	w, h, ok := walk(data)
	if !ok {
		return 0, 0, fmt.Errorf("%w: JP2 without an image header", ErrSpec)
	}
	return w, h, nil
}

// facialRecord is an ISO/IEC 19794-5:2005 record with one image, no
// feature points, frontal pose.
func facialRecord(f FaceImage) ([]byte, error) {
	kind, w, h, err := imageInfo(f.Data)
	if err != nil {
		return nil, err
	}
	if w <= 0 || h <= 0 || w > 0xFFFF || h > 0xFFFF {
		return nil, fmt.Errorf("%w: face of %dx%d pixels", ErrSpec, w, h)
	}
	gender := byte(0) // unspecified
	switch f.Sex {
	case "M":
		gender = 1
	case "F":
		gender = 2
	}
	const infoLen = 20 + 12 // facial information block + image information
	var b bytes.Buffer
	b.WriteString("FAC\x00")
	b.WriteString("010\x00")
	binary.Write(&b, binary.BigEndian, uint32(14+infoLen+len(f.Data))) // record length
	binary.Write(&b, binary.BigEndian, uint16(1))                      // number of facial images
	// Facial information block.
	binary.Write(&b, binary.BigEndian, uint32(infoLen+len(f.Data)))
	binary.Write(&b, binary.BigEndian, uint16(0)) // feature points
	b.WriteByte(gender)
	b.WriteByte(0)                    // eye colour: unspecified
	b.WriteByte(0)                    // hair colour: unspecified
	b.Write([]byte{0, 0, 0})          // feature mask
	b.Write([]byte{0, 1})             // expression: neutral
	b.Write([]byte{0, 0, 0, 0, 0, 0}) // pose angles and uncertainties: unspecified
	// Image information.
	b.WriteByte(1) // face image type: full frontal
	b.WriteByte(kind)
	binary.Write(&b, binary.BigEndian, uint16(w))
	binary.Write(&b, binary.BigEndian, uint16(h))
	b.WriteByte(1)        // colour space: sRGB
	b.WriteByte(2)        // source type: digital camera
	b.Write([]byte{0, 0}) // device type
	b.Write([]byte{0, 0}) // quality: unspecified
	b.Write(f.Data)
	return b.Bytes(), nil
}

// dg2 wraps the facial record in the CBEFF templates of Doc 9303 Part 10
// §4.7.2: 75 { 7F61 { 02 count, 7F60 { A1 header, 5F2E record } } }.
func dg2(f FaceImage, extra []byte) ([]byte, error) {
	rec, err := facialRecord(f)
	if err != nil {
		return nil, err
	}
	header := lds.EncodeTLV(0xA1,
		lds.EncodeTLV(0x80, []byte{0x01, 0x01}), // patron header version 1.1
		lds.EncodeTLV(0x81, []byte{0x02}),       // biometric type: facial features
		lds.EncodeTLV(0x82, []byte{0x00}),       // subtype: none
		lds.EncodeTLV(0x87, []byte{0x01, 0x01}), // format owner: ISO/IEC JTC 1/SC 37
		lds.EncodeTLV(0x88, []byte{0x00, 0x08}), // format type: face image
	)
	bit := lds.EncodeTLV(0x7F60, header, lds.EncodeTLV(0x5F2E, rec))
	group := lds.EncodeTLV(0x7F61, lds.EncodeTLV(0x02, []byte{1}), bit)
	return lds.EncodeTLV(0x75, group, extra), nil
}

// InflateJPEG pads a JPEG with comment segments (valid JPEG, same picture)
// until it is at least size bytes: the oversized DG2 of negative tests.
func InflateJPEG(data []byte, size int) ([]byte, error) {
	if !bytes.HasPrefix(data, []byte{0xFF, 0xD8}) {
		return nil, fmt.Errorf("%w: not a JPEG", ErrSpec)
	}
	out := append([]byte{}, data[:2]...)
	for len(out)+len(data)-2 < size {
		n := min(size-(len(out)+len(data)-2), 0xFFFF-2)
		n = max(n, 1)
		seg := make([]byte, 4+n)
		seg[0], seg[1] = 0xFF, 0xFE
		binary.BigEndian.PutUint16(seg[2:], uint16(n+2))
		for i := range n {
			seg[4+i] = 'x'
		}
		out = append(out, seg...)
	}
	return append(out, data[2:]...), nil
}

// EncodeJPEG2000 encodes img as a JP2 file with opj_compress (Debian
// libopenjp2-tools), lossy at the given compression ratio (0: lossless).
func EncodeJPEG2000(img image.Image, ratio int) ([]byte, error) {
	bin, err := exec.LookPath("opj_compress")
	if err != nil {
		return nil, fmt.Errorf("%w: %v (install libopenjp2-tools)", ErrNoJPEG2000, err)
	}
	dir, err := os.MkdirTemp("", "jp2-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	in, out := filepath.Join(dir, "in.ppm"), filepath.Join(dir, "out.jp2")
	if err := os.WriteFile(in, ppm(img), 0o600); err != nil {
		return nil, err
	}
	args := []string{"-i", in, "-o", out}
	if ratio > 0 {
		args = append(args, "-r", fmt.Sprint(ratio))
	}
	if msg, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%w: %v: %s", ErrNoJPEG2000, err, bytes.TrimSpace(msg))
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return nil, errors.Join(ErrNoJPEG2000, err)
	}
	return b, nil
}

// ppm encodes img as a binary PPM (P6).
func ppm(img image.Image) []byte {
	r := img.Bounds()
	var b bytes.Buffer
	fmt.Fprintf(&b, "P6\n%d %d\n255\n", r.Dx(), r.Dy())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			b.Write([]byte{byte(cr >> 8), byte(cg >> 8), byte(cb >> 8)})
		}
	}
	return b.Bytes()
}
