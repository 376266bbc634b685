package modelconv

import (
	"encoding/binary"
	"fmt"
	"math"
)

// fb is a read-only view of a FlatBuffers buffer. Every access is bounds
// checked: a truncated or crafted file yields ErrFormat, never a panic or an
// out-of-range read. Offsets follow the FlatBuffers binary format: a table
// starts with a signed offset back to its vtable; the vtable lists, per field,
// the field's offset inside the table (0 = absent, default applies);
// references to tables, vectors and strings are unsigned offsets relative to
// where they are stored.
type fb struct {
	b []byte
}

// table is a table's position in the buffer and its vtable.
type table struct {
	buf    *fb
	pos    int
	vt     int // vtable position
	vtSize int // bytes, including the two header fields
	tSize  int
}

func (f *fb) u8(off int) (uint8, error) {
	if off < 0 || off+1 > len(f.b) {
		return 0, fmt.Errorf("%w: read at %d beyond %d bytes", ErrFormat, off, len(f.b))
	}
	return f.b[off], nil
}

func (f *fb) u16(off int) (uint16, error) {
	if off < 0 || off+2 > len(f.b) {
		return 0, fmt.Errorf("%w: read at %d beyond %d bytes", ErrFormat, off, len(f.b))
	}
	return binary.LittleEndian.Uint16(f.b[off:]), nil
}

func (f *fb) u32(off int) (uint32, error) {
	if off < 0 || off+4 > len(f.b) {
		return 0, fmt.Errorf("%w: read at %d beyond %d bytes", ErrFormat, off, len(f.b))
	}
	return binary.LittleEndian.Uint32(f.b[off:]), nil
}

func (f *fb) u64(off int) (uint64, error) {
	if off < 0 || off+8 > len(f.b) {
		return 0, fmt.Errorf("%w: read at %d beyond %d bytes", ErrFormat, off, len(f.b))
	}
	return binary.LittleEndian.Uint64(f.b[off:]), nil
}

// deref follows the unsigned offset stored at off.
func (f *fb) deref(off int) (int, error) {
	v, err := f.u32(off)
	if err != nil {
		return 0, err
	}
	to := off + int(v)
	if v > math.MaxInt32 || to >= len(f.b) {
		return 0, fmt.Errorf("%w: offset %d at %d points outside the file", ErrFormat, v, off)
	}
	return to, nil
}

// tableAt reads the table at pos.
func (f *fb) tableAt(pos int) (table, error) {
	so, err := f.u32(pos)
	if err != nil {
		return table{}, err
	}
	vt := pos - int(int32(so))
	vs, err := f.u16(vt)
	if err != nil {
		return table{}, err
	}
	ts, err := f.u16(vt + 2)
	if err != nil {
		return table{}, err
	}
	if vs < 4 || vs%2 != 0 || vt+int(vs) > len(f.b) || pos+int(ts) > len(f.b) {
		return table{}, fmt.Errorf("%w: bad vtable at %d", ErrFormat, vt)
	}
	return table{buf: f, pos: pos, vt: vt, vtSize: int(vs), tSize: int(ts)}, nil
}

// root is the buffer's root table.
func (f *fb) root() (table, error) {
	p, err := f.deref(0)
	if err != nil {
		return table{}, err
	}
	return f.tableAt(p)
}

// field returns the absolute position of field id, or -1 when absent.
func (t table) field(id int) (int, error) {
	slot := 4 + 2*id
	if slot+2 > t.vtSize {
		return -1, nil
	}
	o, err := t.buf.u16(t.vt + slot)
	if err != nil {
		return -1, err
	}
	if o == 0 {
		return -1, nil
	}
	if int(o) >= t.tSize {
		return -1, fmt.Errorf("%w: field %d outside its table", ErrFormat, id)
	}
	return t.pos + int(o), nil
}

func (t table) u8(id int, def uint8) (uint8, error) {
	p, err := t.field(id)
	if err != nil || p < 0 {
		return def, err
	}
	return t.buf.u8(p)
}

func (t table) i32(id int, def int32) (int32, error) {
	p, err := t.field(id)
	if err != nil || p < 0 {
		return def, err
	}
	v, err := t.buf.u32(p)
	return int32(v), err
}

func (t table) u32(id int, def uint32) (uint32, error) {
	p, err := t.field(id)
	if err != nil || p < 0 {
		return def, err
	}
	return t.buf.u32(p)
}

func (t table) u64(id int, def uint64) (uint64, error) {
	p, err := t.field(id)
	if err != nil || p < 0 {
		return def, err
	}
	return t.buf.u64(p)
}

func (t table) f32(id int, def float32) (float32, error) {
	p, err := t.field(id)
	if err != nil || p < 0 {
		return def, err
	}
	v, err := t.buf.u32(p)
	return math.Float32frombits(v), err
}

func (t table) bool(id int, def bool) (bool, error) {
	d := uint8(0)
	if def {
		d = 1
	}
	v, err := t.u8(id, d)
	return v != 0, err
}

// vector returns the position of the first element and the length of the
// vector in field id (0, 0 when absent). elem is the element size, used to
// check that the whole vector lies inside the buffer.
func (t table) vector(id, elem int) (int, int, error) {
	p, err := t.field(id)
	if err != nil || p < 0 {
		return 0, 0, err
	}
	vp, err := t.buf.deref(p)
	if err != nil {
		return 0, 0, err
	}
	n, err := t.buf.u32(vp)
	if err != nil {
		return 0, 0, err
	}
	start := vp + 4
	if uint64(n)*uint64(elem) > uint64(len(t.buf.b)-start) {
		return 0, 0, fmt.Errorf("%w: vector of %d elements at %d runs past the end", ErrFormat, n, vp)
	}
	return start, int(n), nil
}

func (t table) bytes(id int) ([]byte, error) {
	s, n, err := t.vector(id, 1)
	if err != nil || n == 0 {
		return nil, err
	}
	return t.buf.b[s : s+n], nil
}

func (t table) str(id int) (string, error) {
	b, err := t.bytes(id)
	return string(b), err
}

func (t table) i32s(id int) ([]int32, error) {
	s, n, err := t.vector(id, 4)
	if err != nil || n == 0 {
		return nil, err
	}
	out := make([]int32, n)
	for i := range out {
		out[i] = int32(binary.LittleEndian.Uint32(t.buf.b[s+4*i:]))
	}
	return out, nil
}

func (t table) f32s(id int) ([]float32, error) {
	s, n, err := t.vector(id, 4)
	if err != nil || n == 0 {
		return nil, err
	}
	out := make([]float32, n)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.buf.b[s+4*i:]))
	}
	return out, nil
}

// tables returns the tables of a vector of tables.
func (t table) tables(id int) ([]table, error) {
	s, n, err := t.vector(id, 4)
	if err != nil || n == 0 {
		return nil, err
	}
	out := make([]table, n)
	for i := range out {
		p, err := t.buf.deref(s + 4*i)
		if err != nil {
			return nil, err
		}
		if out[i], err = t.buf.tableAt(p); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// sub returns the table in field id; ok is false when absent.
func (t table) sub(id int) (table, bool, error) {
	p, err := t.field(id)
	if err != nil || p < 0 {
		return table{}, false, err
	}
	tp, err := t.buf.deref(p)
	if err != nil {
		return table{}, false, err
	}
	st, err := t.buf.tableAt(tp)
	return st, err == nil, err
}
