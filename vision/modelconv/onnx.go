package modelconv

import (
	"encoding/binary"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// The ONNX writer encodes the few messages of onnx.proto a feed-forward
// graph needs, by field number, with protowire: no generated code and no
// dependency on the ONNX Python package. Field numbers are those of
// onnx/onnx.proto (IR version 7).

// ONNX tensor element types (TensorProto.DataType).
const (
	onnxFloat = 1
	onnxInt64 = 7
)

// ONNX attribute types (AttributeProto.AttributeType).
const (
	attrFloat  = 1
	attrInt    = 2
	attrString = 3
	attrInts   = 7
)

// Graph is an ONNX graph under construction. Names must be unique; the
// converter derives them from the TFLite tensor names.
type Graph struct {
	Name         string
	Nodes        []Node
	Initializers []Tensor
	Inputs       []ValueInfo
	Outputs      []ValueInfo
}

// Node is one ONNX operator.
type Node struct {
	Name    string
	OpType  string
	Inputs  []string
	Outputs []string
	Attrs   []Attr
}

// Attr is one node attribute; exactly one of the value fields is used,
// according to Type.
type Attr struct {
	Name string
	Type int
	F    float32
	I    int64
	S    string
	Ints []int64
}

// Tensor is a constant (initializer): float32 or int64 data.
type Tensor struct {
	Name   string
	Dims   []int64
	Floats []float32
	Int64s []int64
}

// ValueInfo names a graph input or output with its float shape.
type ValueInfo struct {
	Name string
	Dims []int64
}

// ModelInfo is the model-level metadata written with the graph.
type ModelInfo struct {
	Producer, ProducerVersion string
	Doc                       string
	Opset                     int64
	Metadata                  [][2]string // key, value, in order
}

func intAttr(name string, v int64) Attr { return Attr{Name: name, Type: attrInt, I: v} }
func intsAttr(name string, v ...int64) Attr {
	return Attr{Name: name, Type: attrInts, Ints: v}
}
func floatAttr(name string, v float32) Attr { return Attr{Name: name, Type: attrFloat, F: v} }

// Marshal encodes a ModelProto. The encoding is deterministic: the same
// graph always gives the same bytes, so converted models can be checked by
// sha256.
func Marshal(g *Graph, info ModelInfo) []byte {
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.VarintType) // ir_version
	b = protowire.AppendVarint(b, 7)
	if info.Producer != "" {
		b = appendString(b, 2, info.Producer)
	}
	if info.ProducerVersion != "" {
		b = appendString(b, 3, info.ProducerVersion)
	}
	if info.Doc != "" {
		b = appendString(b, 6, info.Doc)
	}
	b = appendMessage(b, 7, marshalGraph(g))
	var op []byte
	op = appendString(op, 1, "")
	op = protowire.AppendTag(op, 2, protowire.VarintType)
	op = protowire.AppendVarint(op, uint64(info.Opset))
	b = appendMessage(b, 8, op)
	for _, kv := range info.Metadata {
		var e []byte
		e = appendString(e, 1, kv[0])
		e = appendString(e, 2, kv[1])
		b = appendMessage(b, 14, e)
	}
	return b
}

func marshalGraph(g *Graph) []byte {
	var b []byte
	for i := range g.Nodes {
		b = appendMessage(b, 1, marshalNode(&g.Nodes[i]))
	}
	b = appendString(b, 2, g.Name)
	for i := range g.Initializers {
		b = appendMessage(b, 5, marshalTensor(&g.Initializers[i]))
	}
	for _, v := range g.Inputs {
		b = appendMessage(b, 11, marshalValueInfo(v))
	}
	for _, v := range g.Outputs {
		b = appendMessage(b, 12, marshalValueInfo(v))
	}
	return b
}

func marshalNode(n *Node) []byte {
	var b []byte
	for _, s := range n.Inputs {
		b = appendString(b, 1, s)
	}
	for _, s := range n.Outputs {
		b = appendString(b, 2, s)
	}
	b = appendString(b, 3, n.Name)
	b = appendString(b, 4, n.OpType)
	for _, a := range n.Attrs {
		b = appendMessage(b, 5, marshalAttr(a))
	}
	return b
}

func marshalAttr(a Attr) []byte {
	var b []byte
	b = appendString(b, 1, a.Name)
	switch a.Type {
	case attrFloat:
		b = protowire.AppendTag(b, 2, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, math.Float32bits(a.F))
	case attrInt:
		b = protowire.AppendTag(b, 3, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(a.I))
	case attrString:
		b = appendString(b, 4, a.S)
	case attrInts:
		var p []byte
		for _, v := range a.Ints {
			p = protowire.AppendVarint(p, uint64(v))
		}
		b = protowire.AppendTag(b, 8, protowire.BytesType)
		b = protowire.AppendBytes(b, p)
	}
	b = protowire.AppendTag(b, 20, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(a.Type))
	return b
}

func marshalTensor(t *Tensor) []byte {
	var b []byte
	for _, d := range t.Dims {
		b = protowire.AppendTag(b, 1, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(d))
	}
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	var raw []byte
	if t.Int64s != nil {
		b = protowire.AppendVarint(b, onnxInt64)
		raw = make([]byte, 8*len(t.Int64s))
		for i, v := range t.Int64s {
			binary.LittleEndian.PutUint64(raw[8*i:], uint64(v))
		}
	} else {
		b = protowire.AppendVarint(b, onnxFloat)
		raw = make([]byte, 4*len(t.Floats))
		for i, v := range t.Floats {
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
		}
	}
	b = appendString(b, 8, t.Name)
	b = protowire.AppendTag(b, 9, protowire.BytesType) // raw_data, little-endian
	b = protowire.AppendBytes(b, raw)
	return b
}

func marshalValueInfo(v ValueInfo) []byte {
	var shape []byte
	for _, d := range v.Dims {
		var dim []byte
		dim = protowire.AppendTag(dim, 1, protowire.VarintType)
		dim = protowire.AppendVarint(dim, uint64(d))
		shape = appendMessage(shape, 1, dim)
	}
	var tt []byte
	tt = protowire.AppendTag(tt, 1, protowire.VarintType)
	tt = protowire.AppendVarint(tt, onnxFloat)
	tt = appendMessage(tt, 2, shape)
	var ty []byte
	ty = appendMessage(ty, 1, tt)
	var b []byte
	b = appendString(b, 1, v.Name)
	b = appendMessage(b, 2, ty)
	return b
}

func appendString(b []byte, num protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendMessage(b []byte, num protowire.Number, m []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, m)
}
