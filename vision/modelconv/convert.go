package modelconv

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
)

// opAbs is TFLite's ABS (the schema numbers it after the converter's list).
const opAbs = 101

func init() { opNames[opAbs] = "ABS" }

// ConvertOptions tune a conversion.
type ConvertOptions struct {
	// Batch is the batch dimension of the ONNX graph's input and output
	// (TFLite graphs fix it; face models are run one face, or one face and
	// its mirror image, at a time). 0 means 1.
	Batch int
	// InputName and OutputName name the ONNX graph's input and output;
	// empty keeps "input" and "embeddings".
	InputName, OutputName string
	// Source names the TFLite file in the ONNX metadata (provenance).
	Source string
}

// Converted is the result of a conversion.
type Converted struct {
	ONNX []byte
	// InputShape is the ONNX input, NCHW; OutputDim the embedding length.
	InputShape [4]int
	OutputDim  int
	// Fused counts the PReLU patterns folded into PRelu nodes.
	Fused int
	// Ops counts the ONNX nodes by type.
	Ops map[string]int
}

// value is a TFLite tensor as the ONNX graph sees it.
type value struct {
	name string
	nchw bool // a rank-4 activation stored NCHW in ONNX (NHWC in TFLite)
}

type converter struct {
	m       *TFLite
	opts    ConvertOptions
	g       Graph
	vals    map[int32]value
	names   map[string]int
	batch   int32
	fused   int
	uses    map[int32]int
	produce map[int32]int // tensor → index of the op producing it
}

// Convert translates a float TFLite face-embedding graph (single input
// NHWC image, single output) into an ONNX graph in NCHW layout that
// OpenCV's DNN module runs. It supports the operators of MobileFaceNet-like
// networks: CONV_2D, DEPTHWISE_CONV_2D, ADD, SUB, MUL, ABS, RELU, RESHAPE,
// and folds TensorFlow's PReLU expansion relu(x) + a·(x − |x|) into one
// PRelu node. Anything else is ErrUnsupported.
func Convert(m *TFLite, tflite []byte, opts ConvertOptions) (*Converted, error) {
	if opts.Batch <= 0 {
		opts.Batch = 1
	}
	if opts.InputName == "" {
		opts.InputName = "input"
	}
	if opts.OutputName == "" {
		opts.OutputName = "embeddings"
	}
	if len(m.Inputs) != 1 || len(m.Outputs) != 1 {
		return nil, fmt.Errorf("%w: %d inputs and %d outputs, want one each", ErrUnsupported, len(m.Inputs), len(m.Outputs))
	}
	in := &m.Tensors[m.Inputs[0]]
	if len(in.Shape) != 4 || in.Type != tfFloat32 || in.Quantized {
		return nil, fmt.Errorf("%w: input %v of type %d, want a float NHWC image", ErrUnsupported, in.Shape, in.Type)
	}
	c := &converter{m: m, opts: opts, vals: map[int32]value{}, names: map[string]int{}, batch: int32(opts.Batch),
		uses: map[int32]int{}, produce: map[int32]int{}}
	c.g.Name = "main"
	for i, op := range m.Ops {
		for _, t := range op.Inputs {
			c.uses[t]++
		}
		for _, t := range op.Outputs {
			c.produce[t] = i
		}
	}
	for _, t := range m.Outputs {
		c.uses[t]++
	}
	c.names[opts.InputName] = 1
	c.vals[m.Inputs[0]] = value{name: opts.InputName, nchw: true}
	h, w, ch := int(in.Shape[1]), int(in.Shape[2]), int(in.Shape[3])
	c.g.Inputs = []ValueInfo{{Name: opts.InputName, Dims: []int64{int64(opts.Batch), int64(ch), int64(h), int64(w)}}}

	skip := make([]bool, len(m.Ops))
	for i := range m.Ops {
		if skip[i] {
			continue
		}
		if c.tryPReLU(i, skip) {
			continue
		}
		if err := c.op(i); err != nil {
			return nil, fmt.Errorf("operator %d (%s): %w", i, OpName(m.Ops[i].Code), err)
		}
	}
	outT := m.Outputs[0]
	ov, ok := c.vals[outT]
	if !ok {
		return nil, fmt.Errorf("%w: graph output is never computed", ErrFormat)
	}
	if ov.nchw {
		return nil, fmt.Errorf("%w: output is a feature map, want an embedding vector", ErrUnsupported)
	}
	os := m.Tensors[outT].Shape
	if len(os) != 2 {
		return nil, fmt.Errorf("%w: output shape %v, want [batch, dim]", ErrUnsupported, os)
	}
	// Rename the output through an Identity so its name is stable.
	c.g.Nodes = append(c.g.Nodes, Node{Name: "output", OpType: "Identity", Inputs: []string{ov.name}, Outputs: []string{opts.OutputName}})
	c.g.Outputs = []ValueInfo{{Name: opts.OutputName, Dims: []int64{int64(opts.Batch), int64(os[1])}}}

	sum := sha256.Sum256(tflite)
	info := ModelInfo{Producer: "checkpoint modelconv", ProducerVersion: "1", Opset: 11,
		Doc: "Converted from TensorFlow Lite by Checkpoint's vision/modelconv (NHWC to NCHW, PReLU folded).",
		Metadata: [][2]string{{"source", opts.Source}, {"source_sha256", hex.EncodeToString(sum[:])},
			{"source_description", m.Description}}}
	out := &Converted{ONNX: Marshal(&c.g, info), InputShape: [4]int{opts.Batch, ch, h, w}, OutputDim: int(os[1]),
		Fused: c.fused, Ops: map[string]int{}}
	for _, n := range c.g.Nodes {
		out.Ops[n.OpType]++
	}
	return out, nil
}

// unique turns a TFLite tensor name into an unused ONNX name.
func (c *converter) unique(base string) string {
	if base == "" {
		base = "t"
	}
	n := c.names[base]
	c.names[base] = n + 1
	if n == 0 {
		return base
	}
	return fmt.Sprintf("%s_%d", base, n)
}

// input returns the ONNX value of an operator input that must be an
// activation (computed earlier).
func (c *converter) input(t int32) (value, error) {
	v, ok := c.vals[t]
	if !ok {
		if t >= 0 && c.m.Tensors[t].Data != nil {
			return value{}, fmt.Errorf("%w: constant %q where an activation is expected", ErrUnsupported, c.m.Tensors[t].Name)
		}
		return value{}, fmt.Errorf("%w: tensor %d used before it is computed", ErrFormat, t)
	}
	return v, nil
}

func (c *converter) isConst(t int32) bool { return t >= 0 && c.m.Tensors[t].Data != nil }

func (c *converter) producer(t int32, code int32) (int, bool) {
	i, ok := c.produce[t]
	if !ok || c.m.Ops[i].Code != code {
		return 0, false
	}
	return i, true
}

// tryPReLU folds relu(x) + c·(x − |x|) = PRelu(x, 2c) when op i is the
// RELU of that expansion (followed by its ABS, SUB, MUL and ADD) and the
// intermediates feed nothing else.
func (c *converter) tryPReLU(i int, skip []bool) bool {
	relu := c.m.Ops[i]
	// The pattern is anchored on the RELU, the first of the five ops.
	if relu.Code != opRelu || len(relu.Inputs) != 1 || len(relu.Outputs) != 1 {
		return false
	}
	x, r := relu.Inputs[0], relu.Outputs[0]
	if c.uses[r] != 1 {
		return false
	}
	var absI, subI, mulI, addI = -1, -1, -1, -1
	var slope []float32
	for j := i + 1; j < len(c.m.Ops) && j <= i+8; j++ {
		o := c.m.Ops[j]
		switch {
		case o.Code == opAbs && len(o.Inputs) == 1 && o.Inputs[0] == x && absI < 0:
			absI = j
		case o.Code == opSub && absI >= 0 && len(o.Inputs) == 2 && o.Inputs[0] == x && o.Inputs[1] == c.m.Ops[absI].Outputs[0] && subI < 0:
			subI = j
		case o.Code == opMul && subI >= 0 && len(o.Inputs) == 2 && mulI < 0:
			s := c.m.Ops[subI].Outputs[0]
			var k int32 = -1
			if o.Inputs[0] == s && c.isConst(o.Inputs[1]) {
				k = o.Inputs[1]
			} else if o.Inputs[1] == s && c.isConst(o.Inputs[0]) {
				k = o.Inputs[0]
			}
			if k < 0 {
				continue
			}
			f, err := c.m.Tensors[k].Floats()
			if err != nil {
				return false
			}
			slope, mulI = f, j
		case o.Code == opAdd && mulI >= 0 && len(o.Inputs) == 2 && addI < 0:
			m := c.m.Ops[mulI].Outputs[0]
			if (o.Inputs[0] == r && o.Inputs[1] == m) || (o.Inputs[1] == r && o.Inputs[0] == m) {
				addI = j
			}
		}
	}
	if addI < 0 || optAct(c.m.Ops[subI]) != 0 || optAct(c.m.Ops[mulI]) != 0 || optAct(c.m.Ops[addI]) != 0 {
		return false
	}
	for _, k := range []int{absI, subI, mulI} {
		if c.uses[c.m.Ops[k].Outputs[0]] != 1 {
			return false
		}
	}
	xv, err := c.input(x)
	if err != nil || !xv.nchw {
		return false
	}
	ch := c.m.Tensors[x].Shape[3]
	if len(slope) != int(ch) && len(slope) != 1 {
		return false
	}
	s2 := make([]float32, len(slope))
	for k, v := range slope {
		s2[k] = 2 * v
	}
	out := c.m.Ops[addI].Outputs[0]
	name := c.unique(c.m.Tensors[out].Name)
	sn := c.unique(name + "/slope")
	dims := []int64{int64(len(s2)), 1, 1}
	if len(s2) == 1 {
		dims = []int64{1}
	}
	c.g.Initializers = append(c.g.Initializers, Tensor{Name: sn, Dims: dims, Floats: s2})
	c.g.Nodes = append(c.g.Nodes, Node{Name: name, OpType: "PRelu", Inputs: []string{xv.name, sn}, Outputs: []string{name}})
	c.vals[out] = value{name: name, nchw: true}
	for _, k := range []int{absI, subI, mulI, addI} {
		skip[k] = true
	}
	c.fused++
	return true
}

// optAct is the fused activation of ADD, SUB and MUL (options field 0).
func optAct(o TFOp) int {
	if !o.hasOptions {
		return 0
	}
	v, err := o.options.u8(0, 0)
	if err != nil {
		return -1
	}
	return int(v)
}

func (c *converter) op(i int) error {
	o := c.m.Ops[i]
	if len(o.Outputs) != 1 || o.Outputs[0] < 0 {
		return fmt.Errorf("%w: %d outputs", ErrUnsupported, len(o.Outputs))
	}
	outT := o.Outputs[0]
	outShape := c.m.Tensors[outT].Shape
	name := c.unique(c.m.Tensors[outT].Name)
	emit := func(opType string, nchw bool, inputs []string, attrs ...Attr) {
		c.g.Nodes = append(c.g.Nodes, Node{Name: name, OpType: opType, Inputs: inputs, Outputs: []string{name}, Attrs: attrs})
		c.vals[outT] = value{name: name, nchw: nchw}
	}
	switch o.Code {
	case opConv2D, opDepthwiseConv:
		return c.conv(o, name, outShape)
	case opRelu, opAbs:
		if len(o.Inputs) != 1 {
			return fmt.Errorf("%w: %d inputs", ErrFormat, len(o.Inputs))
		}
		x, err := c.input(o.Inputs[0])
		if err != nil {
			return err
		}
		t := "Relu"
		if o.Code == opAbs {
			t = "Abs"
		}
		emit(t, x.nchw, []string{x.name})
		return nil
	case opAdd, opSub, opMul:
		return c.binary(o, name, emit)
	case opReshape:
		if len(o.Inputs) < 1 {
			return fmt.Errorf("%w: reshape without input", ErrFormat)
		}
		x, err := c.input(o.Inputs[0])
		if err != nil {
			return err
		}
		inShape := c.m.Tensors[o.Inputs[0]].Shape
		if x.nchw && len(inShape) == 4 && inShape[1] == 1 && inShape[2] == 1 && len(outShape) == 2 && outShape[1] == inShape[3] {
			// [N,1,1,C] → [N,C] is the same in either layout.
			emit("Flatten", false, []string{x.name}, intAttr("axis", 1))
			return nil
		}
		return fmt.Errorf("%w: reshape %v → %v (only the final spatial squeeze is supported)", ErrUnsupported, inShape, outShape)
	}
	if o.Code == 32 {
		return fmt.Errorf("%w: custom operator %q", ErrUnsupported, o.Custom)
	}
	return fmt.Errorf("%w: operator %s", ErrUnsupported, OpName(o.Code))
}

// conv emits Conv for CONV_2D (weights OHWI → OIHW) and grouped Conv for
// DEPTHWISE_CONV_2D (weights 1HW(C·M) → (C·M)1HW, group C), with explicit
// pads that reproduce TensorFlow's SAME padding (extra row and column at the
// bottom and right).
func (c *converter) conv(o TFOp, name string, outShape []int32) error {
	if len(o.Inputs) < 2 || len(o.Inputs) > 3 {
		return fmt.Errorf("%w: %d inputs", ErrFormat, len(o.Inputs))
	}
	x, err := c.input(o.Inputs[0])
	if err != nil {
		return err
	}
	if !x.nchw {
		return fmt.Errorf("%w: convolution of a non-image tensor", ErrUnsupported)
	}
	if !c.isConst(o.Inputs[1]) {
		return fmt.Errorf("%w: weights are not constant", ErrUnsupported)
	}
	wt := &c.m.Tensors[o.Inputs[1]]
	wf, err := wt.Floats()
	if err != nil || wt.Quantized {
		return fmt.Errorf("%w: weights of %q are not float", ErrUnsupported, wt.Name)
	}
	inShape := c.m.Tensors[o.Inputs[0]].Shape
	if len(wt.Shape) != 4 || len(inShape) != 4 || len(outShape) != 4 {
		return fmt.Errorf("%w: shapes in %v weights %v out %v", ErrFormat, inShape, wt.Shape, outShape)
	}
	if !o.hasOptions {
		return fmt.Errorf("%w: convolution without options", ErrFormat)
	}
	opt := o.options
	// Field ids: Conv2DOptions padding 0, stride_w 1, stride_h 2, act 3,
	// dilation_w 4, dilation_h 5; DepthwiseConv2DOptions padding 0,
	// stride_w 1, stride_h 2, depth_multiplier 3, act 4, dilation_w 5, dilation_h 6.
	actID, dwID, dhID := 3, 4, 5
	if o.Code == opDepthwiseConv {
		actID, dwID, dhID = 4, 5, 6
	}
	pad, err1 := opt.u8(0, 0)
	sw, err2 := opt.i32(1, 1)
	sh, err3 := opt.i32(2, 1)
	act, err4 := opt.u8(actID, 0)
	dw, err5 := opt.i32(dwID, 1)
	dh, err6 := opt.i32(dhID, 1)
	if err := firstErr(err1, err2, err3, err4, err5, err6); err != nil {
		return err
	}
	if sw < 1 || sh < 1 || dw < 1 || dh < 1 || sw > 64 || sh > 64 || dw > 64 || dh > 64 {
		return fmt.Errorf("%w: stride %dx%d dilation %dx%d", ErrFormat, sw, sh, dw, dh)
	}
	kh, kw := wt.Shape[1], wt.Shape[2]
	inC := inShape[3]
	var w Tensor
	var group int64 = 1
	if o.Code == opConv2D {
		O, I := wt.Shape[0], wt.Shape[3]
		if I != inC || O != outShape[3] {
			return fmt.Errorf("%w: weights %v for %d→%d channels", ErrFormat, wt.Shape, inC, outShape[3])
		}
		w = Tensor{Dims: []int64{int64(O), int64(I), int64(kh), int64(kw)}, Floats: make([]float32, len(wf))}
		for oc := int32(0); oc < O; oc++ {
			for y := int32(0); y < kh; y++ {
				for xx := int32(0); xx < kw; xx++ {
					for ic := int32(0); ic < I; ic++ {
						w.Floats[((oc*I+ic)*kh+y)*kw+xx] = wf[((oc*kh+y)*kw+xx)*I+ic]
					}
				}
			}
		}
	} else {
		mult, err := opt.i32(3, 1)
		if err != nil {
			return err
		}
		CM := wt.Shape[3]
		if wt.Shape[0] != 1 || mult < 1 || CM != inC*mult || CM != outShape[3] {
			return fmt.Errorf("%w: depthwise weights %v, multiplier %d, %d input channels", ErrFormat, wt.Shape, mult, inC)
		}
		w = Tensor{Dims: []int64{int64(CM), 1, int64(kh), int64(kw)}, Floats: make([]float32, len(wf))}
		for k := int32(0); k < CM; k++ {
			for y := int32(0); y < kh; y++ {
				for xx := int32(0); xx < kw; xx++ {
					w.Floats[(k*kh+y)*kw+xx] = wf[(y*kw+xx)*CM+k]
				}
			}
		}
		group = int64(inC)
	}
	w.Name = c.unique(wt.Name)
	c.g.Initializers = append(c.g.Initializers, w)
	inputs := []string{x.name, w.Name}
	if len(o.Inputs) == 3 && o.Inputs[2] >= 0 {
		bt := &c.m.Tensors[o.Inputs[2]]
		bf, err := bt.Floats()
		if err != nil || len(bf) != int(outShape[3]) {
			return fmt.Errorf("%w: bias of %q", ErrUnsupported, bt.Name)
		}
		b := Tensor{Name: c.unique(bt.Name), Dims: []int64{int64(len(bf))}, Floats: bf}
		c.g.Initializers = append(c.g.Initializers, b)
		inputs = append(inputs, b.Name)
	}
	var pads [4]int64 // top, left, bottom, right
	switch pad {
	case 0: // SAME
		th := max(int64(outShape[1]-1)*int64(sh)+int64(kh-1)*int64(dh)+1-int64(inShape[1]), 0)
		tw := max(int64(outShape[2]-1)*int64(sw)+int64(kw-1)*int64(dw)+1-int64(inShape[2]), 0)
		pads = [4]int64{th / 2, tw / 2, th - th/2, tw - tw/2}
	case 1: // VALID
	default:
		return fmt.Errorf("%w: padding mode %d", ErrUnsupported, pad)
	}
	attrs := []Attr{intsAttr("kernel_shape", int64(kh), int64(kw)), intsAttr("strides", int64(sh), int64(sw)),
		intsAttr("dilations", int64(dh), int64(dw)), intsAttr("pads", pads[:]...), intAttr("group", group)}
	convName := name
	if act != 0 {
		convName = c.unique(name + "/conv")
	}
	c.g.Nodes = append(c.g.Nodes, Node{Name: convName, OpType: "Conv", Inputs: inputs, Outputs: []string{convName}, Attrs: attrs})
	return c.activation(act, convName, name, o.Outputs[0], true)
}

// activation appends the fused activation (NONE, RELU, RELU6) of an
// operator whose raw result is in from; the final value is named name.
func (c *converter) activation(act uint8, from, name string, t int32, nchw bool) error {
	switch act {
	case 0:
	case 1:
		c.g.Nodes = append(c.g.Nodes, Node{Name: name, OpType: "Relu", Inputs: []string{from}, Outputs: []string{name}})
	default:
		return fmt.Errorf("%w: fused activation %d", ErrUnsupported, act)
	}
	c.vals[t] = value{name: name, nchw: nchw}
	return nil
}

// binary emits Add, Sub or Mul. A constant operand broadcast along TFLite's
// channel axis (shape [C] or [1,1,1,C]) becomes [C,1,1] for NCHW.
func (c *converter) binary(o TFOp, name string, emit func(string, bool, []string, ...Attr)) error {
	if len(o.Inputs) != 2 {
		return fmt.Errorf("%w: %d inputs", ErrFormat, len(o.Inputs))
	}
	opType := map[int32]string{opAdd: "Add", opSub: "Sub", opMul: "Mul"}[o.Code]
	var names [2]string
	nchw := false
	for k, t := range o.Inputs {
		if c.isConst(t) {
			continue
		}
		v, err := c.input(t)
		if err != nil {
			return err
		}
		names[k] = v.name
		nchw = nchw || v.nchw
	}
	for k, t := range o.Inputs {
		if !c.isConst(t) {
			continue
		}
		ct := &c.m.Tensors[t]
		f, err := ct.Floats()
		if err != nil {
			return err
		}
		var dims []int64
		switch n := len(f); {
		case n == 1:
			dims = []int64{1}
		case nchw && (slices.Equal(ct.Shape, []int32{int32(n)}) || slices.Equal(ct.Shape, []int32{1, 1, 1, int32(n)})):
			dims = []int64{int64(n), 1, 1}
		case !nchw && len(ct.Shape) <= 2:
			for _, d := range ct.Shape {
				dims = append(dims, int64(d))
			}
		default:
			return fmt.Errorf("%w: constant operand of shape %v", ErrUnsupported, ct.Shape)
		}
		cn := c.unique(ct.Name)
		c.g.Initializers = append(c.g.Initializers, Tensor{Name: cn, Dims: dims, Floats: f})
		names[k] = cn
	}
	if names[0] == "" || names[1] == "" {
		return fmt.Errorf("%w: operands", ErrFormat)
	}
	act := optAct(o)
	if act < 0 {
		return fmt.Errorf("%w: options", ErrFormat)
	}
	if act == 0 {
		emit(opType, nchw, names[:])
		return nil
	}
	raw := c.unique(name + "/raw")
	c.g.Nodes = append(c.g.Nodes, Node{Name: raw, OpType: opType, Inputs: names[:], Outputs: []string{raw}})
	return c.activation(uint8(act), raw, name, o.Outputs[0], nchw)
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
