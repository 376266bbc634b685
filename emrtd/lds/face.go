package lds

import (
	"encoding/binary"
	"fmt"

	"github.com/checkpoint-edge/checkpoint/emrtd/tlv"
)

// Image formats of a facial image (ISO/IEC 19794-5 image data type).
const (
	FormatJPEG     = "jpeg"
	FormatJPEG2000 = "jpeg2000"
)

// FaceImage is one facial image of DG2.
type FaceImage struct {
	Format        string `json:"format"`
	Width         int    `json:"width"`
	Height        int    `json:"height"`
	Gender        int    `json:"-"`
	FeaturePoints int    `json:"feature_points"`
	ImageType     int    `json:"image_type"` // 0 basic, 1 full frontal, 2 token frontal
	Quality       int    `json:"quality"`
	Data          []byte `json:"-"`
}

// MaxFaces bounds the images read from one DG2.
const MaxFaces = 4

// ParseDG2 parses DG2: a biometric information group template (7F61)
// holding biometric information templates (7F60) whose biometric data
// blocks (5F2E, or 7F2E when encoded) carry ISO/IEC 19794-5 facial records.
func ParseDG2(b []byte) ([]FaceImage, error) {
	t, err := tlv.Parse(b)
	if err != nil || t.Tag != 0x75 {
		return nil, fmt.Errorf("%w: DG2: %v", ErrFormat, errOrTag(err, t.Tag))
	}
	grp, ok, err := tlv.Find(t.Value, 0x7F61)
	if err != nil || !ok {
		return nil, fmt.Errorf("%w: DG2 has no biometric group template", ErrFormat)
	}
	els, err := tlv.All(grp.Value)
	if err != nil {
		return nil, fmt.Errorf("%w: DG2: %w", ErrFormat, err)
	}
	var out []FaceImage
	for _, e := range els {
		if e.Tag != 0x7F60 {
			continue
		}
		inner, err := tlv.All(e.Value)
		if err != nil {
			return nil, fmt.Errorf("%w: DG2 template: %w", ErrFormat, err)
		}
		for _, d := range inner {
			if d.Tag != 0x5F2E && d.Tag != 0x7F2E {
				continue
			}
			faces, err := ParseFacialRecord(d.Value)
			if err != nil {
				return nil, err
			}
			out = append(out, faces...)
			if len(out) >= MaxFaces {
				return out[:MaxFaces], nil
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: DG2 holds no facial image", ErrFormat)
	}
	return out, nil
}

// ParseFacialRecord parses an ISO/IEC 19794-5 (2005) facial record.
func ParseFacialRecord(b []byte) ([]FaceImage, error) {
	if len(b) < 14 || string(b[:4]) != "FAC\x00" {
		return nil, fmt.Errorf("%w: not an ISO/IEC 19794-5 facial record", ErrFormat)
	}
	total := int(binary.BigEndian.Uint32(b[8:12]))
	count := int(binary.BigEndian.Uint16(b[12:14]))
	if total > len(b) || total < 14 {
		return nil, fmt.Errorf("%w: facial record length %d for %d bytes", ErrFormat, total, len(b))
	}
	if count == 0 || count > MaxFaces {
		return nil, fmt.Errorf("%w: %d facial images", ErrFormat, count)
	}
	rest := b[14:total]
	var out []FaceImage
	for i := 0; i < count; i++ {
		if len(rest) < 20 {
			return nil, fmt.Errorf("%w: facial image %d truncated", ErrFormat, i)
		}
		blk := int(binary.BigEndian.Uint32(rest[0:4]))
		if blk < 32 || blk > len(rest) {
			return nil, fmt.Errorf("%w: facial image block of %d bytes (%d left)", ErrFormat, blk, len(rest))
		}
		fp := int(binary.BigEndian.Uint16(rest[4:6]))
		img := FaceImage{Gender: int(rest[6]), FeaturePoints: fp}
		off := 20 + 8*fp
		if off+12 > blk {
			return nil, fmt.Errorf("%w: %d feature points overrun the block", ErrFormat, fp)
		}
		info := rest[off : off+12]
		img.ImageType = int(info[0])
		switch info[1] {
		case 0:
			img.Format = FormatJPEG
		case 1:
			img.Format = FormatJPEG2000
		default:
			return nil, fmt.Errorf("%w: image data type %d", ErrFormat, info[1])
		}
		img.Width = int(binary.BigEndian.Uint16(info[2:4]))
		img.Height = int(binary.BigEndian.Uint16(info[4:6]))
		img.Quality = int(binary.BigEndian.Uint16(info[10:12]))
		img.Data = rest[off+12 : blk]
		if len(img.Data) == 0 {
			return nil, fmt.Errorf("%w: empty facial image", ErrFormat)
		}
		if got := sniff(img.Data); got != "" && got != img.Format {
			img.Format = got // the header lies; the bytes decide
		}
		out = append(out, img)
		rest = rest[blk:]
	}
	return out, nil
}

// sniff recognises JPEG and JPEG 2000 (codestream or JP2 file) bytes.
func sniff(b []byte) string {
	switch {
	case len(b) >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF:
		return FormatJPEG
	case len(b) >= 4 && b[0] == 0xFF && b[1] == 0x4F && b[2] == 0xFF && b[3] == 0x51:
		return FormatJPEG2000
	case len(b) >= 12 && string(b[4:8]) == "jP  ":
		return FormatJPEG2000
	}
	return ""
}

// EncodeFacialRecord builds a one-image ISO/IEC 19794-5 record and its DG2
// (used by tests and the demo to make documents; chips are made by
// issuers, not by us).
func EncodeFacialRecord(img FaceImage) []byte {
	blk := 20 + 12 + len(img.Data)
	rec := make([]byte, 14, 14+blk)
	copy(rec, "FAC\x00010\x00")
	binary.BigEndian.PutUint32(rec[8:], uint32(14+blk))
	binary.BigEndian.PutUint16(rec[12:], 1)
	fr := make([]byte, 20)
	binary.BigEndian.PutUint32(fr, uint32(blk))
	rec = append(rec, fr...)
	info := make([]byte, 12)
	info[0] = byte(img.ImageType)
	if img.Format == FormatJPEG2000 {
		info[1] = 1
	}
	binary.BigEndian.PutUint16(info[2:], uint16(img.Width))
	binary.BigEndian.PutUint16(info[4:], uint16(img.Height))
	rec = append(rec, info...)
	return append(rec, img.Data...)
}

// EncodeDG2 wraps a facial record in DG2's templates.
func EncodeDG2(record []byte) []byte {
	bht := tlv.Encode(0xA1, tlv.Encode(0x80, []byte{1, 1}), tlv.Encode(0x81, []byte{2}), tlv.Encode(0x87, []byte{1, 1}), tlv.Encode(0x88, []byte{0, 8}))
	bit := tlv.Encode(0x7F60, bht, tlv.Encode(0x5F2E, record))
	return tlv.Encode(0x75, tlv.Encode(0x7F61, tlv.Encode(0x02, []byte{1}), bit))
}
