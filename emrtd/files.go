package emrtd

import (
	"context"
	"errors"
	"fmt"

	"github.com/checkpoint-edge/checkpoint/emrtd/lds"
	"github.com/checkpoint-edge/checkpoint/emrtd/sm"
	"github.com/checkpoint-edge/checkpoint/emrtd/tlv"
)

// Chunk sizes: 0xDF is the largest plain read whose protected answer
// (padding, DO87, DO99, DO8E) still fits a short response.
const (
	shortChunk     = 0xDF
	longChunk      = 0x0F00 // when the chip takes extended-length APDUs
	maxShortOffset = 0x7FFF
)

// fileRead is the progress of one file: kept across a card removal so
// that the read resumes where it stopped.
type fileRead struct {
	f     lds.File
	data  []byte
	total int // -1 until the header is read
}

// errNotAvailable marks a file the chip does not have or will not give
// (6A82, 6982): normal for optional and access-controlled groups.
var errNotAvailable = errors.New("not available")

// errMalformedFile marks a file whose TLV length runs past its end; what
// was read is kept (its hash then fails passive authentication).
var errMalformedFile = errors.New("malformed file")

// readFile reads (or continues reading) fr.
func (c *conn) readFile(ctx context.Context, fr *fileRead, limit int, extended *bool) error {
	if err := c.selectFile(ctx, fr.f.FID); err != nil {
		if swIs(err, 0x6A82, 0x6982, 0x6A86) {
			return fmt.Errorf("%s: %w (%v)", fr.f.Name, errNotAvailable, err)
		}
		return fmt.Errorf("%s: %w", fr.f.Name, err)
	}
	if fr.total < 0 {
		hdr, err := c.readBinary(ctx, 0, 6, false)
		if err != nil {
			if swIs(err, 0x6982) {
				return fmt.Errorf("%s: %w (%v)", fr.f.Name, errNotAvailable, err)
			}
			return fmt.Errorf("%s: %w", fr.f.Name, err)
		}
		if len(hdr) < 2 {
			return fmt.Errorf("%s: %w: file shorter than a TLV header", fr.f.Name, ErrProtocol)
		}
		_, total, err := tlv.Length(hdr)
		if err != nil {
			return fmt.Errorf("%s: %w: %w", fr.f.Name, ErrProtocol, err)
		}
		if total > limit {
			return fmt.Errorf("%s: %w: %d bytes announced, limit %d", fr.f.Name, ErrTooLarge, total, limit)
		}
		fr.total = total
		if len(hdr) > total {
			hdr = hdr[:total]
		}
		fr.data = append(make([]byte, 0, total), hdr...)
	}
	for len(fr.data) < fr.total {
		want := fr.total - len(fr.data)
		chunk := shortChunk
		if *extended {
			chunk = longChunk
		}
		if want > chunk {
			want = chunk
		}
		b, err := c.readBinary(ctx, len(fr.data), want, *extended)
		if err != nil && *extended && swIs(err, 0x6700, 0x6D00, 0x6E00, 0x6A86) {
			*extended = false // the chip does not take extended APDUs
			continue
		}
		if (err != nil && swIs(err, 0x6B00, 0x6282)) || (err == nil && len(b) == 0) {
			// The file ends before its header says: malformed length.
			return fmt.Errorf("%s: %w: the file ends at byte %d of the %d its header announces", fr.f.Name, errMalformedFile, len(fr.data), fr.total)
		}
		if err != nil {
			return fmt.Errorf("%s at offset %d: %w", fr.f.Name, len(fr.data), err)
		}
		if len(b) > want {
			b = b[:want]
		}
		fr.data = append(fr.data, b...)
	}
	return nil
}

// readBinary reads n bytes at off: READ BINARY (B0) below 32 KiB, the odd
// instruction (B1, offset in DO54, data in DO53) beyond.
func (c *conn) readBinary(ctx context.Context, off, n int, extended bool) ([]byte, error) {
	if off <= maxShortOffset {
		data, sw, err := c.exchange(ctx, "read binary", sm.Command{INS: 0xB0, P1: byte(off >> 8), P2: byte(off), Ne: n, Extended: extended})
		if err != nil {
			return nil, err
		}
		if sw == 0x9000 || (sw == 0x6282 && len(data) > 0) {
			return data, nil
		}
		return nil, &SWError{Op: "read binary", SW: sw}
	}
	do54 := tlv.Encode(0x54, []byte{byte(off >> 16), byte(off >> 8), byte(off)})
	data, sw, err := c.exchange(ctx, "read binary", sm.Command{INS: 0xB1, Data: do54, Ne: n + 4, Extended: extended})
	if err != nil {
		return nil, err
	}
	if sw != 0x9000 && sw != 0x6282 {
		return nil, &SWError{Op: "read binary", SW: sw}
	}
	t, _, err := tlv.Next(data)
	if err != nil || t.Tag != 0x53 {
		return nil, fmt.Errorf("read binary: %w: answer is not DO53", ErrProtocol)
	}
	return t.Value, nil
}
