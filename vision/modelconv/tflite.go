package modelconv

import (
	"encoding/binary"
	"fmt"
	"math"
)

// TFLite tensor types (schema TensorType).
const (
	tfFloat32 = 0
	tfFloat16 = 1
	tfInt32   = 2
	tfUint8   = 3
	tfInt64   = 4
	tfInt8    = 9
)

// TFLite builtin operators the converter knows (schema BuiltinOperator).
const (
	opAdd           = 0
	opAveragePool   = 1
	opConcat        = 2
	opConv2D        = 3
	opDepthwiseConv = 4
	opDequantize    = 6
	opFullyConnect  = 9
	opL2Norm        = 11
	opMaxPool       = 17
	opMul           = 18
	opRelu          = 19
	opRelu6         = 21
	opReshape       = 22
	opPad           = 34
	opMean          = 40
	opSub           = 41
	opSqueeze       = 43
	opPRelu         = 54
)

var opNames = map[int32]string{
	opAdd: "ADD", opAveragePool: "AVERAGE_POOL_2D", opConcat: "CONCATENATION", opConv2D: "CONV_2D",
	opDepthwiseConv: "DEPTHWISE_CONV_2D", opDequantize: "DEQUANTIZE", opFullyConnect: "FULLY_CONNECTED",
	opL2Norm: "L2_NORMALIZATION", opMaxPool: "MAX_POOL_2D", opMul: "MUL", opRelu: "RELU", opRelu6: "RELU6",
	opReshape: "RESHAPE", opPad: "PAD", opMean: "MEAN", opSub: "SUB", opSqueeze: "SQUEEZE", opPRelu: "PRELU",
}

// OpName is the schema name of a builtin operator code.
func OpName(code int32) string {
	if n, ok := opNames[code]; ok {
		return n
	}
	return fmt.Sprintf("builtin#%d", code)
}

// TFLite is the part of a TensorFlow Lite model the converter reads: the
// first subgraph's tensors (constants resolved to their buffer bytes) and
// operators in execution order.
type TFLite struct {
	Version     uint32
	Description string
	Tensors     []TFTensor
	Inputs      []int32
	Outputs     []int32
	Ops         []TFOp
}

// TFTensor is one tensor of the graph. Data is nil for activations.
type TFTensor struct {
	Name  string
	Type  int8
	Shape []int32
	Data  []byte // raw little-endian constant bytes (a view into the file)
	// Quantised tensors (scale/zero point) are refused by the converter:
	// the embedding network must be float.
	Quantized bool
}

// TFOp is one operator. Options is the raw options table (nil when the
// operator has none); its interpretation depends on Code.
type TFOp struct {
	Code        int32
	Custom      string
	Inputs      []int32
	Outputs     []int32
	OptionsType uint8
	options     table
	hasOptions  bool
}

// maxTensors and maxOps bound what a crafted file can make us allocate.
const (
	maxTensors = 1 << 16
	maxOps     = 1 << 16
	maxRank    = 8
)

// ReadTFLite parses a TensorFlow Lite flatbuffer. It checks every offset
// and size; anything malformed is an ErrFormat.
func ReadTFLite(data []byte) (*TFLite, error) {
	if len(data) < 8 || string(data[4:8]) != "TFL3" {
		return nil, fmt.Errorf("%w: not a TensorFlow Lite file (no TFL3 identifier)", ErrFormat)
	}
	f := &fb{b: data}
	root, err := f.root()
	if err != nil {
		return nil, err
	}
	m := &TFLite{}
	if m.Version, err = root.u32(0, 0); err != nil {
		return nil, err
	}
	if m.Description, err = root.str(3); err != nil {
		return nil, err
	}
	// Operator codes: builtin_code (field 3, int32) supersedes the
	// deprecated byte (field 0) when it is larger (schema ≥ 2.4).
	codes, err := root.tables(1)
	if err != nil {
		return nil, err
	}
	opcodes := make([]int32, len(codes))
	customs := make([]string, len(codes))
	for i, c := range codes {
		dep, err := c.u8(0, 0)
		if err != nil {
			return nil, err
		}
		bc, err := c.i32(3, 0)
		if err != nil {
			return nil, err
		}
		opcodes[i] = max(int32(int8(dep)), bc)
		if customs[i], err = c.str(1); err != nil {
			return nil, err
		}
	}
	buffers, err := root.tables(4)
	if err != nil {
		return nil, err
	}
	subgraphs, err := root.tables(2)
	if err != nil {
		return nil, err
	}
	if len(subgraphs) == 0 {
		return nil, fmt.Errorf("%w: no subgraph", ErrFormat)
	}
	sg := subgraphs[0]
	tensors, err := sg.tables(0)
	if err != nil {
		return nil, err
	}
	if len(tensors) > maxTensors {
		return nil, fmt.Errorf("%w: %d tensors", ErrFormat, len(tensors))
	}
	m.Tensors = make([]TFTensor, len(tensors))
	for i, tt := range tensors {
		t := &m.Tensors[i]
		if t.Shape, err = tt.i32s(0); err != nil {
			return nil, err
		}
		if len(t.Shape) > maxRank {
			return nil, fmt.Errorf("%w: tensor %d has rank %d", ErrFormat, i, len(t.Shape))
		}
		ty, err := tt.u8(1, 0)
		if err != nil {
			return nil, err
		}
		t.Type = int8(ty)
		bi, err := tt.u32(2, 0)
		if err != nil {
			return nil, err
		}
		if t.Name, err = tt.str(3); err != nil {
			return nil, err
		}
		if q, ok, err := tt.sub(4); err != nil {
			return nil, err
		} else if ok {
			sc, err := q.f32s(2)
			if err != nil {
				return nil, err
			}
			t.Quantized = len(sc) > 0
		}
		if bi != 0 { // buffer 0 is the empty sentinel
			if int(bi) >= len(buffers) {
				return nil, fmt.Errorf("%w: tensor %d names buffer %d of %d", ErrFormat, i, bi, len(buffers))
			}
			b := buffers[bi]
			if t.Data, err = b.bytes(0); err != nil {
				return nil, err
			}
			if len(t.Data) == 0 {
				// Large models keep data outside the flatbuffer (offset, size).
				off, err := b.u64(1, 0)
				if err != nil {
					return nil, err
				}
				size, err := b.u64(2, 0)
				if err != nil {
					return nil, err
				}
				if off > 1 && size > 0 {
					if off > uint64(len(data)) || size > uint64(len(data))-off {
						return nil, fmt.Errorf("%w: buffer %d outside the file", ErrFormat, bi)
					}
					t.Data = data[off : off+size]
				}
			}
		}
		if t.Data != nil {
			n, err := elements(t.Shape)
			if err != nil {
				return nil, fmt.Errorf("tensor %d: %w", i, err)
			}
			if es := typeSize(t.Type); es > 0 && uint64(n)*uint64(es) != uint64(len(t.Data)) {
				return nil, fmt.Errorf("%w: tensor %d (%s) holds %d bytes for shape %v", ErrFormat, i, t.Name, len(t.Data), t.Shape)
			}
		}
	}
	check := func(idx []int32, what string) error {
		for _, v := range idx {
			if v < -1 || int(v) >= len(m.Tensors) {
				return fmt.Errorf("%w: %s names tensor %d of %d", ErrFormat, what, v, len(m.Tensors))
			}
		}
		return nil
	}
	if m.Inputs, err = sg.i32s(1); err != nil {
		return nil, err
	}
	if m.Outputs, err = sg.i32s(2); err != nil {
		return nil, err
	}
	if err := check(m.Inputs, "graph input"); err != nil {
		return nil, err
	}
	if err := check(m.Outputs, "graph output"); err != nil {
		return nil, err
	}
	ops, err := sg.tables(3)
	if err != nil {
		return nil, err
	}
	if len(ops) > maxOps {
		return nil, fmt.Errorf("%w: %d operators", ErrFormat, len(ops))
	}
	m.Ops = make([]TFOp, len(ops))
	for i, ot := range ops {
		o := &m.Ops[i]
		ci, err := ot.u32(0, 0)
		if err != nil {
			return nil, err
		}
		if int(ci) >= len(opcodes) {
			return nil, fmt.Errorf("%w: operator %d uses opcode %d of %d", ErrFormat, i, ci, len(opcodes))
		}
		o.Code, o.Custom = opcodes[ci], customs[ci]
		if o.Inputs, err = ot.i32s(1); err != nil {
			return nil, err
		}
		if o.Outputs, err = ot.i32s(2); err != nil {
			return nil, err
		}
		if err := check(o.Inputs, "operator input"); err != nil {
			return nil, err
		}
		if err := check(o.Outputs, "operator output"); err != nil {
			return nil, err
		}
		if o.OptionsType, err = ot.u8(3, 0); err != nil {
			return nil, err
		}
		if o.options, o.hasOptions, err = ot.sub(4); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func typeSize(t int8) int {
	switch t {
	case tfFloat32, tfInt32:
		return 4
	case tfFloat16:
		return 2
	case tfInt64:
		return 8
	case tfUint8, tfInt8:
		return 1
	}
	return 0
}

// elements is the product of a shape, refusing negative or huge shapes.
func elements(shape []int32) (int64, error) {
	n := int64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("%w: dynamic dimension in a constant", ErrFormat)
		}
		n *= int64(d)
		if n > 1<<31 {
			return 0, fmt.Errorf("%w: tensor of more than 2^31 elements", ErrFormat)
		}
	}
	return n, nil
}

// Floats decodes a float32 (or float16) constant.
func (t *TFTensor) Floats() ([]float32, error) {
	switch t.Type {
	case tfFloat32:
		out := make([]float32, len(t.Data)/4)
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:]))
		}
		return out, nil
	case tfFloat16:
		out := make([]float32, len(t.Data)/2)
		for i := range out {
			out[i] = halfToFloat(binary.LittleEndian.Uint16(t.Data[2*i:]))
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: tensor %q of type %d is not float", ErrUnsupported, t.Name, t.Type)
}

// Ints decodes an int32 or int64 constant.
func (t *TFTensor) Ints() ([]int64, error) {
	switch t.Type {
	case tfInt32:
		out := make([]int64, len(t.Data)/4)
		for i := range out {
			out[i] = int64(int32(binary.LittleEndian.Uint32(t.Data[4*i:])))
		}
		return out, nil
	case tfInt64:
		out := make([]int64, len(t.Data)/8)
		for i := range out {
			out[i] = int64(binary.LittleEndian.Uint64(t.Data[8*i:]))
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: tensor %q of type %d is not integer", ErrUnsupported, t.Name, t.Type)
}

func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0 && frac == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal
		for frac&0x400 == 0 {
			frac <<= 1
			exp--
		}
		exp++
		frac &= 0x3ff
	case exp == 0x1f:
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
}
