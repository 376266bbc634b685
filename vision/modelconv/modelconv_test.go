package modelconv

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func convOpts(pad, sw, sh, act int64) fbTable {
	return fbTable{fB(0, pad), fI(1, sw), fI(2, sh), fB(3, act)}
}

func dwOpts(pad, sw, sh, mult, act int64) fbTable {
	return fbTable{fB(0, pad), fI(1, sw), fI(2, sh), fI(3, mult), fB(4, act)}
}

func randFloats(r *rand.Rand, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = r.Float32() - 0.5
	}
	return out
}

// synthModel is a small MobileFaceNet-like graph: a strided 3×3 conv with
// TensorFlow's SAME padding, the PReLU expansion, a depthwise conv, a
// residual ADD, a global depthwise conv and the final squeeze.
func synthModel(seed uint64) tfModel {
	r := rand.New(rand.NewPCG(seed, 7))
	const f32 = tfFloat32
	return tfModel{
		tensors: []tfT{
			0:  {name: "input", shape: []int32{2, 8, 8, 3}, typ: f32},
			1:  {name: "w0", shape: []int32{4, 3, 3, 3}, typ: f32, data: f32le(randFloats(r, 4*3*3*3))},
			2:  {name: "b0", shape: []int32{4}, typ: f32, data: f32le(randFloats(r, 4))},
			3:  {name: "conv0", shape: []int32{2, 4, 4, 4}, typ: f32},
			4:  {name: "relu", shape: []int32{2, 4, 4, 4}, typ: f32},
			5:  {name: "abs", shape: []int32{2, 4, 4, 4}, typ: f32},
			6:  {name: "sub", shape: []int32{2, 4, 4, 4}, typ: f32},
			7:  {name: "alpha", shape: []int32{4}, typ: f32, data: f32le([]float32{0.05, 0.1, -0.2, 0.125})},
			8:  {name: "mul", shape: []int32{2, 4, 4, 4}, typ: f32},
			9:  {name: "prelu", shape: []int32{2, 4, 4, 4}, typ: f32},
			10: {name: "wd", shape: []int32{1, 3, 3, 4}, typ: f32, data: f32le(randFloats(r, 3*3*4))},
			11: {name: "bd", shape: []int32{4}, typ: f32, data: f32le(randFloats(r, 4))},
			12: {name: "dw", shape: []int32{2, 4, 4, 4}, typ: f32},
			13: {name: "res", shape: []int32{2, 4, 4, 4}, typ: f32},
			14: {name: "wg", shape: []int32{1, 4, 4, 4}, typ: f32, data: f32le(randFloats(r, 4*4*4))},
			15: {name: "gdc", shape: []int32{2, 1, 1, 4}, typ: f32},
			16: {name: "w1", shape: []int32{5, 1, 1, 4}, typ: f32, data: f32le(randFloats(r, 5*4))},
			17: {name: "b1", shape: []int32{5}, typ: f32, data: f32le(randFloats(r, 5))},
			18: {name: "lin", shape: []int32{2, 1, 1, 5}, typ: f32},
			19: {name: "shape", shape: []int32{2}, typ: tfInt32, data: i32le([]int32{2, 5})},
			20: {name: "embeddings", shape: []int32{2, 5}, typ: f32},
		},
		ops: []tfO{
			{code: opConv2D, inputs: []int32{0, 1, 2}, outputs: []int32{3}, optType: 1, opts: convOpts(0, 2, 2, 0)},
			{code: opRelu, inputs: []int32{3}, outputs: []int32{4}},
			{code: opAbs, inputs: []int32{3}, outputs: []int32{5}},
			{code: opSub, inputs: []int32{3, 5}, outputs: []int32{6}, optType: 28, opts: fbTable{fB(0, 0)}},
			{code: opMul, inputs: []int32{7, 6}, outputs: []int32{8}, optType: 21, opts: fbTable{fB(0, 0)}},
			{code: opAdd, inputs: []int32{4, 8}, outputs: []int32{9}, optType: 11, opts: fbTable{fB(0, 0)}},
			{code: opDepthwiseConv, inputs: []int32{9, 10, 11}, outputs: []int32{12}, optType: 2, opts: dwOpts(0, 1, 1, 1, 1)},
			{code: opAdd, inputs: []int32{12, 9}, outputs: []int32{13}, optType: 11, opts: fbTable{fB(0, 0)}},
			{code: opDepthwiseConv, inputs: []int32{13, 14, -1}, outputs: []int32{15}, optType: 2, opts: dwOpts(1, 1, 1, 1, 0)},
			{code: opConv2D, inputs: []int32{15, 16, 17}, outputs: []int32{18}, optType: 1, opts: convOpts(1, 1, 1, 0)},
			{code: opReshape, inputs: []int32{18, 19}, outputs: []int32{20}, optType: 17, opts: fbTable{fR(0, fbVecI32{2, 5})}},
		},
		inputs:  []int32{0},
		outputs: []int32{20},
	}
}

func TestReadTFLite(t *testing.T) {
	data := synthModel(1).build()
	m, err := ReadTFLite(data)
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != 3 || m.Description != "synthetic" || len(m.Tensors) != 21 || len(m.Ops) != 11 {
		t.Fatalf("version %d %q, %d tensors, %d ops", m.Version, m.Description, len(m.Tensors), len(m.Ops))
	}
	if m.Ops[6].Code != opDepthwiseConv || OpName(m.Ops[2].Code) != "ABS" || m.Tensors[7].Name != "alpha" {
		t.Errorf("op 6 %d, op 2 %s, tensor 7 %q", m.Ops[6].Code, OpName(m.Ops[2].Code), m.Tensors[7].Name)
	}
	alpha, err := m.Tensors[7].Floats()
	if err != nil || len(alpha) != 4 || alpha[2] != -0.2 {
		t.Errorf("alpha %v %v", alpha, err)
	}
	if _, err := m.Tensors[19].Floats(); !errors.Is(err, ErrUnsupported) {
		t.Errorf("int tensor as floats: %v", err)
	}
	if v, err := m.Tensors[19].Ints(); err != nil || len(v) != 2 || v[1] != 5 {
		t.Errorf("ints %v %v", v, err)
	}
	if m.Ops[8].Inputs[2] != -1 {
		t.Errorf("optional input %v", m.Ops[8].Inputs)
	}
}

func TestReadTFLiteRejectsDamage(t *testing.T) {
	data := synthModel(1).build()
	// Every truncation is an error, never a panic.
	for n := 0; n < len(data); n++ {
		if _, err := ReadTFLite(data[:n]); err == nil {
			// A prefix may still parse only if it holds everything; that
			// cannot happen before the last buffer.
			if n < len(data)-64 {
				t.Fatalf("truncated to %d of %d bytes: no error", n, len(data))
			}
		} else if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrUnsupported) {
			t.Fatalf("truncated to %d: %v", n, err)
		}
	}
	bad := bytes.Clone(data)
	copy(bad[4:8], "ONNX")
	if _, err := ReadTFLite(bad); !errors.Is(err, ErrFormat) {
		t.Errorf("wrong identifier: %v", err)
	}
	// A constant whose bytes do not match its shape.
	m := synthModel(1)
	m.tensors[2].data = m.tensors[2].data[:8]
	if _, err := ReadTFLite(m.build()); !errors.Is(err, ErrFormat) {
		t.Errorf("short constant: %v", err)
	}
	// An operator naming a tensor that does not exist.
	m = synthModel(1)
	m.ops[1].inputs = []int32{99}
	if _, err := ReadTFLite(m.build()); !errors.Is(err, ErrFormat) {
		t.Errorf("dangling tensor: %v", err)
	}
}

func TestConvert(t *testing.T) {
	data := synthModel(2).build()
	m, err := ReadTFLite(data)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Convert(m, data, ConvertOptions{Source: "synthetic.tflite"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Fused != 1 || c.OutputDim != 5 || c.InputShape != [4]int{1, 3, 8, 8} {
		t.Errorf("fused %d, output %d, input %v", c.Fused, c.OutputDim, c.InputShape)
	}
	want := map[string]int{"Conv": 4, "PRelu": 1, "Relu": 1, "Add": 1, "Flatten": 1, "Identity": 1}
	for k, v := range want {
		if c.Ops[k] != v {
			t.Errorf("%d %s nodes, want %d (all: %v)", c.Ops[k], k, v, c.Ops)
		}
	}
	if c.Ops["Abs"] != 0 || c.Ops["Mul"] != 0 || c.Ops["Sub"] != 0 {
		t.Errorf("PReLU expansion left in the graph: %v", c.Ops)
	}
	again, err := Convert(m, data, ConvertOptions{Source: "synthetic.tflite"})
	if err != nil || !bytes.Equal(again.ONNX, c.ONNX) {
		t.Error("conversion is not deterministic")
	}
	// The writer's output is a well-formed protobuf whose first field is
	// ir_version 7 and which names the graph's input and output.
	if c.ONNX[0] != 0x08 || c.ONNX[1] != 7 || !bytes.Contains(c.ONNX, []byte("embeddings")) || !bytes.Contains(c.ONNX, []byte("source_sha256")) {
		t.Errorf("ONNX prefix % x", c.ONNX[:8])
	}
}

func TestConvertRefusesUnsupported(t *testing.T) {
	cases := map[string]func(*tfModel){
		"unknown operator": func(m *tfModel) { m.ops[9].code = 25 }, // SOFTMAX
		"quantised input":  func(m *tfModel) { m.tensors[0].typ = tfUint8 },
		"general reshape": func(m *tfModel) {
			m.tensors[20].shape = []int32{5, 2}
		},
		"fused tanh": func(m *tfModel) { m.ops[9].opts = convOpts(1, 1, 1, 4) },
	}
	for name, mutate := range cases {
		mm := synthModel(3)
		mutate(&mm)
		data := mm.build()
		m, err := ReadTFLite(data)
		if err != nil {
			t.Fatalf("%s: read: %v", name, err)
		}
		if _, err := Convert(m, data, ConvertOptions{}); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: %v, want ErrUnsupported", name, err)
		}
	}
}

// TestInterpret checks the reference interpreter against values computed
// by hand: SAME padding with the extra row at the bottom, and the PReLU
// expansion.
func TestInterpret(t *testing.T) {
	m := tfModel{
		tensors: []tfT{
			{name: "input", shape: []int32{1, 2, 2, 1}, typ: tfFloat32},
			{name: "w", shape: []int32{1, 2, 2, 1}, typ: tfFloat32, data: f32le([]float32{1, 10, 100, 1000})},
			{name: "conv", shape: []int32{1, 1, 1, 1}, typ: tfFloat32},
			{name: "shape", shape: []int32{2}, typ: tfInt32, data: i32le([]int32{1, 1})},
			{name: "out", shape: []int32{1, 1}, typ: tfFloat32},
		},
		ops: []tfO{
			{code: opConv2D, inputs: []int32{0, 1, -1}, outputs: []int32{2}, optType: 1, opts: convOpts(0, 2, 2, 0)},
			{code: opReshape, inputs: []int32{2, 3}, outputs: []int32{4}},
		},
		inputs: []int32{0}, outputs: []int32{4},
	}
	tm, err := ReadTFLite(m.build())
	if err != nil {
		t.Fatal(err)
	}
	out, err := Interpret(tm, []float32{1, 2, 3, 4})
	if err != nil {
		t.Fatal(err)
	}
	// 2×2 input, 2×2 kernel, stride 2, SAME: no padding needed, one output.
	if want := float32(1*1 + 2*10 + 3*100 + 4*1000); out[0] != want {
		t.Errorf("conv %v, want %v", out[0], want)
	}

	syn := synthModel(4)
	data := syn.build()
	sm, _ := ReadTFLite(data)
	r := rand.New(rand.NewPCG(9, 9))
	in := randFloats(r, 8*8*3)
	got, err := Interpret(sm, in)
	if err != nil || len(got) != 5 {
		t.Fatalf("%d values, %v", len(got), err)
	}
	for _, v := range got {
		if math.IsNaN(float64(v)) {
			t.Fatal("NaN")
		}
	}
	if _, err := Interpret(sm, in[:10]); !errors.Is(err, ErrFormat) {
		t.Errorf("short input: %v", err)
	}
}

func TestHalfToFloat(t *testing.T) {
	cases := map[uint16]float32{0x3c00: 1, 0xc000: -2, 0x3555: 0.333251953125, 0x0001: 5.9604645e-08, 0x0000: 0, 0x7bff: 65504}
	for h, want := range cases {
		if got := halfToFloat(h); got != want {
			t.Errorf("%#04x: %v, want %v", h, got, want)
		}
	}
	if !math.IsInf(float64(halfToFloat(0x7c00)), 1) || !math.IsNaN(float64(halfToFloat(0x7e00))) {
		t.Error("inf/nan")
	}
}

func FuzzReadTFLite(f *testing.F) {
	for seed := uint64(1); seed <= 3; seed++ {
		f.Add(synthModel(seed).build())
	}
	f.Add([]byte("\x08\x00\x00\x00TFL3"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ReadTFLite(data)
		if err != nil {
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("error %v wraps neither sentinel", err)
			}
			return
		}
		// Whatever parses must convert or fail cleanly.
		if _, err := Convert(m, data, ConvertOptions{}); err != nil && !errors.Is(err, ErrFormat) && !errors.Is(err, ErrUnsupported) {
			t.Fatalf("convert: %v", err)
		}
	})
}
