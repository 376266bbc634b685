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
// (padding, DO87, DO99, DO8E) still fits a short response. Extended reads
// start large (chips answer with what they can give at once) and halve on
// "wrong length" down to minLongChunk before short reads take over.
const (
	shortChunk     = 0xDF
	longChunk      = 0x7F00
	minLongChunk   = 0x400
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

// reading is how the session reads: extended chunk size (0: short reads
// only) and whether the chip takes short file identifiers.
type reading struct {
	chunk int
	noSFI bool
}

func (rd *reading) size() int {
	if rd.chunk == 0 {
		return shortChunk
	}
	return rd.chunk
}

// shrink reacts to a "wrong length" on an extended read.
func (rd *reading) shrink() bool {
	if rd.chunk == 0 {
		return false
	}
	rd.chunk /= 2
	if rd.chunk < minLongChunk {
		rd.chunk = 0
	}
	return true
}

// readFile reads (or continues reading) fr. The first chunk is read by
// short file identifier (READ BINARY with P1 = 80|SFI selects the file
// and reads it in one command) when the chip takes it, else after a
// SELECT; a resumed read selects the file again.
func (c *conn) readFile(ctx context.Context, fr *fileRead, limit int, rd *reading) error {
	unavailable := func(err error) error {
		if swIs(err, 0x6A82, 0x6982, 0x6A86) {
			return fmt.Errorf("%s: %w (%v)", fr.f.Name, errNotAvailable, err)
		}
		return fmt.Errorf("%s: %w", fr.f.Name, err)
	}
	if fr.total < 0 {
		var first []byte
		var err error
		for {
			first, err = c.readFirst(ctx, fr.f, rd)
			if err != nil && swIs(err, 0x6700) && rd.shrink() {
				continue
			}
			break
		}
		if err != nil {
			return unavailable(err)
		}
		if len(first) < 2 {
			return fmt.Errorf("%s: %w: file shorter than a TLV header", fr.f.Name, ErrProtocol)
		}
		_, total, err := tlv.Length(first)
		if err != nil {
			return fmt.Errorf("%s: %w: %w", fr.f.Name, ErrProtocol, err)
		}
		if total > limit {
			return fmt.Errorf("%s: %w: %d bytes announced, limit %d", fr.f.Name, ErrTooLarge, total, limit)
		}
		fr.total = total
		if len(first) > total {
			first = first[:total]
		}
		fr.data = append(make([]byte, 0, total), first...)
	} else if len(fr.data) < fr.total {
		if err := c.selectFile(ctx, fr.f.FID); err != nil {
			return unavailable(err)
		}
	}
	for len(fr.data) < fr.total {
		want := fr.total - len(fr.data)
		if want > rd.size() {
			want = rd.size()
		}
		b, err := c.readBinary(ctx, len(fr.data), want, rd.chunk > 0)
		if err != nil && rd.chunk > 0 && swIs(err, 0x6700, 0x6D00, 0x6E00, 0x6A86) {
			rd.shrink()
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

// readFirst reads the first chunk of a file: by SFI, or SELECT + READ.
func (c *conn) readFirst(ctx context.Context, f lds.File, rd *reading) ([]byte, error) {
	if !rd.noSFI && f.SFI != 0 {
		data, sw, err := c.exchange(ctx, "read binary (SFI)", sm.Command{INS: 0xB0, P1: 0x80 | f.SFI, Ne: rd.size(), Extended: rd.chunk > 0})
		if err != nil {
			return nil, err
		}
		switch {
		case sw == 0x9000 || (sw == 0x6282 && len(data) > 0):
			return data, nil
		case sw == 0x6A82 || sw == 0x6982 || sw == 0x6700:
			return nil, &SWError{Op: "read binary", SW: sw}
		}
		// The chip does not take SFIs (6A86, 6D00, 6981…): select.
		rd.noSFI = true
	}
	if err := c.selectFile(ctx, f.FID); err != nil {
		return nil, err
	}
	return c.readBinary(ctx, 0, rd.size(), rd.chunk > 0)
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
