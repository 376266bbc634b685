package facedlib

// Link flags live here and nowhere else. Debian's dlib-1.pc pulls in
// libdlib, BLAS/LAPACK (OpenBLAS through alternatives), libjpeg and libpng.

// #cgo CXXFLAGS: -std=c++14 -O2 -Wno-deprecated-declarations
// #cgo pkg-config: dlib-1
// #cgo LDFLAGS: -ldl
import "C"
