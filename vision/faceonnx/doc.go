// Package faceonnx is the ONNX face embedder: a network run by OpenCV's DNN
// module (Debian's OpenCV 4.6, through our own small cgo binding that
// catches every C++ exception), fed a face aligned to the model's own
// landmark template.
//
// Everything that differs between models — input size, colour order,
// normalisation, alignment template, output name and size, unit-length
// output, flip averaging, score calibration — comes from a metadata file
// (vision.ModelMeta), not from code: an agency points the configuration at
// its own licensed ONNX model and its metadata. models/mobilefacenet.json
// describes the MobileFaceNet converted by `make models-onnx`.
//
// Detection and landmarks come from another vision.Analyzer (dlib's HOG or
// MMOD detector and 68-point predictor in vision/facedlib); this package
// only aligns and embeds.
//
// Ownership rules: a Recognizer owns one network per worker (an OpenCV Net
// is not safe for concurrent use) and must be Closed; Close is idempotent,
// waits for calls in flight and does not close the Analyzer it was given.
// Embeddings are personal data: never log them.
package faceonnx
