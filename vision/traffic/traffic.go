// Package traffic keeps, per face search at a unit, only what shows how the
// thresholds behave on the real population passing the post: the best
// (top-1) distance, the number of templates searched and the bands in
// force, with the hour. No identity, no image, no embedding: almost every
// traveller is not on the list, so the share of searches whose top-1 falls
// within a band is a direct estimate of that band's false-positive
// identification rate (`checkpointctl vision traffic`).
//
// The log is a fixed-size ring file (0600): a header and Capacity records
// of 20 bytes; the oldest record is overwritten first, so the file never
// grows. A Log is safe for concurrent use; Close it.
package traffic

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sync"
	"time"
)

// Record is one face search.
type Record struct {
	At       time.Time // truncated to the hour
	Top1     float32   // +Inf when the watchlist held no template
	Gallery  int       // templates searched
	Hit      float32   // the default bands in force
	Possible float32
}

// FileName is the traffic file's name in the unit's state directory.
const FileName = "face-traffic"

// ErrFormat is returned when a traffic file is not one, or is damaged.
var ErrFormat = errors.New("traffic: not a face traffic file")

const (
	magic      = "CPFT"
	version    = 1
	headerSize = 32
	recordSize = 20
	// DefaultCapacity keeps about 100,000 searches (2 MB).
	DefaultCapacity = 100_000
	maxCapacity     = 10_000_000
)

// Log is an open traffic file.
type Log struct {
	mu       sync.Mutex
	f        *os.File
	capacity uint32
	next     uint32 // slot the next record goes to
	count    uint32 // records held (≤ capacity)
}

type header struct {
	capacity, next, count uint32
}

func (h header) encode() []byte {
	b := make([]byte, headerSize)
	copy(b, magic)
	binary.LittleEndian.PutUint32(b[4:], version)
	binary.LittleEndian.PutUint32(b[8:], h.capacity)
	binary.LittleEndian.PutUint32(b[12:], h.next)
	binary.LittleEndian.PutUint32(b[16:], h.count)
	return b
}

func parseHeader(b []byte, size int64) (header, error) {
	var h header
	if len(b) < headerSize || string(b[:4]) != magic {
		return h, ErrFormat
	}
	if v := binary.LittleEndian.Uint32(b[4:]); v != version {
		return h, fmt.Errorf("%w: version %d", ErrFormat, v)
	}
	h.capacity = binary.LittleEndian.Uint32(b[8:])
	h.next = binary.LittleEndian.Uint32(b[12:])
	h.count = binary.LittleEndian.Uint32(b[16:])
	if h.capacity == 0 || h.capacity > maxCapacity || h.next >= h.capacity || h.count > h.capacity {
		return h, fmt.Errorf("%w: header %+v", ErrFormat, h)
	}
	if size >= 0 && size != headerSize+int64(h.capacity)*recordSize {
		return h, fmt.Errorf("%w: %d bytes for %d records", ErrFormat, size, h.capacity)
	}
	return h, nil
}

// Open opens the traffic file at path, creating it (0600) with room for
// capacity records (0 = DefaultCapacity) when it does not exist. An
// existing file keeps its own capacity. A damaged file is an ErrFormat:
// the caller may remove it and start over (it is only statistics).
func Open(path string, capacity int) (*Log, error) {
	if capacity <= 0 {
		capacity = DefaultCapacity
	}
	if capacity > maxCapacity {
		return nil, fmt.Errorf("traffic: capacity %d over %d", capacity, maxCapacity)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("traffic: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("traffic: %w", err)
	}
	l := &Log{f: f}
	if st.Size() == 0 {
		h := header{capacity: uint32(capacity)}
		if err := f.Truncate(headerSize + int64(capacity)*recordSize); err == nil {
			_, err = f.WriteAt(h.encode(), 0)
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("traffic: %w", err)
		}
		l.capacity = h.capacity
		return l, nil
	}
	b := make([]byte, headerSize)
	if _, err := f.ReadAt(b, 0); err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	h, err := parseHeader(b, st.Size())
	if err != nil {
		f.Close()
		return nil, err
	}
	l.capacity, l.next, l.count = h.capacity, h.next, h.count
	return l, nil
}

func encodeRecord(r Record) []byte {
	b := make([]byte, recordSize)
	hours := r.At.Unix() / 3600
	binary.LittleEndian.PutUint32(b[0:], uint32(max(hours, 0)))
	binary.LittleEndian.PutUint32(b[4:], math.Float32bits(r.Top1))
	binary.LittleEndian.PutUint32(b[8:], uint32(min(max(r.Gallery, 0), math.MaxUint32)))
	binary.LittleEndian.PutUint32(b[12:], math.Float32bits(r.Hit))
	binary.LittleEndian.PutUint32(b[16:], math.Float32bits(r.Possible))
	return b
}

func decodeRecord(b []byte) Record {
	return Record{
		At:       time.Unix(int64(binary.LittleEndian.Uint32(b[0:]))*3600, 0).UTC(),
		Top1:     math.Float32frombits(binary.LittleEndian.Uint32(b[4:])),
		Gallery:  int(binary.LittleEndian.Uint32(b[8:])),
		Hit:      math.Float32frombits(binary.LittleEndian.Uint32(b[12:])),
		Possible: math.Float32frombits(binary.LittleEndian.Uint32(b[16:])),
	}
}

// Append records one search, overwriting the oldest when the ring is full.
// It does not fsync: losing the last records to a power cut costs nothing.
func (l *Log) Append(r Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return os.ErrClosed
	}
	if _, err := l.f.WriteAt(encodeRecord(r), headerSize+int64(l.next)*recordSize); err != nil {
		return fmt.Errorf("traffic: %w", err)
	}
	l.next = (l.next + 1) % l.capacity
	l.count = min(l.count+1, l.capacity)
	if _, err := l.f.WriteAt(header{l.capacity, l.next, l.count}.encode(), 0); err != nil {
		return fmt.Errorf("traffic: %w", err)
	}
	return nil
}

// Close closes the file; it is idempotent.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

// Read returns the records of a traffic file, oldest first.
func Read(path string) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("traffic: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("traffic: %w", err)
	}
	if st.Size() > headerSize+int64(maxCapacity)*recordSize {
		return nil, fmt.Errorf("%w: %d bytes", ErrFormat, st.Size())
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("traffic: %w", err)
	}
	return Parse(b)
}

// Parse decodes a traffic file's bytes, oldest record first.
func Parse(b []byte) ([]Record, error) {
	h, err := parseHeader(b, int64(len(b)))
	if err != nil {
		return nil, err
	}
	out := make([]Record, 0, h.count)
	start := (h.next + h.capacity - h.count) % h.capacity
	for i := uint32(0); i < h.count; i++ {
		slot := (start + i) % h.capacity
		o := headerSize + int(slot)*recordSize
		out = append(out, decodeRecord(b[o:o+recordSize]))
	}
	return out, nil
}
