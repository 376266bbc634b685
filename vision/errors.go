package vision

import "errors"

var (
	// ErrNoFace is returned when an image holds no detectable face.
	ErrNoFace = errors.New("vision: no face found")
	// ErrImage is returned when an image cannot be decoded or is malformed.
	ErrImage = errors.New("vision: bad image")
	// ErrImageTooSmall is returned when an image is too small to hold a face.
	ErrImageTooSmall = errors.New("vision: image too small")
	// ErrModel is returned when a model file is missing, corrupt or of the wrong kind.
	ErrModel = errors.New("vision: bad model")
	// ErrModelMismatch is returned when two templates come from different embedding models.
	ErrModelMismatch = errors.New("vision: templates of different models")
	// ErrDescriptor is returned when a descriptor does not have 128 finite values.
	ErrDescriptor = errors.New("vision: bad descriptor")
	// ErrClosed is returned when a Recognizer is used after Close.
	ErrClosed = errors.New("vision: recognizer closed")
	// ErrCalibration is returned when a calibration set lacks genuine or impostor pairs.
	ErrCalibration = errors.New("vision: not enough data to calibrate")
)
