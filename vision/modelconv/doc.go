// Package modelconv converts a float TensorFlow Lite face-embedding model
// into ONNX for OpenCV's DNN module, in pure Go and reproducibly.
//
// It holds a bounds-checked reader for the TFLite FlatBuffers format
// (ReadTFLite), a writer for the ONNX protobuf messages a feed-forward graph
// needs (Marshal), the translation between them (Convert: NHWC to NCHW,
// TensorFlow SAME padding as explicit pads, TensorFlow's PReLU expansion
// folded into PRelu), and a slow pure-Go interpreter of the TFLite graph
// (Interpret) against which a converted model's output is checked.
//
// The conversion is deterministic: the same input file gives the same
// bytes, so `make models-onnx` pins the sha256 of both the TFLite input and
// the ONNX output (scripts/models-onnx.sh). Only the operators of
// MobileFaceNet-like networks are supported; anything else is refused with
// ErrUnsupported rather than translated approximately. Malformed input is
// ErrFormat, never a panic (FuzzReadTFLite).
package modelconv
