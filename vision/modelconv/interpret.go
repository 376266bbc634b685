package modelconv

import (
	"fmt"
	"math"
)

// Interpret runs the first subgraph of a float TFLite model in pure Go on
// one NHWC input (batch 1), for the operators Convert supports. It is slow
// (a plain loop nest) and exists to check a conversion: the converted ONNX
// model run by OpenCV must give the same embedding as the TFLite graph's
// own semantics.
func Interpret(m *TFLite, input []float32) ([]float32, error) {
	if len(m.Inputs) != 1 || len(m.Outputs) != 1 {
		return nil, fmt.Errorf("%w: want one input and one output", ErrUnsupported)
	}
	vals := map[int32]*ftensor{}
	shape1 := func(s []int32) []int32 { // batch 1
		out := append([]int32(nil), s...)
		if len(out) > 0 {
			out[0] = 1
		}
		return out
	}
	in := m.Tensors[m.Inputs[0]]
	is := shape1(in.Shape)
	if n, _ := elements(is); int(n) != len(input) {
		return nil, fmt.Errorf("%w: input has %d values, model wants %v", ErrFormat, len(input), is)
	}
	vals[m.Inputs[0]] = &ftensor{is, input}
	get := func(t int32) (*ftensor, error) {
		if v, ok := vals[t]; ok {
			return v, nil
		}
		if t >= 0 && m.Tensors[t].Data != nil {
			f, err := m.Tensors[t].Floats()
			if err != nil {
				return nil, err
			}
			v := &ftensor{m.Tensors[t].Shape, f}
			vals[t] = v
			return v, nil
		}
		return nil, fmt.Errorf("%w: tensor %d not computed", ErrFormat, t)
	}
	for i, o := range m.Ops {
		if len(o.Outputs) != 1 {
			return nil, fmt.Errorf("%w: operator %d", ErrUnsupported, i)
		}
		os := shape1(m.Tensors[o.Outputs[0]].Shape)
		n, err := elements(os)
		if err != nil {
			return nil, err
		}
		out := &ftensor{os, make([]float32, n)}
		args := make([]*ftensor, len(o.Inputs))
		for k, t := range o.Inputs {
			if t < 0 || (o.Code == opReshape && k > 0) { // a reshape's shape operand is not data
				continue
			}
			if args[k], err = get(t); err != nil {
				return nil, err
			}
		}
		switch o.Code {
		case opRelu, opAbs:
			for k, v := range args[0].data {
				if o.Code == opRelu {
					out.data[k] = max(v, 0)
				} else {
					out.data[k] = float32(math.Abs(float64(v)))
				}
			}
		case opAdd, opSub, opMul:
			a, b := args[0], args[1]
			if len(a.data) < len(b.data) {
				a, b = b, a
			}
			swapped := a != args[0]
			if len(a.data) != len(out.data) || len(a.data)%len(b.data) != 0 {
				return nil, fmt.Errorf("%w: operator %d broadcast %v %v", ErrUnsupported, i, a.shape, b.shape)
			}
			nb := len(b.data)
			for k, x := range a.data {
				y := b.data[k%nb] // b broadcast along the last axis
				if swapped {
					x, y = y, x
				}
				switch o.Code {
				case opAdd:
					out.data[k] = x + y
				case opSub:
					out.data[k] = x - y
				default:
					out.data[k] = x * y
				}
			}
			if act := optAct(o); act == 1 {
				for k := range out.data {
					out.data[k] = max(out.data[k], 0)
				}
			} else if act != 0 {
				return nil, fmt.Errorf("%w: activation %d", ErrUnsupported, act)
			}
		case opConv2D, opDepthwiseConv:
			if err := interpConv(o, args, out.shape, out.data); err != nil {
				return nil, fmt.Errorf("operator %d: %w", i, err)
			}
		case opReshape:
			copy(out.data, args[0].data)
		default:
			return nil, fmt.Errorf("%w: operator %s", ErrUnsupported, OpName(o.Code))
		}
		vals[o.Outputs[0]] = out
	}
	res, err := get(m.Outputs[0])
	if err != nil {
		return nil, err
	}
	return res.data, nil
}

// ftensor is an interpreter value: NHWC float data.
type ftensor struct {
	shape []int32
	data  []float32
}

// interpConv computes CONV_2D or DEPTHWISE_CONV_2D with TensorFlow's SAME
// or VALID padding, straight from the TFLite layouts (OHWI, 1HW(C·M)).
func interpConv(o TFOp, args []*ftensor, outShape []int32, out []float32) error {
	if len(args) < 2 || !o.hasOptions {
		return fmt.Errorf("%w: convolution", ErrFormat)
	}
	x, w := args[0], args[1]
	actID, dwID, dhID := 3, 4, 5
	if o.Code == opDepthwiseConv {
		actID, dwID, dhID = 4, 5, 6
	}
	pad, _ := o.options.u8(0, 0)
	sw, _ := o.options.i32(1, 1)
	sh, _ := o.options.i32(2, 1)
	act, _ := o.options.u8(actID, 0)
	dw, _ := o.options.i32(dwID, 1)
	dh, _ := o.options.i32(dhID, 1)
	H, W, C := int(x.shape[1]), int(x.shape[2]), int(x.shape[3])
	OH, OW, OC := int(outShape[1]), int(outShape[2]), int(outShape[3])
	KH, KW := int(w.shape[1]), int(w.shape[2])
	padT, padL := 0, 0
	if pad == 0 {
		th := max((OH-1)*int(sh)+(KH-1)*int(dh)+1-H, 0)
		tw := max((OW-1)*int(sw)+(KW-1)*int(dw)+1-W, 0)
		padT, padL = th/2, tw/2
	}
	var bias []float32
	if len(args) > 2 && args[2] != nil {
		bias = args[2].data
	}
	mult := 1
	if o.Code == opDepthwiseConv {
		mult = OC / C
	}
	for oy := 0; oy < OH; oy++ {
		for ox := 0; ox < OW; ox++ {
			for oc := 0; oc < OC; oc++ {
				var s float64
				if bias != nil {
					s = float64(bias[oc])
				}
				for ky := 0; ky < KH; ky++ {
					iy := oy*int(sh) - padT + ky*int(dh)
					if iy < 0 || iy >= H {
						continue
					}
					for kx := 0; kx < KW; kx++ {
						ix := ox*int(sw) - padL + kx*int(dw)
						if ix < 0 || ix >= W {
							continue
						}
						px := x.data[(iy*W+ix)*C:]
						if o.Code == opDepthwiseConv {
							s += float64(px[oc/mult]) * float64(w.data[(ky*KW+kx)*OC+oc])
							continue
						}
						wk := w.data[((oc*KH+ky)*KW+kx)*C:]
						for ic := 0; ic < C; ic++ {
							s += float64(px[ic]) * float64(wk[ic])
						}
					}
				}
				if act == 1 {
					s = math.Max(s, 0)
				}
				out[(oy*OW+ox)*OC+oc] = float32(s)
			}
		}
	}
	return nil
}
