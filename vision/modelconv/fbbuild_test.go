package modelconv

import (
	"encoding/binary"
	"math"
)

// A FlatBuffers writer for tests: it lays objects out front to back
// (parents before children, so every reference is a forward, unsigned
// offset) and patches offsets once children are placed. Scalars take four
// bytes except u8.

type fbField struct {
	id   int
	kind byte // 'b' u8, 'i' int32/uint32, 'f' float32, 'r' reference
	i    int64
	f    float32
	ref  fbObj
}

type fbObj interface{ place(w *fbWriter) int }

type fbTable []fbField

type fbVecI32 []int32
type fbVecF32 []float32
type fbBytes []byte
type fbString string
type fbVecTables []fbTable

type fbWriter struct{ b []byte }

func (w *fbWriter) align4() {
	for len(w.b)%4 != 0 {
		w.b = append(w.b, 0)
	}
}

func (w *fbWriter) u32at(pos int, v uint32) { binary.LittleEndian.PutUint32(w.b[pos:], v) }

func (t fbTable) place(w *fbWriter) int {
	w.align4()
	maxID := -1
	for _, f := range t {
		maxID = max(maxID, f.id)
	}
	vtSize := 4 + 2*(maxID+1)
	// Field offsets inside the table: after the 4-byte soffset.
	offs := make([]int, len(t))
	size := 4
	for i, f := range t {
		offs[i] = size
		if f.kind == 'b' {
			size += 4 // keep alignment simple
		} else {
			size += 4
		}
	}
	vt := len(w.b)
	w.b = append(w.b, make([]byte, vtSize)...)
	binary.LittleEndian.PutUint16(w.b[vt:], uint16(vtSize))
	binary.LittleEndian.PutUint16(w.b[vt+2:], uint16(size))
	for i, f := range t {
		binary.LittleEndian.PutUint16(w.b[vt+4+2*f.id:], uint16(offs[i]))
	}
	w.align4()
	tp := len(w.b)
	w.b = append(w.b, make([]byte, size)...)
	w.u32at(tp, uint32(int32(tp-vt)))
	for i, f := range t {
		p := tp + offs[i]
		switch f.kind {
		case 'b':
			w.b[p] = byte(f.i)
		case 'i':
			w.u32at(p, uint32(f.i))
		case 'f':
			w.u32at(p, math.Float32bits(f.f))
		}
	}
	for i, f := range t {
		if f.kind == 'r' {
			p := tp + offs[i]
			c := f.ref.place(w)
			w.u32at(p, uint32(c-p))
		}
	}
	return tp
}

func (v fbVecI32) place(w *fbWriter) int {
	w.align4()
	p := len(w.b)
	w.b = binary.LittleEndian.AppendUint32(w.b, uint32(len(v)))
	for _, x := range v {
		w.b = binary.LittleEndian.AppendUint32(w.b, uint32(x))
	}
	return p
}

func (v fbVecF32) place(w *fbWriter) int {
	w.align4()
	p := len(w.b)
	w.b = binary.LittleEndian.AppendUint32(w.b, uint32(len(v)))
	for _, x := range v {
		w.b = binary.LittleEndian.AppendUint32(w.b, math.Float32bits(x))
	}
	return p
}

func (v fbBytes) place(w *fbWriter) int {
	w.align4()
	p := len(w.b)
	w.b = binary.LittleEndian.AppendUint32(w.b, uint32(len(v)))
	w.b = append(w.b, v...)
	return p
}

func (s fbString) place(w *fbWriter) int {
	p := fbBytes(s).place(w)
	w.b = append(w.b, 0)
	return p
}

func (v fbVecTables) place(w *fbWriter) int {
	w.align4()
	p := len(w.b)
	w.b = binary.LittleEndian.AppendUint32(w.b, uint32(len(v)))
	slots := len(w.b)
	w.b = append(w.b, make([]byte, 4*len(v))...)
	for i, t := range v {
		c := t.place(w)
		s := slots + 4*i
		w.u32at(s, uint32(c-s))
	}
	return p
}

// fbFile writes a file with identifier ident and root table root.
func fbFile(ident string, root fbTable) []byte {
	w := &fbWriter{b: make([]byte, 8)}
	copy(w.b[4:], ident)
	r := root.place(w)
	w.u32at(0, uint32(r))
	return w.b
}

func fI(id int, v int64) fbField     { return fbField{id: id, kind: 'i', i: v} }
func fB(id int, v int64) fbField     { return fbField{id: id, kind: 'b', i: v} }
func fR(id int, o fbObj) fbField     { return fbField{id: id, kind: 'r', ref: o} }
func fF(id int, v float32) fbField   { return fbField{id: id, kind: 'f', f: v} }
func floatBytes(v []float32) fbBytes { return fbBytes(f32le(v)) }

func f32le(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func i32le(v []int32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(x))
	}
	return b
}

// tfModel describes a synthetic TFLite model for tests.
type tfModel struct {
	tensors []tfT
	ops     []tfO
	inputs  []int32
	outputs []int32
}

type tfT struct {
	name  string
	shape []int32
	typ   int64
	data  []byte // nil for activations
}

type tfO struct {
	code    int32
	inputs  []int32
	outputs []int32
	optType int64
	opts    fbTable
}

// build serialises the model: opcodes are collected in order of first use,
// buffer 0 is the empty sentinel.
func (m tfModel) build() []byte {
	var codes []int32
	codeIdx := map[int32]int{}
	buffers := fbVecTables{fbTable{}}
	var tensors fbVecTables
	for _, t := range m.tensors {
		fields := fbTable{fR(0, fbVecI32(t.shape)), fB(1, t.typ), fR(3, fbString(t.name))}
		if t.data != nil {
			fields = append(fields, fI(2, int64(len(buffers))))
			buffers = append(buffers, fbTable{fR(0, fbBytes(t.data))})
		}
		tensors = append(tensors, fields)
	}
	var ops fbVecTables
	for _, o := range m.ops {
		ci, ok := codeIdx[o.code]
		if !ok {
			ci = len(codes)
			codeIdx[o.code] = ci
			codes = append(codes, o.code)
		}
		fields := fbTable{fI(0, int64(ci)), fR(1, fbVecI32(o.inputs)), fR(2, fbVecI32(o.outputs))}
		if o.opts != nil {
			fields = append(fields, fB(3, o.optType), fR(4, o.opts))
		}
		ops = append(ops, fields)
	}
	var opcodes fbVecTables
	for _, c := range codes {
		dep := int64(c)
		if c > 127 {
			dep = 127
		}
		opcodes = append(opcodes, fbTable{fB(0, dep), fI(3, int64(c))})
	}
	sg := fbTable{fR(0, tensors), fR(1, fbVecI32(m.inputs)), fR(2, fbVecI32(m.outputs)), fR(3, ops)}
	root := fbTable{fI(0, 3), fR(1, opcodes), fR(2, fbVecTables{sg}), fR(3, fbString("synthetic")), fR(4, buffers)}
	return fbFile("TFL3", root)
}
