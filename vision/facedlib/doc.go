// Package facedlib is Checkpoint's own cgo binding to dlib 19.24: HOG or
// MMOD-CNN face detection, 68- or 5-point landmarks, alignment to 150×150
// chips and the ResNet-29 metric network that turns a chip into a 128-D
// embedding. It implements vision.Recognizer.
//
// All C++ lives in facerec.cpp behind the C interface of facerec.h; every
// C++ exception is caught there and comes back as an error. Link flags are
// in cgo.go.
//
// Ownership rules: a Recognizer owns the loaded models and a pool of
// workers (detector + network copies: a dlib forward pass is not
// thread-safe), sized by Options.Workers. Close it when done; Close is
// idempotent and waits for calls in flight. Results are copied into Go memory
// before they are returned, so nothing returned refers to C memory.
//
// Errors wrap the sentinels of package vision: ErrModel for a missing or
// corrupt model, ErrImage and ErrImageTooSmall for unusable input, ErrNoFace
// from Faces, ErrClosed after Close.
package facedlib
