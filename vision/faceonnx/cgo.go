package faceonnx

// Link flags live here and nowhere else: Debian's OpenCV 4.6 (the version
// gocv v0.31.0 is built against).

// #cgo CXXFLAGS: -std=c++14 -O2
// #cgo pkg-config: opencv4
import "C"
