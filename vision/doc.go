// Package vision holds the face types and pure-Go logic of Checkpoint's
// face path: images, faces and their quality, the quality policy, distances
// between embeddings, calibrated thresholds, best-of-burst selection and
// threshold calibration.
//
// It has no cgo dependency so that every package that consumes faces builds
// and tests without dlib or OpenCV. The dlib binding lives in
// vision/facedlib and implements [Recognizer].
//
// Ownership rules: every Recognizer must be Closed (Close is idempotent); a
// Face's Descriptor and Chip belong to the Face and are never shared with the
// recognizer that produced them. Faces, chips and descriptors are personal
// data: never log them.
package vision
